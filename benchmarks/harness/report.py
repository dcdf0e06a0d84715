"""Turning cells of samples into rows of medians, and rows into a text table, Markdown and JSON."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace

from harness.runner import Cell
from harness.samples import Sample

MIB = 1024 * 1024
#: A load generator using this much of its CPU may be what limits the row.
GENERATOR_BOUND = 0.9
GENERATOR_BOUND_NOTE = (
    f"* the load generator used {GENERATOR_BOUND:.0%} or more of its CPU: "
    "the server may be faster than this row shows"
)


@dataclass(frozen=True)
class Row:
    """The medians of one cell's runs, and its ratio to its baseline in the same run.

    ``ratio`` divides throughput by the baseline's; for ``shutdown()`` latency,
    which has none, it divides the baseline's median latency by this one's.
    Either way, above 1 is better than the baseline.
    """

    workload: str
    title: str
    variant: str
    runs: int
    ops_s: float
    p50_us: float
    p99_us: float
    errors: int
    server_cpu: float
    server_rss_mib: float
    gen_cpu: float
    setup_s: float
    conns: int
    opened: int
    calibration: bool
    baseline: str | None
    ratio: float | None
    samples: tuple[Sample, ...]


def _median(samples: Iterable[Sample], figure: Callable[[Sample], float]) -> float:
    return statistics.median(figure(s) for s in samples)


def _row(cell: Cell) -> Row:
    s = cell.samples
    return Row(
        workload=cell.workload.name,
        title=cell.workload.title,
        variant=cell.variant.name,
        runs=len(s),
        ops_s=_median(s, lambda x: x.ops_s),
        p50_us=_median(s, lambda x: x.p50_us),
        p99_us=_median(s, lambda x: x.p99_us),
        errors=sum(x.errors for x in s),
        server_cpu=_median(s, lambda x: x.server_cpu),
        server_rss_mib=_median(s, lambda x: x.server_rss) / MIB,
        gen_cpu=_median(s, lambda x: x.gen_cpu),
        setup_s=_median(s, lambda x: x.setup_s),
        conns=cell.workload.conns,
        opened=round(_median(s, lambda x: x.opened)),
        calibration=cell.variant.impl == "native",
        baseline=cell.variant.baseline_for(cell.workload),
        ratio=None,
        samples=tuple(s),
    )


def generator_bound(row: Row) -> bool:
    """Whether the load generator was busy enough to be what limited a server's row.

    Never for the calibration row: showing the generator's ceiling is its job.
    """
    return row.gen_cpu >= GENERATOR_BOUND and not row.calibration


def _ratio(row: Row, base: Row) -> float | None:
    if math.isnan(row.ops_s):
        return base.p50_us / row.p50_us if row.p50_us > 0 else None
    return row.ops_s / base.ops_s if base.ops_s > 0 else None


def rows(cells: list[Cell]) -> list[Row]:
    """One row per measured cell, with its ratio to the baseline measured beside it."""
    plain = [_row(c) for c in cells if c.skipped is None and c.samples]
    by_key = {(r.workload, r.variant): r for r in plain}
    out = []
    for r in plain:
        base = by_key.get((r.workload, r.baseline)) if r.baseline else None
        out.append(r if base is None else replace(r, ratio=_ratio(r, base)))
    return out


def latency(us: float) -> str:
    """A latency for people: microseconds, milliseconds or seconds as it needs."""
    if math.isnan(us) or us <= 0:
        return "-"
    if us < 1000:
        return f"{us:.0f} µs"
    return f"{us / 1000:.1f} ms" if us < 1e6 else f"{us / 1e6:.2f} s"


def _percent(fraction: float) -> str:
    return "-" if math.isnan(fraction) else f"{fraction * 100:.0f}%"


HEADER = (
    "server",
    "ops/s",
    "p50",
    "p99",
    "errors",
    "srv CPU",
    "srv RSS",
    "gen CPU",
    "open",
    "ratio",
)


def cells_of(row: Row) -> tuple[str, ...]:
    """The row as the table's strings, in `HEADER` order."""
    return (
        row.variant,
        "-"
        if math.isnan(row.ops_s)
        else f"{row.ops_s:,.0f}" + ("*" if generator_bound(row) else ""),
        latency(row.p50_us),
        latency(row.p99_us),
        str(row.errors),
        _percent(row.server_cpu),
        f"{row.server_rss_mib:.1f} MiB" if row.server_rss_mib else "-",
        _percent(row.gen_cpu),
        _opening(row),
        "" if row.ratio is None else f"{row.ratio:,.2f}x",
    )


