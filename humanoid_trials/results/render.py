"""Renderers of site reports and coalition comparisons: rich tables, CSV, JSON and one self-contained HTML file
(plots embedded as base64 PNG). They build text or rich renderables; only the CLI prints."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from humanoid_trials.results import plots
from humanoid_trials.results.compare import KPIS, Comparison
from humanoid_trials.results.errors import ReportError
from humanoid_trials.results.report import GroupKpis, SafetySection, SiteReport

FORMATS = ("table", "html", "csv", "json")

GROUP_COLUMNS: dict[str, Callable[[GroupKpis], Any]] = {
    "task_type": lambda g: g.task_type,
    "robot_model": lambda g: g.robot_model,
    "attempts": lambda g: g.attempts,
    "successes": lambda g: g.successes,
    "success_rate": lambda g: g.success_rate,
    "success_ci95_low": lambda g: g.success_low,
    "success_ci95_high": lambda g: g.success_high,
    "cycle_mean_s": lambda g: g.cycle_mean_s,
    "cycle_p50_s": lambda g: g.cycle_p50_s,
    "cycle_p95_s": lambda g: g.cycle_p95_s,
    "cycle_max_s": lambda g: g.cycle_max_s,
    "takt_time_s": lambda g: g.takt_time_s,
    "p95_over_takt": lambda g: g.p95_over_takt,
    "failures": lambda g: g.failures,
    "mtbf_h": lambda g: g.mtbf_h,
    "validation_pass_rate": lambda g: g.validation_pass_rate,
    "predicted_cycle_s": lambda g: g.predicted_cycle_s,
    "measured_field_cycle_s": lambda g: g.measured_field_cycle_s,
    "measured_over_predicted": lambda g: g.measured_over_predicted,
}
"""CSV columns of a site report (one row per task type and robot model)."""


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _ci(low: float, high: float) -> str:
    return f"{100 * low:.1f}–{100 * high:.1f} %"


# -- site report -----------------------------------------------------------------------------------------------------

def _summary_items(r: SiteReport) -> list[tuple[str, str]]:
    return [
        ("site", f"{r.site.id} — {r.site.name} ({r.site.company}, {r.site.city})"),
        ("takt time", f"{_fmt(r.site.takt_time_s, 0)} s"),
        ("trials / operating time", f"{r.trials} / {r.operating_h:.1f} h ({r.robot_h:.1f} robot-h)"),
        ("attempts / successes", f"{r.attempts} / {r.successes}"),
        ("success rate (Wilson 95 %)", f"{_pct(r.success_rate)} ({_ci(r.success_low, r.success_high)})"),
        ("cycle p95, all tasks", f"{_fmt(r.cycle_p95_s, 1)} s"),
        ("MTBF (working time per failure)", f"{_fmt(r.mtbf_h)} h ({r.failures} failures)"),
        ("MTBI (operating time per intervention)", f"{_fmt(r.mtbi_h)} h ({r.interventions} interventions)"),
        ("availability", f"{_pct(r.availability)} ({r.downtime_h:.2f} robot-h down)"),
        ("validation pass rate", f"{_pct(r.validation_pass_rate)} of {r.validations} validations"),
    ]


def site_table(r: SiteReport) -> RenderableType:
    """Rich renderable of a site report: summary, per-group KPIs, safety section."""
    summary = Table(title=f"Trial report — {r.site.id}", show_header=False, box=None)
    summary.add_column(style="bold")
    summary.add_column()
    for key, value in _summary_items(r):
        summary.add_row(key, value)
    cycles = Table(title="Success and cycle time per task type and robot model", header_style="bold")
    for name in ("task type", "robot model", "attempts", "success", "95 % CI", "mean s", "p50 s", "p95 s", "max s",
                 "p95/takt"):
        cycles.add_column(name, justify="left" if name in ("task type", "robot model") else "right")
    reliability = Table(title="Reliability and validation", header_style="bold")
    for name in ("task type", "robot model", "failures", "MTBF h", "validation", "sim s", "field s", "field/sim"):
        reliability.add_column(name, justify="left" if name in ("task type", "robot model") else "right")
    for g in r.groups:
        over = g.p95_over_takt
        cycles.add_row(
            g.task_type, g.robot_model, str(g.attempts), _pct(g.success_rate), _ci(g.success_low, g.success_high),
            _fmt(g.cycle_mean_s, 1), _fmt(g.cycle_p50_s, 1), _fmt(g.cycle_p95_s, 1), _fmt(g.cycle_max_s, 1),
            Text(_fmt(over), style="red" if over is not None and over > 1.0 else ""),
        )
        reliability.add_row(
            g.task_type, g.robot_model, str(g.failures), _fmt(g.mtbf_h), _pct(g.validation_pass_rate),
            _fmt(g.predicted_cycle_s, 1), _fmt(g.measured_field_cycle_s, 1), _fmt(g.measured_over_predicted),
        )
    return Group(summary, cycles, reliability, safety_table(r))


def safety_table(r: SiteReport) -> RenderableType:
    s = r.safety
    table = Table(title=f"Safety — {_safety_summary(s)}", header_style="bold")
    for name in ("type", "severity", "events", "per operating hour"):
        table.add_column(name, justify="right" if name in ("events", "per operating hour") else "left")
    for rate in s.rates:
        table.add_row(rate.type, rate.severity, str(rate.count), _fmt(rate.per_hour, 3))
    return table


def _safety_summary(s: SafetySection) -> str:
    t = s.standstill
    return (f"{s.total} events, {_fmt(s.per_hour)} per operating hour; near misses {s.near_misses}; critical "
            f"{s.critical}; robots held in stops {s.stops}× (mean {_fmt(s.stop_mean_s, 1)} s, max "
            f"{_fmt(s.stop_max_s, 1)} s); time to standstill of {t.count} stops mean {_fmt(t.mean_s)} s, max "
            f"{_fmt(t.max_s)} s, {t.over_budget} over budget")


def site_csv(r: SiteReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["site_id", *GROUP_COLUMNS])
    for g in r.groups:
        writer.writerow([r.site.id, *("" if v is None else v for v in (get(g) for get in GROUP_COLUMNS.values()))])
    return out.getvalue()


def site_json(r: SiteReport) -> str:
    return json.dumps(r.to_dict(), indent=2)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{padding:4px 8px;border-bottom:1px solid #eee;
text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}.bad{color:#c0392b;font-weight:600}
img{max-width:100%;margin:8px 0}.note{color:#666;font-size:12px}
"""


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{html.escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"l" if i < left else ""}">{cell}</td>' for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>{body}</body></html>\n")


