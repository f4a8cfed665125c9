"""Matplotlib plots of reports as PNG bytes (Agg backend, no display): cycle-time distributions with the takt line,
success rates with Wilson interval bars, the safety-event timeline, and the coalition comparison."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from humanoid_trials.results.compare import KPIS, Comparison
from humanoid_trials.results.report import SiteReport

SEVERITY_COLOURS = {"info": "#4c78a8", "warning": "#f58518", "critical": "#e45756"}


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def cycle_distribution(report: SiteReport) -> bytes:
    """One histogram of successful cycle times (s) per task type, with the site's takt time as a red line."""
    types = sorted(report.histograms)
    cols = min(3, max(1, len(types)))
    rows = max(1, math.ceil(len(types) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    width = report.histogram_bin_s
    for ax, task_type in zip(axes.flat, types, strict=False):
        counts = report.histograms[task_type]
        ax.bar([(i + 0.5) * width for i in range(len(counts))], counts, width=width * 0.95, color="#4c78a8")
        if report.site.takt_time_s:
            ax.axvline(report.site.takt_time_s, color="#e45756", linewidth=1.5, label="takt")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_title(task_type, fontsize=10)
        ax.set_xlabel("cycle time (s)", fontsize=8)
        ax.set_ylabel("attempts", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(types):]:
        ax.axis("off")
    if not types:
        axes.flat[0].text(0.5, 0.5, "no successful attempts", ha="center", va="center")
    fig.suptitle(f"Cycle-time distribution — {report.site.id}", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def success_rates(report: SiteReport) -> bytes:
    """Success rate per task type and robot model with Wilson 95 % interval bars."""
    groups = [g for g in report.groups if g.success_rate is not None]
    fig, ax = plt.subplots(figsize=(max(5.0, 0.75 * len(groups) + 2), 3.4))
    labels = [f"{g.task_type}\n{g.robot_model}" for g in groups]
    rates = [g.success_rate or 0.0 for g in groups]
    lower = [max(0.0, r - g.success_low) for r, g in zip(rates, groups, strict=True)]
    upper = [max(0.0, g.success_high - r) for r, g in zip(rates, groups, strict=True)]
    ax.bar(range(len(groups)), rates, color="#54a24b", yerr=[lower, upper], capsize=4, ecolor="#333333")
    ax.set_xticks(range(len(groups)), labels, fontsize=7, rotation=0)
    ax.set_ylim(max(0.0, min([g.success_low for g in groups], default=0.0) - 0.05), 1.0)
    ax.set_ylabel("success rate")
    ax.set_title(f"Success rate with Wilson 95 % interval — {report.site.id}", fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def safety_timeline(report: SiteReport) -> bytes:
    """Safety events over time, one row per event type, coloured by severity."""
    events = report.safety.timeline
    types = sorted({e[1] for e in events})
    fig, ax = plt.subplots(figsize=(9.0, 0.5 * max(2, len(types)) + 1.4))
    for severity, colour in SEVERITY_COLOURS.items():
        chosen = [e for e in events if e[2] == severity]
        ax.scatter(mdates.date2num([e[0] for e in chosen]), [types.index(e[1]) for e in chosen], s=14, c=colour,
                   label=severity, alpha=0.8)
    ax.set_yticks(range(len(types)), types, fontsize=8)
    ax.set_ylim(-0.7, max(0.7, len(types) - 0.3))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))
    ax.set_xlabel("time (UTC)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    if events:
        ax.legend(loc="upper left", fontsize=7, ncols=3)
    else:
        ax.text(0.5, 0.5, "no safety events", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(f"Safety events — {report.site.id}", fontsize=11)
    fig.autofmt_xdate()
    return _png(fig)


def comparison_factors(comparison: Comparison) -> bytes:
    """Normalised KPI factors (1 = coalition median, > 1 better) per site, plus each site's score."""
    names = list(KPIS)
    sites = comparison.rows
    fig, ax = plt.subplots(figsize=(max(7.0, 1.1 * len(names) + 2), 3.8))
    width = 0.8 / max(1, len(sites))
    for index, row in enumerate(sites):
        values = [row.factors.get(name) or 0.0 for name in names]
        ax.bar([i + index * width for i in range(len(names))], values, width=width,
               label=f"#{row.rank} {row.site_id}")
    ax.axhline(1.0, color="#333333", linewidth=1, linestyle="--")
    labels = [KPIS[n][0] + ("" if KPIS[n][2] else " *") for n in names]
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], labels, fontsize=7, rotation=25, ha="right")
    ax.set_ylabel("factor vs coalition median")
    ax.legend(fontsize=7, ncols=2)
    ax.set_title("Coalition comparison (> 1: better than median; * shown, not scored)", fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def comparison_success(comparison: Comparison) -> bytes:
    """Success rate per site with Wilson 95 % interval bars."""
    rows = comparison.rows
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(rows) + 2), 3.2))
    rates = [row.kpis["success_rate"] or 0.0 for row in rows]
    ax.bar(range(len(rows)), rates, color="#54a24b",
           yerr=[[max(0.0, r - row.success_low) for r, row in zip(rates, rows, strict=True)],
                 [max(0.0, row.success_high - r) for r, row in zip(rates, rows, strict=True)]],
           capsize=4, ecolor="#333333")
    ax.set_xticks(range(len(rows)), [row.site_id for row in rows], fontsize=7, rotation=15, ha="right")
    ax.set_ylim(max(0.0, min([row.success_low for row in rows], default=0.0) - 0.05), 1.0)
    ax.set_ylabel("success rate")
    ax.set_title("Success rate per site (Wilson 95 %)", fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
