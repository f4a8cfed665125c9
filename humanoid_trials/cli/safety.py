"""`humanoid-trials safety`: the protective separation distance of a site, and emergency stop / resume of a running
trial's robots through the safety monitor's /safety_stop service."""

from __future__ import annotations

import os
from typing import Any

import click
from rich.table import Table

from humanoid_trials.cli.common import CheckFailed, UserError, catalog, console, emit_json
from humanoid_trials.model import UnknownNameError
from humanoid_trials.safety.separation import envelope_radius_m, protective_separation

DEFAULT_SPEEDS_M_S = (0.0, 0.5, 1.0)


def register(cli: click.Group) -> None:
    cli.add_command(safety)


@click.group("safety")
def safety() -> None:
    """Safety: separation distances (ISO 10218-2 / ISO/TS 15066) and emergency stops of a running trial."""


@safety.command("distance")
@click.argument("site_id", metavar="SITE")
@click.option(
    "--robot-speed",
    "speeds",
    type=click.FloatRange(min=0.0),
    multiple=True,
    help="Robot speed towards the person (m/s); repeatable. Default: 0, 0.5, 1.0 and the site robots' top base speeds.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def distance(site_id: str, speeds: tuple[float, ...], as_json: bool) -> None:
    """Protective separation distance S_p = S_h + S_r + S_s + C + Z_d + Z_r of SITE, term by term.

    \b
    Example:
      humanoid-trials safety distance ulsan-door-assembly --robot-speed 0.8
    """
    cat = catalog()
    try:
        site = cat.site(site_id)
    except UnknownNameError as exc:
        raise UserError(str(exc)) from exc
    profiles = {robot.profile: cat.robot_profile(site, robot.id) for robot in site.robots}
    chosen = speeds or tuple(sorted({*DEFAULT_SPEEDS_M_S, *(p.max_base_speed_m_s for p in profiles.values())}))
    rows: list[dict[str, Any]] = []
    for speed in chosen:
        budget = protective_separation(site.safety, speed)
        rows.append({"robot_speed_m_s": speed, **budget.as_evidence()})
    envelopes = {profile_id: envelope_radius_m(p) for profile_id, p in sorted(profiles.items())}
    if as_json:
        emit_json({"site": site.id, "rows": rows, "robot_envelope_radius_m": envelopes})
        return
    params = site.safety
    table = Table(
        title=f"S_p at {site.id}: K_h {params.human_speed_m_s:g} m/s, T_r {params.reaction_time_s:g} s, "
        f"T_s {params.stopping_time_s:g} s",
        title_justify="left",
    )
    for column in ("v_r (m/s)", "S_h", "S_r", "S_s", "C", "Z_d", "Z_r", "S_p (m)"):
        table.add_column(column, justify="right")
    for row in rows:
        terms = ("S_h_m", "S_r_m", "S_s_m", "C_m", "Z_d_m", "Z_r_m")
        table.add_row(f"{row['robot_speed_m_s']:.2f}", *(f"{row[t]:.3f}" for t in terms), f"[bold]{row['S_p_m']:.3f}")
    console.print(table)
    for profile_id, radius in envelopes.items():
        console.print(f"{profile_id}: distances are measured from its reach envelope, {radius:.3f} m around the base")


def _domain(domain_id: int | None) -> int:
    if domain_id is not None:
        return domain_id
    text = os.environ.get("ROS_DOMAIN_ID", "0") or "0"
    if not text.isdigit():
        raise UserError(f"ROS_DOMAIN_ID={text!r} is not a number; pass --domain-id")
    return int(text)


def _call(domain_id: int | None, robot: str, stop: bool, by: str, reason: str, timeout_s: float) -> None:
    from humanoid_trials.ros.safety_monitor import request_safety_stop  # rclpy only for these two commands

    ok, message = request_safety_stop(_domain(domain_id), robot, stop, reason, by, timeout_s)
    if not ok:
        raise CheckFailed(f"refused: {message}")
    console.print(message, highlight=False, markup=False)


_COMMON = [
    click.option("--robot", default="", help="Robot id (default: every robot of the site)."),
    click.option("--by", "by", required=True, help="Who asks (recorded with the event)."),
    click.option("--reason", required=True, help="Why (recorded with the event)."),
    click.option(
        "--domain-id",
        type=click.IntRange(0, 232),
        default=None,
        help="ROS_DOMAIN_ID of the running trial (default: $ROS_DOMAIN_ID or 0).",
    ),
    click.option(
        "--timeout",
        "timeout_s",
        type=click.FloatRange(min=0.5),
        default=10.0,
        show_default=True,
        help="Seconds to wait for the safety monitor.",
    ),
]


def _with_common(func: Any) -> Any:
    for option in reversed(_COMMON):
        func = option(func)
    return func


@safety.command("stop")
@_with_common
def stop(robot: str, by: str, reason: str, domain_id: int | None, timeout_s: float) -> None:
    """Emergency stop of one robot (--robot) or of the whole site, through the running safety monitor.

    \b
    Example:
      humanoid-trials safety stop --by "operator kim" --reason "e-stop button line 3" --domain-id 42
    """
    _call(domain_id, robot, True, by, reason, timeout_s)


@safety.command("resume")
@_with_common
def resume(robot: str, by: str, reason: str, domain_id: int | None, timeout_s: float) -> None:
    """Explicit resume of one robot (--robot) or of the site; refused (exit 1) while a person is too close.

    \b
    Example:
      humanoid-trials safety resume --robot rby1-01 --by "operator kim" --reason "worker left" --domain-id 42
    """
    _call(domain_id, robot, False, by, reason, timeout_s)