def site_html(r: SiteReport) -> str:
    """One self-contained HTML file: summary, KPI table, plots (base64 PNG), safety section."""
    e = html.escape
    summary = _table(["", ""], [[e(k), e(v)] for k, v in _summary_items(r)])
    rows = []
    for g in r.groups:
        over = g.p95_over_takt
        rows.append([e(g.task_type), e(g.robot_model), str(g.attempts), _pct(g.success_rate),
                     _ci(g.success_low, g.success_high), _fmt(g.cycle_mean_s, 1), _fmt(g.cycle_p50_s, 1),
                     _fmt(g.cycle_p95_s, 1), _fmt(g.cycle_max_s, 1),
                     f'<span class="{"bad" if over is not None and over > 1 else ""}">{_fmt(over)}</span>',
                     _fmt(g.mtbf_h), _pct(g.validation_pass_rate), _fmt(g.predicted_cycle_s, 1),
                     _fmt(g.measured_field_cycle_s, 1), _fmt(g.measured_over_predicted)])
    groups = _table(["task type", "robot model", "attempts", "success", "95 % CI", "mean s", "p50 s", "p95 s",
                     "max s", "p95/takt", "MTBF h", "validation", "sim s", "field s", "field/sim"], rows, left=2)
    s = r.safety
    safety_rows = [[e(x.type), e(x.severity), str(x.count), _fmt(x.per_hour, 3)] for x in s.rates]
    scope = []
    if r.scope.trial_id:
        scope.append(f"trial {r.scope.trial_id}")
    if r.scope.since:
        scope.append(f"since {r.scope.since.isoformat()}")
    body = (
        f"<h1>Trial report — {e(r.site.name or r.site.id)}</h1>"
        f'<p class="note">{e(r.site.id)} · {e(", ".join(scope) or "all trials")} · generated '
        f"{e(r.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>"
        f"<h2>Summary</h2>{summary}"
        f"<h2>Per task type and robot model</h2>{groups}"
        f'<p class="note">Success rate over decided attempts (cancelled excluded); cycle times of successful attempts; '
        f"p95/takt above 1 in red; MTBF = working time per failed, timed-out or lost attempt; sim = predicted cycle "
        f"of the latest validation; field = measured mean in field trials.</p>"
        f"<h2>Cycle-time distribution</h2>{_img(plots.cycle_distribution(r), 'cycle-time distribution')}"
        f"<h2>Success rates</h2>{_img(plots.success_rates(r), 'success rates')}"
        f"<h2>Safety</h2><p>{e(_safety_summary(s))}.</p>"
        f"{_table(['type', 'severity', 'events', 'per operating hour'], safety_rows, left=2)}"
        f"{_img(plots.safety_timeline(r), 'safety-event timeline')}"
    )
    return _page(f"Trial report {r.site.id}", body)


