"""Power and force limiting (PFL): contact forces and pressures against body-region limits.

The limits are site data: `sites/safety/<name>.yaml`, named by the site's `safety.body_region_limits`
(bundled: `iso_ts_15066`, ISO/TS 15066:2016 Annex A Table A.2, the values ISO 10218-2:2025 refers to).

A contact is *transient* when the body part can recoil (not clamped) and it lasts at most the table's
`transient_max_duration_s` (0.5 s in ISO/TS 15066); otherwise it is *quasi-static*. Transient limits apply to
transient contacts in regions that permit them (2 × quasi-static in Table A.2); everywhere else the quasi-static
limit applies. Pressure is checked when the contact area is known: against the named specific area, or against the
lowest pressure limit of the region when the area is not named.

Where no force is measured (a moving robot meeting a simulated worker), the transient contact force follows from
the energy model of ISO/TS 15066 Annex A.3.3: F = v_rel · √(μ · k), with the body region's effective spring constant
k and effective mass m_H (Table A.3), the robot's effective mass m_R = M/2 + m_L and the reduced mass
μ = (1/m_H + 1/m_R)⁻¹; the largest permissible relative speed is v_max = F_transient / √(μ · k).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from pydantic import model_validator

from humanoid_trials import paths
from humanoid_trials.model.events import SafetyEvent, Severity
from humanoid_trials.model.loader import validate
from humanoid_trials.model.yamlio import load_yaml
from humanoid_trials.safety.errors import LimitTableError
from humanoid_trials.values import Frozen, Identifier, Positive, Text

FORCE_EVENT = "contact_force"
PRESSURE_EVENT = "contact_pressure"


class ContactKind(StrEnum):
    TRANSIENT = "transient"
    QUASI_STATIC = "quasi_static"


class Limit(Frozen):
    """A quasi-static limit and the transient one (None: transient contact not permitted, quasi-static applies)."""

    quasi_static: Positive
    transient: Positive | None

    @model_validator(mode="after")
    def _transient_not_below(self) -> Limit:
        if self.transient is not None and self.transient < self.quasi_static:
            raise ValueError(
                f"transient limit {self.transient} is below the quasi-static limit {self.quasi_static}: "
                "a short contact is never held to a lower limit than a clamping one"
            )
        return self

    def for_kind(self, kind: ContactKind) -> float:
        if kind is ContactKind.TRANSIENT and self.transient is not None:
            return self.transient
        return self.quasi_static


class BodyRegion(Frozen):
    """Force limit (N) of a body region and pressure limits (N/cm²) of its specific areas."""

    name: Text
    spring_constant_n_mm: Positive
    effective_mass_kg: Positive
    force_n: Limit
    pressure_n_cm2: Mapping[Identifier, Limit]

    @model_validator(mode="after")
    def _has_areas(self) -> BodyRegion:
        if not self.pressure_n_cm2:
            raise ValueError("pressure_n_cm2 needs at least one specific area")
        return self

    def pressure_limit(self, area: str | None, kind: ContactKind) -> tuple[str, float]:
        """(area id, limit N/cm²): the named area's, or the region's lowest when `area` is None."""
        if area is None:
            return min(((a, lim.for_kind(kind)) for a, lim in self.pressure_n_cm2.items()), key=lambda p: p[1])
        if area not in self.pressure_n_cm2:
            raise LimitTableError(
                f"body region {self.name!r} has no specific area {area!r}; known: {', '.join(self.pressure_n_cm2)}"
            )
        return area, self.pressure_n_cm2[area].for_kind(kind)


class BodyRegionTable(Frozen):
    """A body-region limit table (site data)."""

    id: Identifier
    source: Text
    transient_max_duration_s: Positive
    regions: Mapping[Identifier, BodyRegion]

    def region(self, region_id: str) -> BodyRegion:
        try:
            return self.regions[region_id]
        except KeyError as exc:
            raise LimitTableError(
                f"body-region table {self.id!r} has no region {region_id!r}; known: {', '.join(self.regions)}"
            ) from exc


def robot_effective_mass_kg(moving_mass_kg: float, payload_kg: float) -> float:
    """m_R = M/2 + m_L (kg): half the moving mass of the robot plus its payload (ISO/TS 15066 A.3.3)."""
    return moving_mass_kg / 2.0 + payload_kg


def _impact_stiffness(region: BodyRegion, robot_mass_kg: float) -> float:
    """√(μ · k) in N·s/m: μ = (1/m_H + 1/m_R)⁻¹ (kg), k in N/m."""
    reduced_mass = 1.0 / (1.0 / region.effective_mass_kg + 1.0 / robot_mass_kg)
    return math.sqrt(reduced_mass * region.spring_constant_n_mm * 1000.0)


def transient_force_n(region: BodyRegion, relative_speed_m_s: float, robot_mass_kg: float) -> float:
    """Peak force (N) of a free impact at `relative_speed_m_s` of a robot with effective mass `robot_mass_kg` (kg)."""
    return max(0.0, relative_speed_m_s) * _impact_stiffness(region, robot_mass_kg)


def max_transient_speed_m_s(region: BodyRegion, robot_mass_kg: float) -> float:
    """Largest relative speed (m/s) whose free impact stays within the region's transient force limit (the
    quasi-static one where transient contact is not permitted)."""
    return region.force_n.for_kind(ContactKind.TRANSIENT) / _impact_stiffness(region, robot_mass_kg)


def table_path(name: str, root: Path | None = None) -> Path:
    """`<root or sites_dir()>/safety/<name>.yaml`."""
    return (root or paths.sites_dir()) / "safety" / f"{name}.yaml"


def load_limit_table(name: str, root: Path | None = None) -> BodyRegionTable:
    """Load `sites/safety/<name>.yaml`. Raises ConfigError (file:line:column: field: problem) when it is wrong."""
    table = validate(load_yaml(table_path(name, root)), BodyRegionTable)
    if table.id != name:
        raise LimitTableError(f"{table_path(name, root)}: id {table.id!r} does not match the file name {name!r}")
    return table


@dataclass(frozen=True)
class Contact:
    """One contact between a robot and a person (sim: robot link vs a worker body tagged with regions).

    `force_n` is the peak normal force (N); `duration_s` how long the contact lasted (s); `clamped` when the body
    part was trapped and could not recoil; `contact_area_cm2` when known (then pressure is checked too).
    """

    robot_id: str
    region: str
    force_n: float
    duration_s: float
    clamped: bool = False
    area: str | None = None
    contact_area_cm2: float | None = None
    robot_link: str = ""
    location_m: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class ContactCheck:
    """A contact's force (and pressure, when the area is known) against its limits."""

    contact: Contact
    kind: ContactKind
    force_limit_n: float
    pressure_area: str | None
    pressure_n_cm2: float | None
    pressure_limit_n_cm2: float | None

    @property
    def force_exceeded(self) -> bool:
        return self.contact.force_n > self.force_limit_n

    @property
    def pressure_exceeded(self) -> bool:
        return (
            self.pressure_n_cm2 is not None
            and self.pressure_limit_n_cm2 is not None
            and self.pressure_n_cm2 > self.pressure_limit_n_cm2
        )


