"""Bar charts as SVG, drawn on the server: no script, no inline style (the CSP holds), a title and a
description for assistive technology; each page puts the same numbers in a table beside the chart."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

ROW = 28
LABEL = 170
BAR = 300
WIDTH = LABEL + BAR + 60


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    css: str = "bar"  # a class of site.css (the status colours reuse the badges' names)


def bar_chart(chart_id: str, title: str, description: str, bars: list[Bar], *, unit: str = "") -> Markup:
    """A horizontal bar chart; it scales to its container (viewBox), so it never scrolls sideways."""
    height = max(1, len(bars)) * ROW + 8
    top = max((b.value for b in bars), default=0) or 1
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" direction="ltr" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        length = round(BAR * bar.value / top, 1)
        value = f"{bar.value:g}{unit}"
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + 18}" text-anchor="end" class="chart-label">{escape(bar.label)}</text>'
            f'<rect x="{LABEL}" y="{y + 4}" width="{length}" height="{ROW - 10}" class="{escape(bar.css)}"/>'
            f'<text x="{LABEL + length + 6}" y="{y + 18}" class="chart-value">{escape(value)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped
