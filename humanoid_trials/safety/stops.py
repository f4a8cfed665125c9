"""Emergency and protective stop bookkeeping for a site or one robot.

Every stop request is booked per robot; when the robot reports that it stands still, the stop becomes a safety event
(`emergency_stop` / `protective_stop`) whose measured value is the time from the request to the robot's report (s),
against the site's budget T_r + T_s (the times S_p assumes; ISO 10218-2 / ISO/TS 15066 5.5.4). A stop that is not
confirmed within `confirm_timeout_s` becomes a critical event. Resuming is explicit: `resume` names who and why, and
is recorded as a `resume` trial event; a robot under a site-wide stop resumes only with the site.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from humanoid_trials.model.events import EventKind, SafetyEvent, Severity, TrialEvent
from humanoid_trials.model.site import SafetyParams
from humanoid_trials.safety.errors import ResumeRefusedError, StopError


class StopKind(StrEnum):
    EMERGENCY = "emergency_stop"
    PROTECTIVE = "protective_stop"


SITE = ""
"""Scope of a site-wide stop or resume (the robot id field of ProtectiveStop.srv is empty)."""


@dataclass
class StopRecord:
    """One robot's part of one stop request. Times are UTC."""

    robot_id: str
    kind: StopKind
    cause: str
    requested_by: str
    requested_at: datetime
    site_wide: bool
    stop_id: uuid.UUID = field(default_factory=uuid.uuid4)
    stopped_at: datetime | None = None
    reported: bool = False

    @property
    def time_to_stop_s(self) -> float | None:
        return None if self.stopped_at is None else (self.stopped_at - self.requested_at).total_seconds()


@dataclass(frozen=True)
class ResumeRecord:
    """An explicit resume of one robot: which stops it ended, who asked, why, and how long the robot was held."""

    robot_id: str
    stop_ids: tuple[uuid.UUID, ...]
    requested_by: str
    reason: str
    at: datetime
    held_for_s: float
    confirmed: bool

    def to_event(self, site_id: str, trial_id: uuid.UUID) -> TrialEvent:
        """The `resume` trial event."""
        return TrialEvent(
            trial_id=trial_id,
            kind=EventKind.RESUME,
            payload={
                "site_id": site_id,
                "robot_id": self.robot_id,
                "stop_ids": [str(s) for s in self.stop_ids],
                "requested_by": self.requested_by,
                "reason": self.reason,
                "held_for_s": self.held_for_s,
                "stop_confirmed": self.confirmed,
            },
            stamp=self.at,
        )