def contact_kind(table: BodyRegionTable, contact: Contact) -> ContactKind:
    if contact.clamped or contact.duration_s > table.transient_max_duration_s:
        return ContactKind.QUASI_STATIC
    return ContactKind.TRANSIENT


def check_contact(table: BodyRegionTable, contact: Contact) -> ContactCheck:
    """Compare one contact with the table. Raises LimitTableError for an unknown region or area."""
    region = table.region(contact.region)
    kind = contact_kind(table, contact)
    area: str | None = None
    pressure: float | None = None
    pressure_limit: float | None = None
    if contact.contact_area_cm2 is not None:
        if contact.contact_area_cm2 <= 0.0:
            raise LimitTableError(f"contact area must be > 0 cm², got {contact.contact_area_cm2}")
        area, pressure_limit = region.pressure_limit(contact.area, kind)
        pressure = contact.force_n / contact.contact_area_cm2
    return ContactCheck(contact, kind, region.force_n.for_kind(kind), area, pressure, pressure_limit)


def contact_events(
    site_id: str,
    table: BodyRegionTable,
    contacts: Iterable[Contact],
    now: datetime,
    trial_id: uuid.UUID | None = None,
) -> list[SafetyEvent]:
    """One critical event per exceeded limit: `contact_force` (N) and/or `contact_pressure` (N/cm²)."""
    events: list[SafetyEvent] = []
    for contact in contacts:
        check = check_contact(table, contact)
        region = table.region(contact.region)
        evidence: dict[str, object] = {
            "table": table.id,
            "source": table.source,
            "region": contact.region,
            "region_name": region.name,
            "contact_kind": check.kind.value,
            "duration_s": contact.duration_s,
            "clamped": contact.clamped,
            "robot_link": contact.robot_link,
            "force_n": contact.force_n,
            "force_limit_n": check.force_limit_n,
        }
        found: list[tuple[str, float, float, str]] = []
        if check.force_exceeded:
            found.append((FORCE_EVENT, contact.force_n, check.force_limit_n, "N"))
        if check.pressure_exceeded and check.pressure_n_cm2 is not None and check.pressure_limit_n_cm2 is not None:
            evidence |= {
                "area": check.pressure_area,
                "contact_area_cm2": contact.contact_area_cm2,
                "pressure_n_cm2": check.pressure_n_cm2,
                "pressure_limit_n_cm2": check.pressure_limit_n_cm2,
            }
            found.append((PRESSURE_EVENT, check.pressure_n_cm2, check.pressure_limit_n_cm2, "N/cm2"))
        for event_type, measured, limit, unit in found:
            events.append(
                SafetyEvent(
                    site_id=site_id,
                    type=event_type,
                    severity=Severity.CRITICAL,
                    robot_id=contact.robot_id,
                    measured=measured,
                    limit=limit,
                    unit=unit,
                    location_m=contact.location_m,
                    evidence=dict(evidence),
                    trial_id=trial_id,
                    stamp=now,
                )
            )
    return events
