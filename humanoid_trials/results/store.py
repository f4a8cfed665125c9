"""The results store: writes trial events, sites, scenarios and validations; one session per unit of work.

Writes are idempotent by event UUID (INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL) and batched, so a
restarted recorder can replay its events. Event → rows:
`trial_started` → trial (+ site and robot rows), `trial_finished`/`trial_stopped` → trial end, `attempt_finished`
→ attempt, `safety` → safety_event; every event → trial_event.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Uuid, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.dml import Insert

from humanoid_trials.model.events import EventKind, SafetyEvent, TrialEvent, TrialInfo
from humanoid_trials.model.validation import ValidationReport
from humanoid_trials.results import db
from humanoid_trials.results.errors import EventError, MigrationError, StoreError
from humanoid_trials.results.models import (
    AttemptRow,
    Base,
    RobotRow,
    SafetyEventRow,
    ScenarioRow,
    SiteRow,
    TrialEventRow,
    TrialRow,
    UtcDateTime,
    ValidationRow,
    ValidationTaskRow,
)

log = logging.getLogger(__name__)

BATCH_SIZE = 20000
_UNKNOWN: tuple[str | None, str | None] = (None, None)
_KIND_VALUES = {kind: kind.value for kind in EventKind}
_END_KINDS = {EventKind.TRIAL_FINISHED: "finished", EventKind.TRIAL_STOPPED: "stopped"}


def _batched(items: Iterable[TrialEvent], size: int) -> Iterator[list[TrialEvent]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _time(value: str, event: TrialEvent, key: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise EventError(f"event {event.event_id} ({event.kind.value}): payload.{key}={value!r} is not an ISO time")\
            from exc
    if parsed.tzinfo is None:
        raise EventError(f"event {event.event_id} ({event.kind.value}): payload.{key}={value!r} has no timezone")
    return parsed


def _report_time(report: ValidationReport) -> datetime:
    if not report.created_at:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(report.created_at)
    except ValueError as exc:
        raise StoreError(f"validation of {report.scenario_id!r}: created_at={report.created_at!r} is not an ISO "
                         f"8601 time") from exc
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _identity(value: Any) -> Any:
    return value


class _BulkInsert:
    """INSERT … ON CONFLICT DO NOTHING of positional rows (in the table's column order) for the high-volume tables.

    On SQLite the statement is compiled once and rows whose values already went through the column types' bind
    processors (`Binders`) go straight to the driver's executemany: exactly what Core would store, without Core's
    per-row parameter assembly (the ingest hot path). Other dialects get dicts through Core (batched
    insertmanyvalues on PostgreSQL), whose `Binders` are identities.
    """

    def __init__(self, statement: Insert, model: type[Base], dialect: Dialect) -> None:
        self.statement = statement
        self.names = tuple(column.name for column in model.__table__.columns)
        self.driver_sql: str | None = None
        if dialect.name == "sqlite":
            compiled = statement.compile(dialect=dialect)
            if tuple(compiled.positiontup or ()) != self.names:
                raise StoreError(f"{model.__tablename__}: compiled INSERT parameters {compiled.positiontup} do not "
                                 f"follow the table's columns {self.names}")
            self.driver_sql = str(compiled)

    def execute(self, conn: Connection, rows: list[tuple[Any, ...]]) -> None:
        if self.driver_sql is None:
            conn.execute(self.statement, [dict(zip(self.names, row, strict=True)) for row in rows])
        else:
            conn.exec_driver_sql(self.driver_sql, rows)


class Binders:
    """Bind processors of the store's column types (Uuid, UtcDateTime, JSON) for rows sent straight to the driver;
    identities where Core processes the values itself."""

    def __init__(self, dialect: Dialect) -> None:
        direct = dialect.name == "sqlite"

        def get(kind: Any) -> Any:
            return (kind.dialect_impl(dialect).bind_processor(dialect) if direct else None) or _identity

        self.uuid = get(Uuid())
        self.time = get(UtcDateTime())
        self.json = get(JSON())
        self._direct = direct

    def iso_time(self, text: str, parsed: datetime) -> Any:
        """A time given both as its ISO 8601 text and parsed: on SQLite a UTC text ("…T…+00:00") becomes the
        stored text by slicing (exactly what the UtcDateTime processor produces); otherwise the value goes through
        the processor."""
        if self._direct and text.endswith("+00:00") and text[10:11] == "T":
            clock = text[11:-6]
            if len(clock) == 8:
                return f"{text[:10]} {clock}.000000"
            if len(clock) == 15:
                return f"{text[:10]} {clock}"
        return self.time(parsed)


class Store:
    """The results database at `url` (default: `db.default_url()`).

    A new SQLite file (or an empty SQLite database) is migrated to the head revision on open; any other database
    must already be at head (`humanoid-trials db upgrade`), else `MigrationError`.
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.url = url or db.default_url()
        self.engine = engine if engine is not None else db.make_engine(self.url)
        self._trial_sites: dict[uuid.UUID, tuple[str, str]] = {}
        self._bulk: dict[type[Base], _BulkInsert] = {}
        self._bind = Binders(self.engine.dialect)
        self._check_schema()

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def _check_schema(self) -> None:
        head = db.head_revision()
        current = db.current_revision(self.engine)
        if current == head:
            return
        if current is None and self.engine.dialect.name == "sqlite" and db.is_empty(self.engine):
            db.upgrade(self.engine)
            return
        shown = db.display_url(self.url)
        state = f"at revision {current}" if current else "not initialised"
        raise MigrationError(f"database {shown} is {state}, this version needs {head}: "
                             f"run `humanoid-trials db upgrade --db {shown}`")

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------------------------------------------

    def _insert(self, model: type[Base]) -> Insert:
        """INSERT … ON CONFLICT DO NOTHING for this engine's dialect."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(model).on_conflict_do_nothing()
        if self.engine.dialect.name == "sqlite":
            return sqlite.insert(model).on_conflict_do_nothing()
        raise StoreError(f"database {db.display_url(self.url)}: dialect {self.engine.dialect.name!r} is not "
                         f"supported (sqlite or postgresql)")

    def _write(self, conn: Connection, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            conn.execute(self._insert(model), list(rows))

    def _write_rows(self, conn: Connection, model: type[Base], rows: list[tuple[Any, ...]]) -> None:
        """Insert positional rows (table column order), ignoring ones whose key exists."""
        if not rows:
            return
        bulk = self._bulk.get(model)
        if bulk is None:
            bulk = self._bulk[model] = _BulkInsert(self._insert(model), model, self.engine.dialect)
        bulk.execute(conn, rows)

    # -- catalog ---------------------------------------------------------------------------------------------------

    def register_site(self, site: Any) -> None:
        """Store or refresh a `humanoid_trials.model.Site` and its deployed robots (robot model = profile id)."""
        self.save_site(site.id, name=site.name, company=site.company, industry=str(site.industry),
                       city=site.location.city, country=site.location.country, takt_time_s=float(site.takt_time_s),
                       robots={r.id: r.profile for r in site.robots})

    def save_site(self, site_id: str, *, name: str = "", company: str = "", industry: str = "", city: str = "",
                  country: str = "", takt_time_s: float | None = None, robots: Mapping[str, str] | None = None) -> None:
        """Store or refresh a site (takt in s) and its robots (robot id -> robot model)."""
        values = {"name": name, "company": company, "industry": industry, "city": city, "country": country,
                  "takt_time_s": takt_time_s}
        try:
            with self.engine.begin() as conn:
                self._write(conn, SiteRow, [{"id": site_id, **values}])
                conn.execute(update(SiteRow).where(SiteRow.id == site_id).values(**values))
                for robot_id, model in (robots or {}).items():
                    self._write(conn, RobotRow, [{"site_id": site_id, "id": robot_id, "model": model,
                                                            "kind": ""}])
                    conn.execute(update(RobotRow).where(RobotRow.site_id == site_id, RobotRow.id == robot_id)
                                 .values(model=model))
        except SQLAlchemyError as exc:
            raise StoreError(f"storing site {site_id!r} in {db.display_url(self.url)} failed: "
                             f"{db.reason(exc)}") from exc

    def register_scenario(self, scenario_id: str, site_id: str, content_hash: str, file_text: str,
                          description: str = "") -> None:
        """Store one version of a scenario file (idempotent by scenario id and content hash)."""
        row = {"scenario_id": scenario_id, "content_hash": content_hash, "site_id": site_id,
               "description": description, "file_text": file_text, "registered_at": datetime.now(UTC)}
        try:
            with self.engine.begin() as conn:
                self._write(conn, ScenarioRow, [row])
        except SQLAlchemyError as exc:
            raise StoreError(f"storing scenario {scenario_id!r} in {db.display_url(self.url)} failed: "
                             f"{db.reason(exc)}") from exc

    def register_catalog(self, catalog: Any) -> None:
        """Store every site of a `humanoid_trials.model.Catalog` and every scenario version with its file text."""
        for site in catalog.sites.values():
            self.register_site(site)
        for scenario_id, scenario in catalog.scenarios.items():
            text = Path(scenario.source_path).read_text(encoding="utf-8") if scenario.source_path else ""
            self.register_scenario(scenario_id, scenario.site, catalog.content_hash(scenario_id), text,
                                   scenario.description)

    # -- validations -----------------------------------------------------------------------------------------------

    def save_validation(self, report: ValidationReport) -> uuid.UUID:
        """Store a pre-validation report with its per-task, per-robot verdicts; returns its id.

        The id is derived from the report's fingerprint and creation time, so saving the same report twice stores it
        once. A report without `created_at` is stamped now.
        """
        created = _report_time(report)
        key = f"{report.scenario_id}|{report.content_hash}|{created.isoformat()}|{report.fingerprint()}"
        validation_id = uuid.uuid5(uuid.NAMESPACE_URL, key)
        row = {"id": validation_id, "scenario_id": report.scenario_id, "content_hash": report.content_hash,
               "site_id": report.site_id, "verdict": report.verdict.value, "passed": report.passed,
               "software_version": report.software_version, "created_at": created, "report": report.to_dict()}
        tasks = [{"validation_id": validation_id, "task_id": task.task_id, "robot_id": robot.robot_id,
                  "task_type": task.task_type, "robot_model": robot.profile_id, "verdict": robot.verdict.value,
                  "estimated_cycle_s": robot.estimated_cycle_s, "reasons": [r.to_dict() for r in robot.reasons]}
                 for task in report.tasks for robot in task.robots]
        try:
            with self.engine.begin() as conn:
                self._write(conn, ValidationRow, [row])
                self._write(conn, ValidationTaskRow, tasks)
        except SQLAlchemyError as exc:
            raise StoreError(f"storing the validation of {report.scenario_id!r} in {db.display_url(self.url)} "
                             f"failed: {db.reason(exc)}") from exc
        return validation_id

    def latest_validation(self, scenario_id: str) -> ValidationReport | None:
        """The most recent validation report of `scenario_id` (any content hash), None if it was never validated."""
        query = (select(ValidationRow.report).where(ValidationRow.scenario_id == scenario_id)
                 .order_by(ValidationRow.created_at.desc()).limit(1))
        try:
            with self.engine.connect() as conn:
                data = conn.execute(query).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the validation of {scenario_id!r} from {db.display_url(self.url)} failed: "
                             f"{db.reason(exc)}") from exc
        return None if data is None else ValidationReport.from_dict(data)

    # -- events ----------------------------------------------------------------------------------------------------

    def record_events(self, events: Iterable[TrialEvent]) -> int:
        """Write trial events (idempotent by event UUID), in batches of `BATCH_SIZE`, one transaction per batch.

        Returns the number of events handled (replayed duplicates included).
        """
        handled = 0
        for chunk in _batched(events, BATCH_SIZE):
            try:
                with self.engine.begin() as conn:
                    self._record_chunk(conn, chunk)
            except SQLAlchemyError as exc:
                raise StoreError(f"writing {len(chunk)} events (first {chunk[0].event_id}) to "
                                 f"{db.display_url(self.url)} failed: {db.reason(exc)}") from exc
            handled += len(chunk)
        return handled

    def _record_chunk(self, conn: Connection, chunk: list[TrialEvent]) -> None:
        trials: list[dict[str, Any]] = []
        robots: dict[tuple[str, str], dict[str, Any]] = {}
        ends: list[TrialEvent] = []
        attempt_events: list[TrialEvent] = []
        safety: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        attempt, safety_kind, started = EventKind.ATTEMPT_FINISHED, EventKind.SAFETY, EventKind.TRIAL_STARTED
        bind = self._bind
        uuid_, time_, json_ = bind.uuid, bind.time, bind.json
        for ev in chunk:
            payload = ev.payload
            kind = ev.kind
            stamp = ev.stamp
            if stamp.tzinfo is None:
                raise EventError(f"event {ev.event_id} ({kind.value}, trial {ev.trial_id}): naive datetime stamp "
                                 f"{stamp.isoformat()}: event times must be timezone-aware UTC")
            # trial_event columns: id, trial_id, kind, stamp, t_s, robot_id, payload
            event_rows.append((uuid_(ev.event_id), uuid_(ev.trial_id), _KIND_VALUES[kind], time_(stamp),
                               stamp.timestamp(), str(payload.get("robot_id") or ""),
                               json_(payload if isinstance(payload, dict) else dict(payload))))
            if kind is attempt:
                attempt_events.append(ev)
            elif kind is safety_kind:
                safety.append(self._safety_row(ev, bind))
            elif kind is started:
                info = self._trial_info(ev)
                trials.append({"id": ev.trial_id, "site_id": info.site_id, "scenario_id": info.scenario_id,
                               "scenario_hash": info.scenario_hash, "mode": info.mode,
                               "software_version": info.software_version, "operator": info.operator,
                               "robot_count": len(info.robots), "started_at": info.started_at, "finished_at": None,
                               "duration_s": None, "status": "running"})
                for robot_id, model in info.robots.items():
                    robots[(info.site_id, robot_id)] = {"site_id": info.site_id, "id": robot_id, "model": model,
                                                        "kind": ""}
            elif kind in _END_KINDS:
                ends.append(ev)
        new_sites = {t["site_id"] for t in trials} | {row[2] for row in safety}
        self._write(conn, SiteRow, [{"id": s, "name": "", "company": "", "industry": "", "city": "", "country": "",
                                     "takt_time_s": None} for s in sorted(new_sites)])
        self._write(conn, TrialRow, trials)
        self._write(conn, RobotRow, list(robots.values()))
        for trial in trials:
            self._trial_sites[trial["id"]] = (trial["site_id"], trial["mode"])
        self._write_rows(conn, TrialEventRow, event_rows)
        if attempt_events:
            sites = self._sites_of(conn, {ev.trial_id for ev in attempt_events})
            self._write_rows(conn, AttemptRow, [self._attempt_row(ev, sites.get(ev.trial_id, _UNKNOWN), bind)
                                                for ev in attempt_events])
        self._write_rows(conn, SafetyEventRow, safety)
        for trial in trials:  # attempts replayed before their trial_started event get their site now
            conn.execute(update(AttemptRow).where(AttemptRow.trial_id == trial["id"], AttemptRow.site_id.is_(None))
                         .values(site_id=trial["site_id"], mode=trial["mode"]))
        if ends:
            self._finish_trials(conn, ends)

    def _sites_of(self, conn: Connection, trial_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        """(site id, mode) of known trials."""
        missing = [t for t in trial_ids if t not in self._trial_sites]
        if missing:
            rows = conn.execute(select(TrialRow.id, TrialRow.site_id, TrialRow.mode).where(TrialRow.id.in_(missing)))
            self._trial_sites.update({row.id: (row.site_id, row.mode) for row in rows})
        return {t: self._trial_sites[t] for t in trial_ids if t in self._trial_sites}

    def _finish_trials(self, conn: Connection, ends: list[TrialEvent]) -> None:
        ids = {ev.trial_id for ev in ends}
        started = {row.id: row.started_at for row in conn.execute(select(TrialRow.id, TrialRow.started_at)
                                                                  .where(TrialRow.id.in_(ids)))}
        for ev in ends:
            start = started.get(ev.trial_id)
            if start is None:
                log.warning("event %s: %s for unknown trial %s ignored for the trial table", ev.event_id,
                            ev.kind.value, ev.trial_id)
                continue
            conn.execute(update(TrialRow).where(TrialRow.id == ev.trial_id).values(
                finished_at=ev.stamp, duration_s=max(0.0, (ev.stamp - start).total_seconds()),
                status=_END_KINDS[ev.kind]))

    @staticmethod
    def _trial_info(ev: TrialEvent) -> TrialInfo:
        data = dict(ev.payload)
        data.setdefault("trial_id", str(ev.trial_id))
        data.setdefault("started_at", ev.stamp.isoformat())
        try:
            return TrialInfo.from_payload(data)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise EventError(f"event {ev.event_id} (trial_started, trial {ev.trial_id}): bad payload: {exc!r}; "
                             f"expected TrialInfo.to_payload() fields") from exc

    @staticmethod
    def _attempt_row(ev: TrialEvent, trial: tuple[str | None, str | None], bind: Binders) -> tuple[Any, ...]:
        """attempt columns: id, trial_id, site_id, mode, task_id, task_type, robot_id, robot_model, attempt_no,
        started_at, finished_at, cycle_time_s, outcome, reason. `trial` = (site id, mode), None when unknown."""
        p = ev.payload
        try:
            begin = _time(p["started_at"], ev, "started_at")
            end = _time(p["finished_at"], ev, "finished_at")
            return (bind.uuid(ev.event_id), bind.uuid(ev.trial_id), trial[0], trial[1], p["task_id"], p["task_type"],
                    p["robot_id"], p["robot_model"], int(p["attempt_no"]), bind.iso_time(p["started_at"], begin),
                    bind.iso_time(p["finished_at"], end),
                    (end - begin).total_seconds(), str(p["outcome"]), str(p.get("reason", ""))[:200])
        except (KeyError, ValueError, TypeError) as exc:
            raise EventError(f"event {ev.event_id} (attempt_finished, trial {ev.trial_id}): bad payload: {exc!r}; "
                             f"expected Attempt.to_payload() fields") from exc

    @staticmethod
    def _safety_row(ev: TrialEvent, bind: Binders) -> tuple[Any, ...]:
        """safety_event columns: id, trial_id, site_id, type, severity, robot_id, stamp, measured, limit_value, unit,
        x_m, y_m, z_m, evidence."""
        try:
            s = SafetyEvent.from_payload(ev.payload)
        except (KeyError, ValueError, TypeError) as exc:
            raise EventError(f"event {ev.event_id} (safety, trial {ev.trial_id}): bad payload: {exc!r}; "
                             f"expected SafetyEvent.to_payload() fields") from exc
        x, y, z = s.location_m
        return (bind.uuid(ev.event_id), bind.uuid(s.trial_id or ev.trial_id), s.site_id, s.type, s.severity.value,
                s.robot_id, bind.time(s.stamp), s.measured, s.limit, s.unit, x, y, z, bind.json(dict(s.evidence)))
