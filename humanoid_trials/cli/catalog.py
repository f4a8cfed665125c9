"""Catalog commands: `sites`, `robots`, `scenarios` (list and show) and `check PATH…`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.tree import Tree

from humanoid_trials.cli.common import EXIT_CHECK_FAILED, UserError, catalog, console, emit_json, print_problems
from humanoid_trials.model import Catalog, ConfigError, check_files
from humanoid_trials.model.errors import UnknownNameError

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the data as JSON instead of a table.")


def _get(getter: Any, ident: str) -> Any:
    try:
        return getter(ident)
    except UnknownNameError as exc:
        raise UserError(str(exc)) from exc


def register(cli: click.Group) -> None:
    cli.add_command(sites)
    cli.add_command(robots)
    cli.add_command(scenarios)
    cli.add_command(check)


# -- sites --------------------------------------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@JSON_OPTION
@click.pass_context
def sites(ctx: click.Context, as_json: bool) -> None:
    """List the test sites (`sites`), or show one (`sites show SITE`)."""
    if ctx.invoked_subcommand is None:
        _list_sites(catalog(), as_json)


@sites.command("list")
@JSON_OPTION
def sites_list(as_json: bool) -> None:
    """List the test sites: industry, takt time, robots."""
    _list_sites(catalog(), as_json)


def _list_sites(cat: Catalog, as_json: bool) -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": s.id,
            "name": s.name,
            "industry": s.industry,
            "city": s.location.city,
            "takt_time_s": s.takt_time_s,
            "robots": [r.id for r in s.robots],
            "scenarios": sorted(sc.id for sc in cat.scenarios.values() if sc.site == s.id),
        }
        for s in sorted(cat.sites.values(), key=lambda s: s.id)
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Test sites")
    for column in ("id", "name", "industry", "city", "takt (s)", "robots", "scenarios"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["name"],
            row["industry"],
            row["city"],
            f"{row['takt_time_s']:g}",
            ", ".join(row["robots"]),
            str(len(row["scenarios"])),
        )
    console.print(table)


@sites.command("show")
@click.argument("site_id")
@JSON_OPTION
def sites_show(site_id: str, as_json: bool) -> None:
    """Show one site: layout, human zones, robots and safety parameters."""
    cat = catalog()
    site = _get(cat.site, site_id)
    if as_json:
        emit_json(site.model_dump(mode="json"))
        return
    tree = Tree(f"[bold]{site.id}[/] — {site.name} ({site.company}, {site.industry}, {site.location.city})")
    tree.add(f"takt time {site.takt_time_s:g} s, floor {site.layout.floor_m[0]:g} × {site.layout.floor_m[1]:g} m")
    stations = tree.add("stations (site frame, m)")
    for st in site.layout.stations:
        node = stations.add(f"{st.id} at ({st.pose.x_m:g}, {st.pose.y_m:g}), yaw {st.pose.yaw_deg:g}°")
        for obj in site.layout.objects:
            if obj.station == st.id:
                size = " × ".join(f"{v:g}" for v in obj.size_m)
                node.add(f"{obj.kind} {obj.id}: {size} m, top at {obj.top_z_m:.2f} m")
    zones = tree.add("human zones")
    for zone in site.human_zones:
        zones.add(f"{zone.id}: {len(zone.polygon_m)}-point polygon, {zone.height_m:g} m high")
    robots_node = tree.add("robots")
    for robot in site.robots:
        robots_node.add(f"{robot.id} ({robot.profile}), home {robot.home_station}")
    safety = site.safety
    tree.add(
        f"safety: human speed {safety.human_speed_m_s:g} m/s, T_r {safety.reaction_time_s:g} s, "
        f"T_s {safety.stopping_time_s:g} s, C {safety.intrusion_distance_m:g} m, "
        f"Z_d {safety.sensor_uncertainty_m:g} m, "
        f"Z_r {safety.robot_uncertainty_m:g} m, limits table {safety.body_region_limits}"
    )
    console.print(tree)


# -- robots -------------------------------------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@JSON_OPTION
@click.pass_context
def robots(ctx: click.Context, as_json: bool) -> None:
    """List the robot models (`robots`), or show one (`robots show MODEL`)."""
    if ctx.invoked_subcommand is None:
        _list_robots(catalog(), as_json)


@robots.command("list")
@JSON_OPTION
def robots_list(as_json: bool) -> None:
    """List the robot models: kind, mass, payload, reach, capabilities."""
    _list_robots(catalog(), as_json)


def _list_robots(cat: Catalog, as_json: bool) -> None:
    profiles = sorted(cat.profiles.values(), key=lambda p: p.id)
    if as_json:
        emit_json([p.model_dump(mode="json") for p in profiles])
        return
    table = Table(title="Robot models")
    for column in (
        "id",
        "kind",
        "DOF",
        "mass (kg)",
        "height (m)",
        "payload arm/total (kg)",
        "reach (m)",
        "base speed (m/s)",
        "capabilities",
    ):
        table.add_column(column)
    for p in profiles:
        table.add_row(
            p.id,
            p.kind,
            str(p.dof),
            f"{p.mass_kg:g}",
            f"{p.height_m:g}",
            f"{p.payload_kg.per_arm:g} / {p.payload_kg.total:g}",
            f"{p.reach_m:g}",
            f"{p.max_base_speed_m_s:g}",
            ", ".join(p.capabilities),
        )
    console.print(table)


@robots.command("show")
@click.argument("model_id")
@JSON_OPTION
def robots_show(model_id: str, as_json: bool) -> None:
    """Show one robot model profile."""
    profile = _get(catalog().profile, model_id)
    data = profile.model_dump(mode="json")
    if as_json:
        emit_json(data)
        return
    table = Table(title=f"{profile.id} — {profile.name}", show_header=False)
    table.add_column("field")
    table.add_column("value")
    for key, value in data.items():
        if key == "arms":
            value = "; ".join(f"{a['name']}: {len(a['joints'])} joints → {a['end_effector_link']}" for a in value)
        table.add_row(key, str(value))
    console.print(table)


# -- scenarios ----------------------------------------------------------------------------------------------------
@click.group(invoke_without_command=True)
@JSON_OPTION
@click.pass_context
def scenarios(ctx: click.Context, as_json: bool) -> None:
    """List the scenario library (`scenarios`), or show one (`scenarios show SCENARIO`)."""
    if ctx.invoked_subcommand is None:
        _list_scenarios(catalog(), as_json)


@scenarios.command("list")
@JSON_OPTION
def scenarios_list(as_json: bool) -> None:
    """List the scenarios: site, task types, repetitions."""
    _list_scenarios(catalog(), as_json)


def _list_scenarios(cat: Catalog, as_json: bool) -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": sc.id,
            "site": sc.site,
            "task_types": sorted({t.type for t in sc.tasks}),
            "tasks": len(sc.tasks),
            "attempts": sc.total_attempts(),
            "perturbations": [p.type for p in sc.perturbations],
            "description": sc.description,
        }
        for sc in sorted(cat.scenarios.values(), key=lambda s: s.id)
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Scenario library")
    for column in ("id", "site", "task types", "tasks", "attempts", "perturbations"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["site"],
            ", ".join(row["task_types"]),
            str(row["tasks"]),
            str(row["attempts"]),
            ", ".join(row["perturbations"]) or "—",
        )
    console.print(table)


@scenarios.command("show")
@click.argument("scenario_id")
@JSON_OPTION
def scenarios_show(scenario_id: str, as_json: bool) -> None:
    """Show one scenario: tasks, dependencies, perturbations, criteria and its content hash."""
    cat = catalog()
    scenario = _get(cat.scenario, scenario_id)
    digest = cat.content_hash(scenario.id)
    if as_json:
        data = scenario.model_dump(mode="json")
        data["content_hash"] = digest
        emit_json(data)
        return
    console.print(f"[bold]{scenario.id}[/] at site [bold]{scenario.site}[/]: {scenario.description}")
    console.print(f"content hash {digest[:16]}…, seed {scenario.seed}, time limit {scenario.time_limit_s:g} s")
    table = Table()
    for column in ("task", "type", "repetitions", "depends on", "robots", "payload (kg)", "timeout (s)", "retries"):
        table.add_column(column)
    for t in scenario.tasks:
        table.add_row(
            t.id,
            t.type,
            str(t.repetitions),
            ", ".join(t.depends_on) or "—",
            ", ".join(t.robots) or "any capable",
            f"{t.params.payload_kg():g}",
            f"{t.timeout_s:g}",
            str(t.max_retries),
        )
    console.print(table)
    for p in scenario.perturbations:
        console.print(f"perturbation: {p.model_dump(mode='json')}")
    c = scenario.criteria
    console.print(
        f"criteria: success ≥ {c.min_success_rate:.0%}, p95 cycle ≤ {c.max_p95_cycle_over_takt:g} × takt, "
        f"safety events ≤ {c.max_safety_events}"
    )


# -- check --------------------------------------------------------------------------------------------------------
@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@JSON_OPTION
def check(paths: tuple[Path, ...], as_json: bool) -> None:
    """Check site, robot profile and scenario YAML files (folders: every *.yaml inside).

    Reports every problem of every file at once as FILE:LINE:COLUMN: FIELD: what is wrong, what was expected.
    Files are checked together with the bundled data, so a scenario may name a bundled site.
    Exit code 1 when any problem is found.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.yaml")) + sorted(path.rglob("*.yml")))
        elif not path.exists():
            raise UserError(f"{path}: no such file or folder")
        else:
            files.append(path)
    if not files:
        raise UserError(f"no .yaml files found in {', '.join(map(str, paths))}")
    _, problems = check_files(files)
    if as_json:
        emit_json({"ok": not problems, "files": [str(f) for f in files], "problems": [p.__dict__ for p in problems]})
    elif problems:
        print_problems(ConfigError(problems))
    else:
        console.print(f"[green]ok[/]: {len(files)} file{'s' if len(files) != 1 else ''} checked, no problems")
    if problems:
        raise click.exceptions.Exit(EXIT_CHECK_FAILED)
