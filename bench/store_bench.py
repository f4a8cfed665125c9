"""Results-store benchmark (SQLite), each figure against a raw baseline measured in the same run.

1. Ingest: `Store.record_events` of N attempt_finished events (→ trial_event + attempt rows) vs raw
   `sqlite3.executemany` of exactly the same rows, pre-built, into the same schema (target: store ≥ 50 % of raw).
2. Reports over a store of ~1,000,000 attempts (4 sites, demo data written through the store): the site report and
   the coalition comparison (target < 2 s each), against loading the same attempts into Python with raw sqlite3
   and computing the same percentiles with numpy.

    .venv/bin/python bench/store_bench.py [--ingest 100000] [--attempts 1000000] [--db results/bench_1m.db]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from humanoid_trials.model.events import Attempt, Outcome, TrialEvent, TrialInfo
from humanoid_trials.results import demo
from humanoid_trials.results.compare import build_comparison
from humanoid_trials.results.render import render_site
from humanoid_trials.results.report import build_site_report
from humanoid_trials.results.store import Store

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
PRAGMAS = ("PRAGMA foreign_keys=ON", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def _timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def _best(func: Callable[[], Any], runs: int = 3) -> tuple[float, float, Any]:
    """Best wall-clock time and best process CPU time (s) of `runs` runs, and the last result. The CPU time shows
    the cost when other processes compete for the cores."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        cpu = time.process_time()
        wall, result = _timed(func)
        walls.append(wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def _events(count: int, seed: int = 1) -> list[TrialEvent]:
    rng = np.random.default_rng(seed)
    trial = uuid.UUID(bytes=rng.bytes(16))
    events = [
        TrialInfo(
            trial, "bench-site", "bench-scenario", "0" * 64, "field", "bench", "bench", {"r1": "rby1-class"}, T0
        ).to_event()
    ]
    cycles = rng.lognormal(3.3, 0.2, count)
    clock = T0
    for i in range(count):
        end = clock + timedelta(seconds=float(cycles[i]))
        events.append(
            Attempt(
                trial,
                "pick",
                "pick_place",
                "r1",
                "rby1-class",
                1,
                clock,
                end,
                Outcome.SUCCESS if i % 20 else Outcome.FAILED,
                attempt_id=uuid.UUID(bytes=rng.bytes(16)),
            ).to_event()
        )
        clock = end + timedelta(seconds=2)
    return events


def _text_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _raw_rows(events: list[TrialEvent]) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows the store writes, in their stored form (hex UUIDs, DATETIME text, JSON text)."""
    start = events[0]
    p = start.payload
    trial = (
        start.trial_id.hex,
        p["site_id"],
        p["scenario_id"],
        p["scenario_hash"],
        p["mode"],
        p["software_version"],
        p["operator"],
        1,
        _text_time(start.stamp),
        None,
        None,
        "running",
    )
    event_rows = [
        (
            ev.event_id.hex,
            ev.trial_id.hex,
            ev.kind.value,
            _text_time(ev.stamp),
            ev.stamp.timestamp(),
            str(ev.payload.get("robot_id") or ""),
            json.dumps(dict(ev.payload)),
        )
        for ev in events
    ]
    attempts = []
    for ev in events[1:]:
        a = ev.payload
        started = datetime.fromisoformat(a["started_at"])
        ended = datetime.fromisoformat(a["finished_at"])
        attempts.append(
            (
                ev.event_id.hex,
                ev.trial_id.hex,
                "bench-site",
                "field",
                a["task_id"],
                a["task_type"],
                a["robot_id"],
                a["robot_model"],
                a["attempt_no"],
                _text_time(started),
                _text_time(ended),
                (ended - started).total_seconds(),
                a["outcome"],
                a["reason"],
            )
        )
    return trial, event_rows, attempts


def bench_ingest(count: int, folder: Path, repeats: int = 2) -> dict[str, float]:
    """Best of `repeats` alternating runs of each, every run into a fresh database file."""
    events = _events(count)
    trial, event_rows, attempts = _raw_rows(events)
    raw_times, store_times = [], []
    for run in range(repeats):
        raw_db, store_db = folder / f"raw_{run}.db", folder / f"store_{run}.db"
        with Store(f"sqlite:///{raw_db}") as prepared:  # same migrated schema and indexes for the raw baseline
            prepared.save_site("bench-site")
        conn = sqlite3.connect(raw_db)
        for pragma in PRAGMAS:
            conn.execute(pragma)

        def raw(conn: sqlite3.Connection = conn) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO trial (id, site_id, scenario_id, scenario_hash, mode, "
                "software_version, operator, robot_count, started_at, finished_at, duration_s, status) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                trial,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO trial_event (id, trial_id, kind, stamp, t_s, robot_id, payload) "
                "VALUES (?,?,?,?,?,?,?)",
                event_rows,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO attempt (id, trial_id, site_id, mode, task_id, task_type, "
                "robot_id, robot_model, attempt_no, started_at, finished_at, cycle_time_s, outcome, "
                "reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                attempts,
            )
            conn.commit()

        raw_times.append(_timed(raw)[0])
        conn.close()
        with Store(f"sqlite:///{store_db}") as store:
            store.save_site("bench-site")
            store_times.append(_timed(lambda store=store: store.record_events(events))[0])
    raw_s, store_s = min(raw_times), min(store_times)
    rows = len(event_rows) + len(attempts) + 1
    return {
        "events": len(events),
        "rows": rows,
        "raw_s": raw_s,
        "store_s": store_s,
        "raw_rows_per_s": rows / raw_s,
        "store_events_per_s": len(events) / store_s,
        "store_vs_raw": raw_s / store_s,
    }


def _raw_site_stats(path: Path, site_id: str) -> int:
    """Baseline: load the site's attempts into Python and compute the same per-group numbers with numpy."""
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT task_type, robot_model, outcome, cycle_time_s FROM attempt WHERE site_id = ?", (site_id,)
    ).fetchall()
    conn.close()
    groups: dict[tuple[str, str], list[float]] = {}
    for task_type, model, outcome, cycle in rows:
        if outcome == "success":
            groups.setdefault((task_type, model), []).append(cycle)
    for values in groups.values():
        array = np.asarray(values)
        np.percentile(array, [50, 95])
        array.mean()
        array.max()
    return len(rows)