class StopLedger:
    """Stops and resumes of the robots of one site."""

    def __init__(
        self, site_id: str, robot_ids: tuple[str, ...], params: SafetyParams, *, confirm_timeout_s: float = 2.0
    ) -> None:
        if not robot_ids:
            raise StopError(f"site {site_id!r} has no robots to stop")
        self.site_id = site_id
        self.robot_ids = robot_ids
        self.budget_s = params.reaction_time_s + params.stopping_time_s
        self.confirm_timeout_s = confirm_timeout_s
        self._active: dict[str, list[StopRecord]] = {r: [] for r in robot_ids}
        self._standing: set[str] = set()

    def active(self, robot_id: str) -> tuple[StopRecord, ...]:
        """Stops holding `robot_id` (not yet resumed)."""
        return tuple(self._active[self._known(robot_id)])

    def stopped(self, robot_id: str) -> bool:
        return bool(self._active[self._known(robot_id)])

    def _known(self, robot_id: str) -> str:
        if robot_id not in self._active:
            raise StopError(f"site {self.site_id!r} has no robot {robot_id!r}; robots: {', '.join(self.robot_ids)}")
        return robot_id

    def stop(
        self,
        kind: StopKind,
        cause: str,
        now: datetime,
        *,
        robot_id: str = SITE,
        requested_by: str = "",
        trial_id: uuid.UUID | None = None,
    ) -> tuple[list[StopRecord], list[SafetyEvent]]:
        """Book a stop of one robot or (robot_id == SITE) of every robot of the site.

        Returns the new records and the events of robots that already stand still (time to stop 0 s)."""
        targets = self.robot_ids if robot_id == SITE else (self._known(robot_id),)
        records = [StopRecord(r, kind, cause, requested_by, now, site_wide=robot_id == SITE) for r in targets]
        events: list[SafetyEvent] = []
        for record in records:
            self._active[record.robot_id].append(record)
            if record.robot_id in self._standing:
                record.stopped_at = now
                events.append(self._event(record, trial_id))
        return records, events

    def robot_reported(
        self, robot_id: str, standing: bool, now: datetime, trial_id: uuid.UUID | None = None
    ) -> list[SafetyEvent]:
        """A robot's status: standing still (stopped) or moving/working. Completes its pending stops."""
        self._known(robot_id)
        if not standing:
            self._standing.discard(robot_id)
            return []
        self._standing.add(robot_id)
        events: list[SafetyEvent] = []
        for record in self._active[robot_id]:
            if record.stopped_at is None:
                record.stopped_at = now
                if not record.reported:
                    events.append(self._event(record, trial_id))
        return events

    def tick(self, now: datetime, trial_id: uuid.UUID | None = None) -> list[SafetyEvent]:
        """Critical events for stops not confirmed within `confirm_timeout_s`."""
        events: list[SafetyEvent] = []
        for records in self._active.values():
            for record in records:
                waited = (now - record.requested_at).total_seconds()
                if record.stopped_at is None and not record.reported and waited > self.confirm_timeout_s:
                    events.append(self._event(record, trial_id, unconfirmed_at=now))
        return events

    def resume(self, now: datetime, *, robot_id: str = SITE, requested_by: str, reason: str) -> list[ResumeRecord]:
        """End the stops of one robot (its own, not site-wide ones) or of the site (site-wide ones).

        Raises ResumeRefusedError when nothing in that scope is stopped or a robot is still under a site-wide stop."""
        if not requested_by or not reason:
            raise ResumeRefusedError("a resume must name who requests it and why (requested_by, reason)")
        site_wide = robot_id == SITE
        targets = self.robot_ids if site_wide else (self._known(robot_id),)
        if not site_wide and any(r.site_wide for r in self._active[robot_id]):
            raise ResumeRefusedError(
                f"robot {robot_id!r} is under a site-wide stop of site {self.site_id!r}: resume the site first"
            )
        resumed: list[ResumeRecord] = []
        for target in targets:
            ending = [r for r in self._active[target] if r.site_wide == site_wide]
            if not ending:
                continue
            self._active[target] = [r for r in self._active[target] if r.site_wide != site_wide]
            resumed.append(
                ResumeRecord(
                    robot_id=target,
                    stop_ids=tuple(r.stop_id for r in ending),
                    requested_by=requested_by,
                    reason=reason,
                    at=now,
                    held_for_s=(now - min(r.requested_at for r in ending)).total_seconds(),
                    confirmed=all(r.stopped_at is not None for r in ending),
                )
            )
        if not resumed:
            scope = f"robot {robot_id!r}" if not site_wide else f"site {self.site_id!r}"
            raise ResumeRefusedError(
                f"nothing to resume: {scope} has no active {'site-wide ' if site_wide else ''}stop"
            )
        return resumed

    def _event(
        self, record: StopRecord, trial_id: uuid.UUID | None, *, unconfirmed_at: datetime | None = None
    ) -> SafetyEvent:
        """The stop's event: time to stopped (s) against T_r + T_s, or the wait so far when it is unconfirmed."""
        record.reported = True
        evidence: dict[str, object] = {
            "stop_id": str(record.stop_id),
            "cause": record.cause,
            "requested_by": record.requested_by,
            "scope": "site" if record.site_wide else "robot",
            "requested_at": record.requested_at.isoformat(),
            "budget_s": self.budget_s,
        }
        if unconfirmed_at is not None:
            measured = (unconfirmed_at - record.requested_at).total_seconds()
            severity = Severity.CRITICAL
            evidence["confirmed"] = False
            stamp = unconfirmed_at
        else:
            measured = record.time_to_stop_s or 0.0
            evidence["confirmed"] = True
            evidence["stopped_at"] = record.stopped_at.isoformat() if record.stopped_at else None
            if measured > self.budget_s:
                severity = Severity.CRITICAL
            elif record.kind is StopKind.EMERGENCY:
                severity = Severity.WARNING
            else:
                severity = Severity.INFO
            stamp = record.stopped_at or record.requested_at
        return SafetyEvent(
            site_id=self.site_id,
            type=record.kind.value,
            severity=severity,
            robot_id=record.robot_id,
            measured=measured,
            limit=self.budget_s,
            unit="s",
            evidence=evidence,
            trial_id=trial_id,
            stamp=stamp,
        )
