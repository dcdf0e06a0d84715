"""The results as a PNG: a panel per workload, a bar per server."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: the benchmark runs without a display
import matplotlib.pyplot as plt

from harness.report import Row, grouped, partly_opened

#: One colour per implementation, so a reader can follow sockserve across panels.
COLOURS = {
    "stdlib": "#9e9e9e",
    "sockserve": "#1f77b4",
    "trio": "#2ca02c",
    "asyncio": "#ff7f0e",
    "uvloop": "#d62728",
    "calibration": "#d9d9d9",
}


def _colour(variant: str) -> str:
    return COLOURS.get(variant.partition("-")[0], "#7f7f7f")


def _partial(row: Row) -> str:
    return f"{row.opened:,} of {row.conns:,} conns" if partly_opened(row) else ""


def draw(rows: list[Row], path: Path, subtitle: str) -> None:
    """Write the chart to ``path``: throughput per server, or latency for ``shutdown()``."""
    groups = grouped(rows)
    columns = 3
    lines = math.ceil(len(groups) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(15, 3.6 * lines), squeeze=False)
    for ax, (name, group) in zip(axes.flat, groups.items(), strict=False):
        latency = all(math.isnan(r.ops_s) for r in group)
        values = [r.p50_us / 1000 if latency else r.ops_s for r in group]
        labels = [r.variant for r in group]
        bars = ax.barh(labels, values, color=[_colour(v) for v in labels])
        # A bar over fewer connections than asked for is not the same load: say so on it.
        notes = [_partial(r) for r in group]
        ax.bar_label(bars, notes, fontsize=7, padding=2)
        ax.invert_yaxis()
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("median ms (log)" if latency else "ops/s")
        if latency:
            ax.set_xscale("log")
        ax.tick_params(labelsize=8)
    for ax in axes.flat[len(groups) :]:
        ax.set_visible(False)
    fig.suptitle(f"sockserve benchmark: {subtitle}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
