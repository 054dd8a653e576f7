"""Small server-side SVG charts: no JavaScript, readable without colour, work offline."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

BAR_HEIGHT = 22
LABEL_WIDTH = 150
CHART_WIDTH = 520


def bar_chart(items: Sequence[tuple[str, int]], *, title: str) -> str:
    """Horizontal bars with their values written out; an accessible <svg> string."""
    if not items:
        return f'<p class="muted">No data for {escape(title.lower())} yet.</p>'
    peak = max(value for _, value in items) or 1
    bar_space = CHART_WIDTH - LABEL_WIDTH - 70
    height = BAR_HEIGHT * len(items) + 8
    rows = []
    for index, (label, value) in enumerate(items):
        y = index * BAR_HEIGHT + 4
        width = max(2, round(bar_space * value / peak))
        rows.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end" class="chart-label">'
            f"{escape(label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width}" height="{BAR_HEIGHT - 8}" '
            'class="chart-bar" rx="2"/>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{y + 15}" class="chart-value">{value:,}</text>'
        )
    return (
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="100%" class="chart"><title>{escape(title)}</title>{"".join(rows)}</svg>'
    )


LINE_HEIGHT = 200
LINE_LEFT = 40
LINE_BOTTOM = 28


def line_chart(points: Sequence[tuple[str, float]], *, title: str, top: float = 100.0, unit: str = "") -> str:
    """One line over days (labels on the x axis, 0..top on the y axis), with each value written."""
    if not points:
        return f'<p class="muted">No data for {escape(title.lower())} yet.</p>'
    plot_width = CHART_WIDTH - LINE_LEFT - 20
    plot_height = LINE_HEIGHT - LINE_BOTTOM - 12
    step = plot_width / max(1, len(points) - 1)

    def x(index: int) -> float:
        return LINE_LEFT + (index * step if len(points) > 1 else plot_width / 2)

    def y(value: float) -> float:
        return 12 + plot_height * (1 - max(0.0, min(value, top)) / top)

    grid = []
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        level = top * fraction
        grid.append(
            f'<line x1="{LINE_LEFT}" x2="{LINE_LEFT + plot_width}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            f'class="chart-grid"/><text x="{LINE_LEFT - 6}" y="{y(level) + 4:.1f}" text-anchor="end" '
            f'class="chart-label">{level:g}</text>'
        )
    path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
    every = max(1, len(points) // 8)
    marks = []
    for index, (label, value) in enumerate(points):
        marks.append(
            f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" class="chart-point">'
            f"<title>{escape(label)}: {value:g}{unit}</title></circle>"
        )
        if index % every == 0 or index == len(points) - 1:
            marks.append(
                f'<text x="{x(index):.1f}" y="{LINE_HEIGHT - 8}" text-anchor="middle" '
                f'class="chart-label">{escape(label)}</text>'
            )
    last_label, last_value = points[-1]
    return (
        f'<svg role="img" aria-label="{escape(title)}: {last_value:g}{unit} on {escape(last_label)}" '
        f'viewBox="0 0 {CHART_WIDTH} {LINE_HEIGHT}" width="100%" class="chart"><title>{escape(title)}</title>'
        f'{"".join(grid)}<polyline points="{path}" class="chart-line" fill="none"/>{"".join(marks)}</svg>'
    )


WEIGHT_BAR_WIDTH = 160
WEIGHT_BAR_HEIGHT = 16
# log2 Bayes factor at which a bar reaches the edge: 2^10, a thousand to one; longer bars are cut.
WEIGHT_BAR_SCALE = 10.0


def weight_bar(weight: float, *, scale: float = WEIGHT_BAR_SCALE) -> str:
    """A bar either side of zero for a match weight (log2 Bayes factor): right for a match, left against."""
    half = WEIGHT_BAR_WIDTH / 2
    length = max(1.0, (half - 2) * min(abs(weight), scale) / scale) if weight else 0.0
    x, kind = (half, "weight-for") if weight >= 0 else (half - length, "weight-against")
    direction = "for a match" if weight > 0 else "against a match" if weight < 0 else "neutral"
    label = escape(f"weight {weight:+.2f}, {direction}")
    return (
        f'<svg role="img" aria-label="{label}" viewBox="0 0 {WEIGHT_BAR_WIDTH} {WEIGHT_BAR_HEIGHT}" '
        f'width="{WEIGHT_BAR_WIDTH}" height="{WEIGHT_BAR_HEIGHT}" class="weight-bar"><title>{label}</title>'
        f'<rect x="{x:.1f}" y="3" width="{length:.1f}" height="{WEIGHT_BAR_HEIGHT - 6}" class="{kind}"/>'
        f'<line x1="{half}" x2="{half}" y1="0" y2="{WEIGHT_BAR_HEIGHT}" class="weight-axis"/></svg>'
    )


# Several lines on one chart, told apart by dash pattern and marker as well as colour.
SERIES_STYLES = (
    ("#1b7a3a", "", "circle"),
    ("#8a5a00", "6 4", "square"),
    ("#a4161a", "2 3", "diamond"),
    ("#1f5fbf", "10 3 2 3", "circle"),
)
LINES_HEIGHT = 230
LINES_LEGEND = 22
LINES_LEFT = 52


def lines_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    unit: str = "",
    notes: Sequence[Sequence[str]] = (),
) -> str:
    """Up to four lines over the same labels with a legend; None leaves a gap. `notes[s][i]` is
    added to point i's tooltip of series s (e.g. the counts behind a rate)."""
    if not labels:
        return f'<p class="muted">No data for {escape(title.lower())} yet.</p>'
    plot_width = CHART_WIDTH - LINES_LEFT - 36
    plot_height = LINES_HEIGHT - LINE_BOTTOM - 12 - LINES_LEGEND
    peak = max((v for _, values in series for v in values if v is not None), default=0.0)
    top = _round_top(peak)
    step = plot_width / max(1, len(labels) - 1)

    def x(index: int) -> float:
        return LINES_LEFT + (index * step if len(labels) > 1 else plot_width / 2)

    def y(value: float) -> float:
        return LINES_LEGEND + 12 + plot_height * (1 - max(0.0, min(value, top)) / top)

    parts = []
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        level = top * fraction
        parts.append(
            f'<line x1="{LINES_LEFT}" x2="{LINES_LEFT + plot_width}" y1="{y(level):.1f}" y2="{y(level):.1f}" '
            f'class="chart-grid"/><text x="{LINES_LEFT - 6}" y="{y(level) + 4:.1f}" text-anchor="end" '
            f'class="chart-label">{level:g}{escape(unit)}</text>'
        )
    # Every n-th label, so that labels about 60px wide never overlap.
    every = max(1, -(-len(labels) * 60 // round(plot_width)))
    for index, label in enumerate(labels):
        if (len(labels) - 1 - index) % every == 0:  # counted from the end: the latest is always named
            parts.append(
                f'<text x="{x(index):.1f}" y="{LINES_HEIGHT - 8}" text-anchor="middle" '
                f'class="chart-label">{escape(label)}</text>'
            )
    for number, (name, values) in enumerate(series):
        colour, dash, marker = SERIES_STYLES[number % len(SERIES_STYLES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        lx = LINES_LEFT + number * 150
        parts.append(
            f'<line x1="{lx}" x2="{lx + 28}" y1="10" y2="10" stroke="{colour}" stroke-width="2"{dashed}/>'
            f"{_marker(marker, lx + 14, 10, colour)}"
            f'<text x="{lx + 34}" y="14" class="chart-label">{escape(name)}</text>'
        )
        runs: list[list[str]] = [[]]
        for index, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(index):.1f},{y(value):.1f}")
            note = notes[number][index] if number < len(notes) else ""
            tip = f"{name}, {labels[index]}: {value:g}{unit}" + (f" ({note})" if note else "")
            parts.append(_marker(marker, x(index), y(value), colour, tip=tip))
        for run in runs:
            if len(run) > 1:
                points = " ".join(run)
                parts.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dashed}/>'
                )
    latest = ", ".join(
        f"{name} {values[-1]:g}{unit}" if values and values[-1] is not None else f"{name} n/a"
        for name, values in series
    )
    label = f"{title}; {labels[-1]}: {latest}"
    return (
        f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {CHART_WIDTH} {LINES_HEIGHT}" '
        f'width="100%" class="chart"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )


def _marker(shape: str, cx: float, cy: float, colour: str, *, tip: str = "") -> str:
    inner = f"<title>{escape(tip)}</title>" if tip else ""
    if shape == "square":
        corner = f'x="{cx - 3.5:.1f}" y="{cy - 3.5:.1f}"'
        return f'<rect {corner} width="7" height="7" fill="{colour}">{inner}</rect>'
    if shape == "diamond":
        corners = ((cx, cy - 4.5), (cx + 4.5, cy), (cx, cy + 4.5), (cx - 4.5, cy))
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in corners)
        return f'<polygon points="{points}" fill="{colour}">{inner}</polygon>'
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}">{inner}</circle>'


def _round_top(value: float) -> float:
    """A round top for the y axis: 1, 2, 5, 10, 20, 50, 100..."""
    top = 1.0
    while top < value:
        for factor in (2, 2.5, 2):
            top *= factor
            if top >= value:
                break
    return top