def render_site(r: SiteReport, fmt: str) -> str | RenderableType:
    """The report in `fmt` (table → rich renderable; html/csv/json → text)."""
    renderers: dict[str, Callable[[SiteReport], str | RenderableType]] = {
        "table": site_table, "html": site_html, "csv": site_csv, "json": site_json,
    }
    if fmt not in renderers:
        raise ReportError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return renderers[fmt](r)


# -- coalition comparison --------------------------------------------------------------------------------------------

def _kpi_cell(name: str, value: float | None) -> str:
    if name in ("success_rate", "availability", "validation_pass_rate"):
        return _pct(value)
    return _fmt(value, 3 if name == "safety_per_h" else 2)


def compare_table(c: Comparison) -> RenderableType:
    """One column per site (ranked), one row per KPI: value and factor against the coalition median."""
    table = Table(title="Coalition comparison (value, ×factor vs median; > 1 better; * not scored)",
                  header_style="bold")
    table.add_column("KPI")
    for row in c.rows:
        table.add_column(f"#{row.rank} {row.site_id}", justify="right")
    table.add_column("median", justify="right", style="dim")
    for name, (label, _up, scored) in KPIS.items():
        table.add_row(label + ("" if scored else " *"),
                      *(f"{_kpi_cell(name, row.kpis[name])} ×{_fmt(row.factors[name])}" for row in c.rows),
                      _kpi_cell(name, c.medians[name]))
    table.add_row("attempts", *(str(row.attempts) for row in c.rows), "")
    table.add_row(Text("score", style="bold"), *(Text(_fmt(row.score, 3), style="bold") for row in c.rows), "")
    return table


def compare_csv(c: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "site_id", "name", "industry", "takt_time_s", "trials", "operating_h", "attempts",
                     "success_ci95_low", "success_ci95_high", *KPIS, *(f"{n}_factor" for n in KPIS), "score"])
    for row in c.rows:
        values = [row.rank, row.site_id, row.name, row.industry, row.takt_time_s, row.trials, row.operating_h,
                  row.attempts, row.success_low, row.success_high, *(row.kpis[n] for n in KPIS),
                  *(row.factors[n] for n in KPIS), row.score]
        writer.writerow(["" if v is None else v for v in values])
    return out.getvalue()


def compare_json(c: Comparison) -> str:
    return json.dumps(c.to_dict(), indent=2)


def compare_html(c: Comparison) -> str:
    e = html.escape
    headers = ["rank", "site", "industry", "trials", "attempts",
               *(KPIS[n][0] + ("" if KPIS[n][2] else " *") for n in KPIS), "score"]
    rows = [[str(row.rank), e(row.site_id), e(row.industry), str(row.trials), str(row.attempts),
             *(f"{_kpi_cell(n, row.kpis[n])}<br><small>×{_fmt(row.factors[n])}</small>" for n in KPIS),
             _fmt(row.score, 3)] for row in c.rows]
    rows.append(["", "<i>median</i>", "", "", "", *(_kpi_cell(n, c.medians[n]) for n in KPIS), ""])
    filters = [f"{label}: {', '.join(values)}" for label, values in
               (("sites", c.scope.site_ids), ("task types", c.scope.task_types),
                ("robot models", c.scope.robot_models)) if values]
    body = (
        "<h1>Coalition comparison</h1>"
        f'<p class="note">{e("; ".join(filters) or "all sites, task types and robot models")} · generated '
        f"{e(c.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}. Each KPI with its factor against the coalition median "
        f"(value/median where higher is better, median/value where lower is better); score = geometric mean of the "
        f"factors of the scored KPIs (* = shown, not scored: absolute cycle times and throughput depend on a site's "
        f"task mix and takt).</p>"
        f"{_table(headers, rows, left=3)}"
        f"<h2>Normalised KPIs</h2>{_img(plots.comparison_factors(c), 'normalised KPIs')}"
        f"<h2>Success rates</h2>{_img(plots.comparison_success(c), 'success rates per site')}"
    )
    return _page("Coalition comparison", body)


def render_comparison(c: Comparison, fmt: str) -> str | RenderableType:
    renderers: dict[str, Callable[[Comparison], str | RenderableType]] = {
        "table": compare_table, "html": compare_html, "csv": compare_csv, "json": compare_json,
    }
    if fmt not in renderers:
        raise ReportError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return renderers[fmt](c)
