"""Task types: an explicit registry of names to parameter schemas.

Motion semantics (the sequence of poses a task needs) live in `humanoid_trials.sim`.
"""

from __future__ import annotations

from humanoid_trials.tasks.params import (
    Carry,
    Fasten,
    Inspect,
    Kitting,
    MachineTend,
    Part,
    PickPlace,
    Press,
    TaskParams,
)

TASK_TYPES: dict[str, type[TaskParams]] = {
    "pick_place": PickPlace,
    "kitting": Kitting,
    "carry": Carry,
    "machine_tend": MachineTend,
    "fasten": Fasten,
    "inspect": Inspect,
    "press": Press,
}

__all__ = [
    "TASK_TYPES",
    "Carry",
    "Fasten",
    "Inspect",
    "Kitting",
    "MachineTend",
    "Part",
    "PickPlace",
    "Press",
    "TaskParams",
]
