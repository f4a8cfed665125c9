"""`humanoid-trials validate SCENARIO…`: pre-validate scenarios in PyBullet and store the reports.

SCENARIO is a bundled scenario id or a path to a scenario YAML file. Reports go to the results store (`--db`, else
HUMANOID_TRIALS_DB, else results/trials.db); if the store cannot be written, to results/validations/*.json.
Exit code 1 when any task fails.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from humanoid_trials import paths
from humanoid_trials.cli.common import EXIT_CHECK_FAILED, UserError, console, emit_json, err_console
from humanoid_trials.model import Catalog, load_catalog
from humanoid_trials.model.errors import UnknownNameError
from humanoid_trials.model.validation import ValidationReport, Verdict
from humanoid_trials.model.yamlio import load_yaml

log = logging.getLogger(__name__)

_STYLE = {Verdict.PASS: "green", Verdict.WARN: "yellow", Verdict.FAIL: "bold red"}


def register(cli: click.Group) -> None:
    cli.add_command(validate)


def _resolve(arguments: tuple[str, ...]) -> tuple[Catalog, list[str]]:
    """The catalog (with any scenario files given as paths) and the scenario ids to validate."""
    files = [Path(arg) for arg in arguments if arg.endswith((".yaml", ".yml")) or Path(arg).is_file()]
    for file in files:
        if not file.is_file():
            raise UserError(f"{file}: no such scenario file")
    catalog = load_catalog(extra=files)
    ids: list[str] = []
    for arg in arguments:
        path = Path(arg)
        if path in files:
            data = load_yaml(path).data
            ident = data.get("id") if isinstance(data, dict) else None
            if not isinstance(ident, str) or ident not in catalog.scenarios:
                raise UserError(f"{path}: not a scenario file (expected a mapping with `id` and `tasks`)")
            ids.append(ident)
        else:
            try:
                catalog.scenario(arg)
            except UnknownNameError as exc:
                raise UserError(str(exc)) from exc
            ids.append(arg)
    return catalog, ids


def _save(report: ValidationReport, db_url: str | None) -> str:
    """Store the report; fall back to a JSON file. Returns where it went."""
    try:
        from humanoid_trials.results import Store, StoreError

        try:
            with Store(db_url) as store:
                store.save_validation(report)
                return f"store {store.url}"
        except StoreError as exc:
            log.warning("cannot store the validation: %s; writing JSON instead", exc)
    except ImportError:
        pass
    folder = paths.results_dir() / "validations"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = report.created_at.replace(":", "").replace("-", "")[:15]
    target = folder / f"{report.scenario_id}-{report.content_hash[:12]}-{stamp}.json"
    target.write_text(report.to_json())
    return str(target)


def _first_reasons(report: ValidationReport, task_id: str) -> str:
    task = report.task(task_id)
    lines: list[str] = []
    seen: set[str] = set()
    for robot in task.robots:
        for reason in robot.reasons:
            if reason.verdict == Verdict.PASS or reason.message in seen:
                continue
            seen.add(reason.message)
            lines.append(f"[{_STYLE[reason.verdict]}]{robot.robot_id}[/]: {reason.message}")
    if len(lines) > 4:
        lines = [*lines[:4], f"… {len(lines) - 4} more"]
    return "\n".join(lines)


def _table(report: ValidationReport) -> Table:
    colour = _STYLE[report.verdict]
    table = Table(
        title=f"{report.scenario_id} — [{colour}]{report.verdict.value.upper()}[/] "
        f"(content {report.content_hash[:12]}, pybullet {report.pybullet_version})",
        show_lines=True,
    )
    for column in ("task", "type", "verdict", "robots ok", "cycle / takt (s)", "human sep. (m)"):
        table.add_column(column, overflow="fold", max_width=24)
    table.add_column("reasons", overflow="fold", min_width=40, ratio=1)
    for task in report.tasks:
        checked = len(task.robots)
        human = task.min_human_separation_m
        table.add_row(
            task.task_id,
            task.task_type,
            f"[{_STYLE[task.verdict]}]{task.verdict.value}[/]",
            f"{len(task.feasible_robots)}/{checked}",
            f"{task.estimated_cycle_s:.1f} / {task.takt_time_s:g}"
            if task.feasible_robots
            else f"— / {task.takt_time_s:g}",
            "—" if human is None else f"{human:.2f}",
            _first_reasons(report, task.task_id),
        )
    return table


@click.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes (local) or CPUs (ray).",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this machine's process pool; ray: Ray (local, or a cluster with --address).",
)
@click.option("--address", metavar="ADDR", help="Ray cluster address (ray://host:10001 or auto); ray only.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option("--gui", is_flag=True, help="Afterwards, step through the motions in the PyBullet window.")
@click.option("--db", "db_url", metavar="URL", help="Results database for the reports (default: the store's).")
@click.option("--no-save", is_flag=True, help="Do not store the reports.")
def validate(
    scenarios: tuple[str, ...],
    workers: int,
    executor: str,
    address: str | None,
    as_json: bool,
    gui: bool,
    db_url: str | None,
    no_save: bool,
) -> None:
    """Pre-validate SCENARIO(s) in PyBullet: reach, collisions, balance, torques, payload, human zones, cycle time.

    SCENARIO is a scenario id (see `humanoid-trials scenarios`) or a scenario YAML file. Exit code 1 when any task
    fails; a failed scenario is refused by the dispatcher's gate for field trials.
    """
    if address and executor != "ray":
        raise click.UsageError("--address is only used with --executor ray")
    from humanoid_trials.sim.replay import has_display, show
    from humanoid_trials.sim.validator import validate_scenarios, work_items

    if gui and not has_display():
        raise UserError("--gui needs a display (DISPLAY or WAYLAND_DISPLAY is not set)")
    catalog, ids = _resolve(scenarios)
    total = sum(len(work_items(catalog, catalog.scenario(sid))) for sid in ids)
    with Progress(
        TextColumn("validating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as progress:
        bar = progress.add_task("validate", total=total)
        reports = validate_scenarios(
            catalog,
            ids,
            executor=executor,
            workers=workers,
            address=address,
            progress=lambda n: progress.advance(bar, n),
        )
    saved = {} if no_save else {report.scenario_id: _save(report, db_url) for report in reports}
    if as_json:
        emit_json([report.to_dict() for report in reports])
    else:
        for report in reports:
            console.print(_table(report))
            where = saved.get(report.scenario_id)
            tasks = sum(len(task.robots) for task in report.tasks)
            console.print(
                f"{tasks} task checks in {report.wall_time_s:.1f} s ({executor}, {workers} worker(s))"
                + (f"; saved to {where}" if where else ""),
                highlight=False,
            )
    if gui:
        for report in reports:
            show(catalog, report)
    if any(report.verdict == Verdict.FAIL for report in reports):
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)
