"""Small server-rendered SVG charts (no JavaScript, no library; CSP-safe inline markup)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 36, 40, 12


@dataclass(frozen=True)
class Point:
    label: str
    present: int
    expected: int


def attendance_svg(points: list[Point], title: str = "Members present per session") -> str:
    """Bars of members present, with the expected count as a faint bar behind each."""
    if not points:
        return ""
    top = max(max(p.expected for p in points), max(p.present for p in points), 1)
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / len(points)
    bar = max(2.0, slot * 0.6)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 8}" '
        f'y2="{PAD_TOP + plot_h}" stroke="#888"/>',
        f'<text x="4" y="{PAD_TOP + 10}" font-size="11">{top}</text>',
        f'<text x="4" y="{PAD_TOP + plot_h}" font-size="11">0</text>',
    ]
    for i, p in enumerate(points):
        x = PAD_LEFT + i * slot + (slot - bar) / 2
        h_exp = plot_h * p.expected / top
        h_pre = plot_h * p.present / top
        parts.append(
            f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h_exp:.1f}" width="{bar:.1f}" '
            f'height="{h_exp:.1f}" fill="#dde6f0"/>'
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{PAD_TOP + plot_h - h_pre:.1f}" width="{bar:.1f}" '
            f'height="{h_pre:.1f}" fill="#3b6ea5"><title>{escape(p.label)}: {p.present} of '
            f"{p.expected} present</title></rect>"
        )
        if len(points) <= 16 or i % max(1, len(points) // 8) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" font-size="10" '
                f'text-anchor="middle">{escape(p.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
