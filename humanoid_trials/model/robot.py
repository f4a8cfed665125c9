"""Robot profiles: what a robot model is and can do (one profile.yaml per model under sim/robots/)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from humanoid_trials.values import (
    Frozen,
    Identifier,
    Mass,
    Point2,
    Positive,
    PositiveLength,
    PositiveMass,
    Text,
    UniqueIds,
)

RobotKind = Literal["biped", "wheeled"]


class Payload(Frozen):
    """Payload limits (kg): per arm and for both arms together."""

    per_arm: Mass
    total: Mass

    @model_validator(mode="after")
    def _total_covers_arm(self) -> Payload:
        if self.total < self.per_arm:
            raise ValueError(f"total ({self.total} kg) is smaller than per_arm ({self.per_arm} kg)")
        return self


class ArmChain(Frozen):
    """One arm: its joints from shoulder to wrist, and the tool centre point link."""

    name: Identifier
    joints: tuple[Identifier, ...] = Field(min_length=1)
    end_effector_link: Identifier


class Support(Frozen):
    """Support polygon for balance: sole links (biped) or a footprint polygon in the base frame (wheeled), m."""

    feet: tuple[Identifier, ...] = ()
    footprint_m: tuple[Point2, ...] = ()


class RobotProfile(Frozen):
    """A robot model. Units: kg, m, rad/s, m/s, h, s. `urdf` is resolved to an absolute path when loaded."""

    id: Identifier
    name: Text
    maker: Text
    kind: RobotKind
    dof: int = Field(gt=0, le=200)
    mass_kg: PositiveMass
    height_m: PositiveLength
    payload_kg: Payload
    reach_m: PositiveLength
    max_joint_speed_rad_s: Positive
    max_walk_speed_m_s: Positive | None = None
    max_drive_speed_m_s: Positive | None = None
    battery_runtime_h: Positive
    urdf: Text
    base_link: Identifier
    arms: tuple[ArmChain, ...] = Field(min_length=1)
    support: Support
    capabilities: UniqueIds = Field(min_length=1)
    grasp_time_s: Positive = 0.6

    @model_validator(mode="after")
    def _kind_consistent(self) -> RobotProfile:
        if self.kind == "biped":
            if self.max_walk_speed_m_s is None:
                raise ValueError("a biped needs max_walk_speed_m_s")
            if not self.support.feet:
                raise ValueError("a biped needs support.feet (its sole links)")
        else:
            if self.max_drive_speed_m_s is None:
                raise ValueError("a wheeled robot needs max_drive_speed_m_s")
            if len(self.support.footprint_m) < 3:
                raise ValueError("a wheeled robot needs support.footprint_m with at least 3 points")
        return self

    @property
    def max_base_speed_m_s(self) -> float:
        """Walking speed for a biped, driving speed for a wheeled robot (m/s)."""
        speed = self.max_walk_speed_m_s if self.kind == "biped" else self.max_drive_speed_m_s
        return float(speed or 0.0)

    @property
    def urdf_path(self) -> Path:
        return Path(self.urdf)

    def arm(self, name: str) -> ArmChain:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(f"robot model {self.id!r} has no arm {name!r}")
