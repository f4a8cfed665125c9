"""Task-type registry and what each type's parameters say about payload and references."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from humanoid_trials.tasks import TASK_TYPES, Carry, Fasten, Kitting, PickPlace

PART = {"name": "p", "mass_kg": 1.5, "size_m": (0.1, 0.1, 0.1)}


def test_registry_has_the_seven_task_types() -> None:
    assert set(TASK_TYPES) == {"pick_place", "kitting", "carry", "machine_tend", "fasten", "inspect", "press"}


def test_payload_is_the_heaviest_mass_held_at_once() -> None:
    kit = Kitting.model_validate(
        {"items": ({"part": PART, "source": "a"}, {"part": {**PART, "mass_kg": 2.5}, "source": "b"}), "target": "t"}
    )
    assert kit.payload_kg() == 2.5
    fasten = Fasten.model_validate(
        {"fixture": "f", "points_m": ((0.0, 0.0, 0.0),), "tool_mass_kg": 1.2, "torque_nm": 20.0}
    )
    assert fasten.payload_kg() == 1.2


def test_references_carry_their_field_paths() -> None:
    kit = Kitting.model_validate(
        {"items": ({"part": PART, "source": "a"}, {"part": PART, "source": "b"}), "target": "t"}
    )
    assert kit.object_refs() == ((("items", 0, "source"), "a"), (("items", 1, "source"), "b"), (("target",), "t"))
    carry = Carry.model_validate({"tote": PART, "from_station": "s1", "to_station": "s2"})
    assert carry.station_refs() == ((("from_station",), "s1"), (("to_station",), "s2"))
    assert Carry.two_handed and not PickPlace.two_handed


def test_parameters_are_frozen_and_strict() -> None:
    pick = PickPlace.model_validate({"part": PART, "source": "a", "target": "b"})
    with pytest.raises(ValidationError):
        pick.source = "c"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        PickPlace.model_validate({"part": PART, "source": "a", "target": "b", "arm": "middle"})