def partly_opened(row: Row) -> bool:
    """Whether the load opened fewer persistent connections than it asked for."""
    return bool(row.setup_s) and row.opened < row.conns


def _opening(row: Row) -> str:
    """How long opening the connections took, and how many opened if not all did."""
    if not row.setup_s:
        return ""
    if partly_opened(row):
        return f"{row.opened:,} of {row.conns:,} in {row.setup_s:.2f} s"
    return f"{row.setup_s:.2f} s"


def _notes(group: list[Row], cells: list[Cell]) -> list[str]:
    """The footnotes of one workload's table: the ``*`` mark, then what its runs noted."""
    marked = [GENERATOR_BOUND_NOTE] if any(generator_bound(r) for r in group) else []
    return marked + [n for c in cells if c.workload.name == group[0].workload for n in c.notes]


def grouped(all_rows: list[Row]) -> dict[str, list[Row]]:
    """Rows by workload, in the order the suite ran them."""
    groups: dict[str, list[Row]] = {}
    for row in all_rows:
        groups.setdefault(row.workload, []).append(row)
    return groups


def text(all_rows: list[Row], cells: list[Cell], meta: dict[str, object]) -> str:
    """The table for a terminal: a block per workload, columns aligned."""
    lines = [f"{k}: {v}" for k, v in meta.items()]
    skipped = _skipped(cells)
    for name, group in grouped(all_rows).items():
        table = [HEADER, *(cells_of(r) for r in group)]
        widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
        lines += ["", f"{name}: {group[0].title}"]
        for cells_row in table:
            first = cells_row[0].ljust(widths[0])
            rest = "  ".join(c.rjust(w) for c, w in zip(cells_row[1:], widths[1:], strict=True))
            lines.append(f"  {first}  {rest}")
        lines += [f"  {note}" for note in _notes(group, cells)]
        lines += [f"  (not run: {v} - {why})" for v, why in skipped.get(name, [])]
    return "\n".join(lines) + "\n"


def markdown(all_rows: list[Row], cells: list[Cell], meta: dict[str, object]) -> str:
    """The same tables as GitHub-flavoured Markdown."""
    lines = ["# sockserve benchmark results", "", *(f"- **{k}**: {v}" for k, v in meta.items())]
    skipped = _skipped(cells)
    for name, group in grouped(all_rows).items():
        lines += ["", f"## {name}", "", group[0].title, ""]
        lines.append("| " + " | ".join(HEADER) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(HEADER) - 1)) + "|")
        lines += ["| " + " | ".join(map(_md, cells_of(r))) + " |" for r in group]
        lines += ["", *(f"- {_md(note)}" for note in _notes(group, cells))]
        lines += [f"- not run: {v}: {why}" for v, why in skipped.get(name, [])]
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    """``text`` with the ``*`` mark escaped: Markdown would read it as a bullet or emphasis."""
    return text.replace("*", "\\*")


def _skipped(cells: list[Cell]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for c in cells:
        if c.skipped is not None:
            out.setdefault(c.workload.name, []).append((c.variant.name, c.skipped))
    return out


def as_json(all_rows: list[Row], cells: list[Cell], meta: dict[str, object]) -> dict[str, object]:
    """Everything measured, every run included, for tools and for later comparison."""
    return {
        "meta": meta,
        "rows": [_no_nan(asdict(r)) for r in all_rows],
        "notes": [{"workload": c.workload.name, "note": n} for c in cells for n in c.notes],
        "not_run": [
            {"workload": w, "variant": v, "why": why}
            for w, pairs in _skipped(cells).items()
            for v, why in pairs
        ],
    }


def _no_nan(value: object) -> object:
    """``value`` with every NaN (a figure that does not apply) as ``None``: strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    return value
