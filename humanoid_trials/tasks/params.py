"""Parameters of each task type. Offsets (m) are in the object's frame from the centre of its top surface."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from humanoid_trials.values import Frozen, Identifier, Length, Mass, NonNegative, Positive, Size3, Text, Vec3

Reference = tuple[tuple[str | int, ...], str]
"""(field path inside params, id) of a site object or station that the parameters refer to."""


class Part(Frozen):
    """A part, tote or workpiece: mass (kg) and bounding box (m)."""

    name: Text
    mass_kg: Mass
    size_m: Size3


class TaskParams(Frozen):
    """Common interface of every task type's parameters."""

    two_handed: ClassVar[bool] = False

    def object_refs(self) -> tuple[Reference, ...]:
        """Site objects this task works on, with the field path that names each."""
        return ()

    def station_refs(self) -> tuple[Reference, ...]:
        """Stations named directly (not through an object)."""
        return ()

    def payload_kg(self) -> float:
        """Heaviest mass held at once (kg), tools included."""
        return 0.0


class PickPlace(TaskParams):
    """Pick one part from `source` and place it on `target`."""

    part: Part
    source: Identifier
    target: Identifier
    arm: Literal["any", "left", "right"] = "any"

    def object_refs(self) -> tuple[Reference, ...]:
        return ((("source",), self.source), (("target",), self.target))

    def payload_kg(self) -> float:
        return self.part.mass_kg


class KitItem(Frozen):
    part: Part
    source: Identifier


class Kitting(TaskParams):
    """Pick several parts from their sources into one kit tray (`target`), one at a time."""

    items: tuple[KitItem, ...] = Field(min_length=1)
    target: Identifier

    def object_refs(self) -> tuple[Reference, ...]:
        refs: list[Reference] = [(("items", i, "source"), item.source) for i, item in enumerate(self.items)]
        refs.append((("target",), self.target))
        return tuple(refs)

    def payload_kg(self) -> float:
        return max(item.part.mass_kg for item in self.items)


class Carry(TaskParams):
    """Carry a tote with both hands from one station to another (walk or drive)."""

    two_handed: ClassVar[bool] = True

    tote: Part
    from_station: Identifier
    to_station: Identifier

    def station_refs(self) -> tuple[Reference, ...]:
        return ((("from_station",), self.from_station), (("to_station",), self.to_station))

    def payload_kg(self) -> float:
        return self.tote.mass_kg


class MachineTend(TaskParams):
    """Load a raw part from `source` into `machine`, wait its cycle (s), unload to `target`."""

    machine: Identifier
    part: Part
    source: Identifier
    target: Identifier
    machine_cycle_s: NonNegative

    def object_refs(self) -> tuple[Reference, ...]:
        return ((("machine",), self.machine), (("source",), self.source), (("target",), self.target))

    def payload_kg(self) -> float:
        return self.part.mass_kg


class Fasten(TaskParams):
    """Drive fasteners at points on a fixture with a hand tool (tool mass kg, torque N·m, dwell s per point)."""

    fixture: Identifier
    points_m: tuple[Vec3, ...] = Field(min_length=1)
    tool_mass_kg: Mass
    torque_nm: Positive
    dwell_s: NonNegative = 2.0

    def object_refs(self) -> tuple[Reference, ...]:
        return ((("fixture",), self.fixture),)

    def payload_kg(self) -> float:
        return self.tool_mass_kg


class Inspect(TaskParams):
    """Look at an object from several viewpoints (offsets in m), dwelling at each (s)."""

    object: Identifier
    viewpoints_m: tuple[Vec3, ...] = Field(min_length=1)
    dwell_s: NonNegative = 1.0

    def object_refs(self) -> tuple[Reference, ...]:
        return ((("object",), self.object),)


class Press(TaskParams):
    """Press a button on a panel (offset m) with a force (N) held for `hold_s`."""

    panel: Identifier
    button_m: Vec3
    force_n: Positive
    hold_s: NonNegative = 0.5

    def object_refs(self) -> tuple[Reference, ...]:
        return ((("panel",), self.panel),)


# The (x, y, z) offset type is re-exported for task-layer users.
Offset = tuple[Length, Length, Length]
