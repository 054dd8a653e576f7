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
