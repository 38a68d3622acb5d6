"""Tiny inline-SVG charts: grouped bars with CI whiskers, stacked bars, histograms, scatter.

Written by hand so the HTML report needs no JavaScript library and no network. Every label
is escaped; coordinates are plain floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BASE_COLOR = "#7f8c9a"
TUNED_COLOR = "#2a7de1"
WIN, TIE, LOSS = "#2e9d5b", "#c9c9c9", "#d0483e"


@dataclass(frozen=True)
class Series:
    """One bar series: a value per group, optionally with CI ends."""

    name: str
    color: str
    values: Sequence[float]
    lows: Sequence[float] | None = None
    highs: Sequence[float] | None = None


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-family="sans-serif">{escape(text)}</text>'
    )


def _legend(series: Sequence[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for i, (name, color) in enumerate(series):
        xi = x + i * 120
        out.append(f'<rect x="{xi:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{color}"/>')
        out.append(_text(xi + 14, y, name, "start"))
    return out


def grouped_bars(
    groups: Sequence[str], series: Sequence[Series], title: str, y_max: float | None = None
) -> str:
    """Vertical grouped bars with CI whiskers, one group per label."""
    width, height, left, bottom, top = max(320, 90 * len(groups) + 80), 260, 50, 60, 30
    tops = [h for s in series for h in (s.highs or s.values)] + [
        v for s in series for v in s.values
    ]
    ymax = y_max if y_max is not None else max([*tops, 1e-9]) * 1.1
    plot_h = height - bottom - top
    slot = (width - left - 10) / max(1, len(groups))
    bar = slot * 0.8 / max(1, len(series))

    def y(v: float) -> float:
        return top + plot_h * (1 - max(0.0, min(v, ymax)) / ymax)

    body = [_text(width / 2, 16, title, size=13)]
    body.append(f'<path d="M{left} {top + plot_h}H{width - 10}" stroke="#333"/>')
    for tick in (0.0, ymax / 2, ymax):
        body.append(_text(left - 6, y(tick) + 4, f"{tick:.2g}", "end", 10))
    for gi, group in enumerate(groups):
        x0 = left + gi * slot + slot * 0.1
        for si, s in enumerate(series):
            v = s.values[gi]
            x = x0 + si * bar
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y(v):.1f}" width="{bar - 2:.1f}" '
                f'height="{top + plot_h - y(v):.1f}" fill="{s.color}"><title>'
                f"{escape(s.name)} {escape(group)}: {v:.3f}</title></rect>"
            )
            if s.lows is not None and s.highs is not None:
                cx = x + (bar - 2) / 2
                lo, hi = y(s.lows[gi]), y(s.highs[gi])
                body.append(
                    f'<path class="whisker" d="M{cx:.1f} {lo:.1f}V{hi:.1f}M{cx - 4:.1f} '
                    f'{lo:.1f}h8M{cx - 4:.1f} {hi:.1f}h8" stroke="#111" fill="none"/>'
                )
        body.append(_text(x0 + slot * 0.4, top + plot_h + 14, group[:14]))
    body += _legend([(s.name, s.color) for s in series], left, height - 12)
    return _svg(int(width), height, body, title)


def stacked_bars(rows: Sequence[tuple[str, int, int, int]], title: str) -> str:
    """Horizontal 100% bars of (label, wins, ties, losses)."""
    row_h, left, width = 26, 110, 560
    height = 40 + row_h * len(rows) + 30
    body = [_text(width / 2, 16, title, size=13)]
    for i, (label, w, t, lo) in enumerate(rows):
        total = max(1, w + t + lo)
        y0, x = 30 + i * row_h, float(left)
        body.append(_text(left - 6, y0 + 15, label[:16], "end"))
        for count, color, name in ((w, WIN, "win"), (t, TIE, "tie"), (lo, LOSS, "loss")):
            span = (width - left - 20) * count / total
            if count:
                body.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y0}" width="{span:.1f}" '
                    f'height="{row_h - 6}" '
                    f'fill="{color}"><title>{escape(label)} {name}: {count}</title></rect>'
                )
                body.append(_text(x + span / 2, y0 + 14, str(count), size=10))
            x += span
    body += _legend(
        [("fine-tuned wins", WIN), ("tie", TIE), ("base wins", LOSS)], left, height - 10
    )
    return _svg(width, height, body, title)


def histogram(
    bins: Sequence[int], counts: Sequence[tuple[str, str, Sequence[int]]], title: str
) -> str:
    """Side-by-side counts per integer bin (e.g. judge scores 1..10) for several series."""
    return grouped_bars(
        [str(b) for b in bins],
        [Series(name, color, [float(c) for c in values]) for name, color, values in counts],
        title,
    )


def scatter(
    points: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    title: str,
    x_label: str,
    y_label: str,
) -> str:
    """Scatter plot of (x, y) points for several series."""
    width, height, left, bottom, top = 560, 280, 50, 60, 30
    xs = [p[0] for _, _, pts in points for p in pts] or [0.0]
    ys = [p[1] for _, _, pts in points for p in pts] or [0.0]
    x_max, y_max = max(max(xs), 1.0) * 1.05, max(max(ys), 1.0) * 1.05
    plot_w, plot_h = width - left - 20, height - bottom - top
    body = [_text(width / 2, 16, title, size=13)]
    body.append(
        f'<path d="M{left} {top}V{top + plot_h}H{left + plot_w}" stroke="#333" fill="none"/>'
    )
    body.append(_text(left + plot_w / 2, top + plot_h + 28, x_label))
    body.append(_text(12, top + plot_h / 2, y_label, "middle", 10))
    body.append(_text(left - 6, top + 4, f"{y_max:.3g}", "end", 10))
    body.append(_text(left + plot_w, top + plot_h + 14, f"{x_max:.3g}", "end", 10))
    for name, color, pts in points:
        for px, py in pts:
            cx = left + plot_w * px / x_max
            cy = top + plot_h * (1 - py / y_max)
            body.append(
                f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{color}" '
                f'fill-opacity="0.7"><title>{escape(name)}: {px:g}, {py:g}</title></circle>'
            )
    body += _legend([(n, c) for n, c, _ in points], left, height - 10)
    return _svg(width, height, body, title)
