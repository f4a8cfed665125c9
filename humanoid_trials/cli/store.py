"""Results-store commands: `db upgrade`, `db current`, `report`, `compare`, `demo-data`.

The database is `--db URL` (on the command or on `humanoid-trials` itself), else HUMANOID_TRIALS_DB, else the
SQLite file results/trials.db. A new SQLite file is migrated automatically; other databases need `db upgrade`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from humanoid_trials.cli.common import console, emit_json
from humanoid_trials.results import db
from humanoid_trials.results.compare import build_comparison
from humanoid_trials.results.render import FORMATS, render_comparison, render_site
from humanoid_trials.results.report import build_site_report
from humanoid_trials.results.store import Store

_META_DB = "humanoid_trials.db"
_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _remember_db(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta[_META_DB] = value


def _db_url(value: str | None) -> str:
    """--db of the command, else --db of the group, else HUMANOID_TRIALS_DB, else results/trials.db."""
    if value:
        return value
    ctx = click.get_current_context()
    return str(ctx.meta.get(_META_DB) or db.default_url())


def _db_option(func: Any) -> Any:
    return click.option("--db", "db_url", metavar="URL",
                        help=f"SQLAlchemy database URL (default: ${db.ENV_DB}, else SQLite results/trials.db).")(func)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _output(renderable: Any, fmt: str, out: Path | None) -> None:
    if out is None:
        if isinstance(renderable, str):
            click.echo(renderable, nl=not renderable.endswith("\n"))
        else:
            console.print(renderable)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(renderable, str):
            out.write_text(renderable, encoding="utf-8")
        else:
            with out.open("w", encoding="utf-8") as handle:
                Console(file=handle, width=180, force_terminal=False).print(renderable)
    except OSError as exc:
        raise click.UsageError(f"cannot write {fmt} output to {out}: {exc.strerror}") from exc
    console.print(f"wrote {fmt} to {out}", highlight=False)


def _format(fmt: str, as_json: bool) -> str:
    return "json" if as_json else fmt


@click.group("db")
def db_group() -> None:
    """Manage the results database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@_db_option
def db_upgrade(revision: str, db_url: str | None) -> None:
    """Migrate the results database to the latest (or the given) schema revision."""
    url = _db_url(db_url)
    engine = db.make_engine(url)
    try:
        before = db.current_revision(engine)
        after = db.upgrade(engine, revision)
    finally:
        engine.dispose()
    console.print(f"{db.display_url(url)}: revision {before or '(empty)'} → {after}", highlight=False)


@db_group.command("current")
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def db_current(db_url: str | None, as_json: bool) -> None:
    """Show the schema revision of the results database and the revision this version needs."""
    url = _db_url(db_url)
    engine = db.make_engine(url)
    try:
        current = db.current_revision(engine)
    finally:
        engine.dispose()
    head = db.head_revision()
    if as_json:
        emit_json({"url": db.display_url(url), "current": current, "head": head})
        return
    state = "up to date" if current == head else "needs `humanoid-trials db upgrade`"
    console.print(f"{db.display_url(url)}: revision {current or '(empty)'}, head {head} — {state}", highlight=False)


@click.command("report")
@click.option("--site", "site_id", required=True, help="Site id (sites/<id>.yaml).")
@click.option("--trial", "trial_id", type=click.UUID, help="Only this trial (UUID).")
@click.option("--since", type=click.DateTime(_DATE_FORMATS), help="Only trials since this date (UTC).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@_db_option
def report_command(site_id: str, trial_id: Any, since: datetime | None, fmt: str, as_json: bool, out: Path | None,
                   db_url: str | None) -> None:
    """Per-site trial report: success rates, cycle times vs takt, reliability, safety, validation."""
    fmt = _format(fmt, as_json)
    with Store(_db_url(db_url)) as store:
        report = build_site_report(store, site_id, trial_id, _utc(since))
    _output(render_site(report, fmt), fmt, out)


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@click.command("compare")
@click.option("--sites", "sites", multiple=True, help="Sites to compare (comma-separated or repeated; default all).")
@click.option("--task-type", "task_types", multiple=True, help="Only these task types.")
@click.option("--robot-model", "robot_models", multiple=True, help="Only these robot models.")
@click.option("--since", type=click.DateTime(_DATE_FORMATS), help="Only data since this date (UTC).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@_db_option
def compare_command(sites: tuple[str, ...], task_types: tuple[str, ...], robot_models: tuple[str, ...],
                    since: datetime | None, fmt: str, as_json: bool, out: Path | None, db_url: str | None) -> None:
    """Coalition comparison: one row per site, KPIs normalised to the coalition median, ranking."""
    fmt = _format(fmt, as_json)
    with Store(_db_url(db_url)) as store:
        comparison = build_comparison(store, _split(sites), _split(task_types), _split(robot_models), _utc(since))
    _output(render_comparison(comparison, fmt), fmt, out)


@click.command("demo-data")
@click.option("--sites", type=click.IntRange(1, 50), default=4, show_default=True, help="Number of sites.")
@click.option("--trials", type=click.IntRange(1, 100_000), default=10, show_default=True, help="Trials per site.")
@click.option("--attempts-per-trial", type=click.IntRange(1, 1_000_000), default=200, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@_db_option
def demo_data_command(sites: int, trials: int, attempts_per_trial: int, seed: int, db_url: str | None) -> None:
    """Fill the store with realistic synthetic trials (bundled sites first) for trying reports."""
    from humanoid_trials.results import demo

    url = _db_url(db_url)
    with Store(url) as store:
        events = demo.fill(store, sites=sites, trials=trials, attempts_per_trial=attempts_per_trial, seed=seed)
    console.print(f"wrote {events} events ({sites} sites × {trials} trials) to {db.display_url(url)}",
                  highlight=False)


def register(cli: click.Group) -> None:
    """Add the store commands, and a global `--db URL` option on the group, to `cli`."""
    if not any(param.name == "db" for param in cli.params):
        cli.params.append(click.Option(["--db"], metavar="URL", expose_value=False, callback=_remember_db,
                                       is_eager=True, help="Results database URL for the store commands."))
    cli.add_command(db_group)
    cli.add_command(report_command)
    cli.add_command(compare_command)
    cli.add_command(demo_data_command)