def bench_reports(path: Path, attempts: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with Store(f"sqlite:///{path}") as store:
        with store.engine.connect() as conn:
            have = conn.exec_driver_sql("SELECT count(*) FROM attempt").scalar_one()
        if have < 0.95 * attempts:  # the demo writes whole robots × attempts, a little under the target
            trials = max(1, attempts // (4 * 1000))
            fill_s, events = _timed(lambda: demo.fill(store, sites=4, trials=trials, attempts_per_trial=1000, seed=11))
            figures.update(fill_s=fill_s, fill_events_per_s=events / fill_s)
            with store.engine.connect() as conn:
                have = conn.exec_driver_sql("SELECT count(*) FROM attempt").scalar_one()
        with store.engine.connect() as conn:
            site_id, site_attempts = conn.exec_driver_sql(
                "SELECT site_id, count(*) FROM attempt GROUP BY site_id ORDER BY 2 DESC LIMIT 1"
            ).one()
        figures.update(attempts=have, site_attempts=site_attempts)
        figures["site_report_cold_s"], _ = _timed(lambda: build_site_report(store, site_id))
        figures["comparison_cold_s"], _ = _timed(lambda: build_comparison(store))
        site_report = _best(lambda: build_site_report(store, site_id))
        figures["site_report_s"], figures["site_report_cpu_s"], report = site_report
        figures["comparison_s"], figures["comparison_cpu_s"], comparison = _best(lambda: build_comparison(store))
    figures["raw_load_site_s"], figures["raw_load_site_cpu_s"], _ = _best(lambda: _raw_site_stats(path, site_id))
    figures["site_report_vs_raw_load"] = figures["site_report_s"] / figures["raw_load_site_s"]
    figures["site_report_html_s"], _ = _timed(lambda: render_site(report, "html"))
    figures["sites_compared"] = len(comparison.rows)
    figures["site_groups"] = len(report.groups)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest", type=int, default=100_000, help="attempt events for the ingest comparison")
    parser.add_argument("--attempts", type=int, default=1_000_000, help="attempts in the report store")
    parser.add_argument(
        "--db",
        type=Path,
        default=Path("results/bench_1m.db"),
        help="report store (reused when it already holds enough attempts)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ingest = bench_ingest(args.ingest, Path(folder))
    print(
        f"ingest: {ingest['events']} events → {ingest['rows']} rows; raw executemany {ingest['raw_s']:.2f} s "
        f"({ingest['raw_rows_per_s']:.0f} rows/s), store {ingest['store_s']:.2f} s "
        f"({ingest['store_events_per_s']:.0f} events/s); store/raw = {100 * ingest['store_vs_raw']:.0f} % "
        f"(target ≥ 50 %)"
    )
    reports = bench_reports(args.db, args.attempts)
    if "fill_s" in reports:
        print(
            f"fill: {reports['attempts']} attempts through the store in {reports['fill_s']:.0f} s "
            f"({reports['fill_events_per_s']:.0f} events/s incl. generating them)"
        )
    print(
        f"site report over {reports['site_attempts']} attempts of one site ({reports['attempts']} in the store): "
        f"{reports['site_report_s']:.2f} s wall, {reports['site_report_cpu_s']:.2f} s CPU (first, cold: "
        f"{reports['site_report_cold_s']:.2f} s; target < 2 s); raw load of the site's attempts + numpy "
        f"{reports['raw_load_site_s']:.2f} s; report/raw = {reports['site_report_vs_raw_load']:.2f}; rendering it as "
        f"HTML with 3 plots: {reports['site_report_html_s']:.2f} s more"
    )
    print(
        f"coalition comparison over {reports['attempts']} attempts, {reports['sites_compared']} sites: "
        f"{reports['comparison_s']:.2f} s wall, {reports['comparison_cpu_s']:.2f} s CPU (first, cold: "
        f"{reports['comparison_cold_s']:.2f} s; target < 2 s)"
    )
    print(f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(json.dumps({"ingest": ingest, "reports": reports}, indent=2))


if __name__ == "__main__":
    main()
