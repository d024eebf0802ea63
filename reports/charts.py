"""Small SVG charts drawn by hand, so the HTML page and the PDF need no JavaScript or plotting library."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FONT = "'Noto Sans CJK KR', 'Noto Sans', 'DejaVu Sans', sans-serif"
SENTIMENT_COLORS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="{escape(FONT)}" font-size="11">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def horizontal_bars(rows: Sequence[tuple[str, float]], *, title: str, color: str = "#1565c0", width: int = 520) -> str:
    """One bar per (label, value), longest value spanning the plot; values printed at the bar ends."""
    bar, gap, label_w, value_w = 16, 6, 170, 50
    height = max(1, len(rows)) * (bar + gap) + gap
    top = max((value for _, value in rows), default=0) or 1
    plot = width - label_w - value_w
    body = []
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar + gap)
        length = plot * value / top
        body.append(f'<text x="{label_w - 6}" y="{y + bar - 4}" text-anchor="end">{escape(label)}</text>')
        body.append(f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar}" fill="{color}"/>')
        body.append(f'<text x="{label_w + length + 4:.1f}" y="{y + bar - 4}">{value:g}</text>')
    if not rows:
        body.append(f'<text x="{width / 2}" y="{height}" text-anchor="middle">no data</text>')
    return _svg(width, height + 4, body, title)


def stacked_shares(
    columns: Sequence[tuple[str, dict[str, int]]],
    *,
    title: str,
    series: Sequence[str] = ("negative", "neutral", "positive"),
    colors: dict[str, str] = SENTIMENT_COLORS,
    width: int = 520,
    height: int = 200,
) -> str:
    """One 100%-stacked column per (label, counts): the share of each series, with the total on top."""
    left, bottom, top_pad = 10, 34, 18
    slot = (width - left) / max(1, len(columns))
    bar_w = slot * 0.6
    plot_h = height - bottom - top_pad
    body = []
    for i, (label, counts) in enumerate(columns):
        x = left + i * slot + (slot - bar_w) / 2
        total = sum(counts.get(s, 0) for s in series)
        y: float = top_pad + plot_h
        for name in series:
            part = plot_h * counts.get(name, 0) / total if total else 0
            y -= part
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{part:.1f}" fill="{colors[name]}"/>'
            )
        body.append(f'<text x="{x + bar_w / 2:.1f}" y="{top_pad - 5}" text-anchor="middle">{total}</text>')
        label_y = height - bottom + 14
        body.append(f'<text x="{x + bar_w / 2:.1f}" y="{label_y}" text-anchor="middle">{escape(label)}</text>')
    for j, name in enumerate(series):
        x = left + j * 110
        body.append(f'<rect x="{x}" y="{height - 12}" width="10" height="10" fill="{colors[name]}"/>')
        body.append(f'<text x="{x + 14}" y="{height - 3}">{escape(name)}</text>')
    return _svg(width, height, body, title)
