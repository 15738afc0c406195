"""Text set at an angle (rotated table headers, a landscape table on a portrait page, an
axis label) → lines read along their own baseline.

pdfplumber builds words along the page's x axis only: text turned 90° came out one letter
per line, and text turned 180° backwards. pdftotext reads both. So the chars are grouped by
the angle of their baseline; each group is turned back to horizontal (a rotation, so glyph
spacing and line gaps keep their meaning), read into words and lines like upright text, and
its lines are placed at the group's top-left on the page, stacked closely, so the reading
order keeps them together and the paragraph rules still see their paragraph breaks.
"""

from __future__ import annotations

import math

from pdfplumber.utils import extract_words

from ingest.pdf_accents import merge_accents
from ingest.pdf_blocks import _new_paragraph
from ingest.pdf_layout import WORD_GAP, Line, _group_lines, _inside

# Baselines within this many degrees of horizontal are upright text (slanted scans, italic
# fonts set with a skewed matrix).
UPRIGHT_TOLERANCE = 1
ANGLE_SPAN = 8
# The gap that separates the lines of one paragraph, and of two, once placed on the page
# (in points; the paragraph rules measure gaps against the font size).
LINE_STEP = 0.01
PARAGRAPH_STEP = 2.0  # × font size


def baseline_angle(char: dict) -> int:
    """The direction the char's text runs in, in whole degrees counter-clockwise (0–359)."""
    a, b = char["matrix"][0], char["matrix"][1]
    if b == 0 and a >= 0:
        return 0
    return round(math.degrees(math.atan2(b, a))) % 360


def split_by_angle(chars: list[dict]) -> tuple[list[dict], dict[int, list[dict]]]:
    """The upright chars, and the others grouped by the angle of their baseline.

    Text set along a curve turns a little from glyph to glyph: angles within
    ``ANGLE_SPAN`` degrees of a group's first form one group, read at its middle angle."""
    upright: list[dict] = []
    by_angle: dict[int, list[dict]] = {}
    for char in chars:
        angle = baseline_angle(char)
        if min(angle, 360 - angle) <= UPRIGHT_TOLERANCE:
            upright.append(char)
        else:
            by_angle.setdefault(angle, []).append(char)
    turned: dict[int, list[dict]] = {}
    group: list[int] = []
    for angle in [*sorted(by_angle), None]:
        if group and (angle is None or angle - group[0] > ANGLE_SPAN):
            turned[group[len(group) // 2]] = [c for a in group for c in by_angle[a]]
            group = []
        if angle is not None:
            group.append(angle)
    return upright, turned


def turned_lines(turned: dict[int, list[dict]], table_boxes: list[tuple]) -> list[Line]:
    """Lines of the turned chars (those inside a table are the table's), in page
    coordinates: each angle's lines stacked at the top-left of the chars at that angle."""
    lines: list[Line] = []
    for angle, chars in sorted(turned.items()):
        chars = [c for c in chars if not any(_inside(c, box) for box in table_boxes)]
        if not any(c["text"].strip() for c in chars):
            continue
        frame = merge_accents([_to_frame(c, angle) for c in chars])
        words = extract_words(
            frame, x_tolerance_ratio=WORD_GAP, y_tolerance=3, extra_attrs=["size", "fontname"]
        )
        top = min(float(c["top"]) for c in chars)
        x0 = min(float(c["x0"]) for c in chars)
        lines.extend(_stack(_group_lines(words, None), top, x0))
    return lines


def _to_frame(char: dict, angle: int) -> dict:
    """The char as it would lie had its text been set horizontally: its box centre turned
    by ``-angle`` about the page origin, its width the advance, its height the font size."""
    t = math.radians(angle)
    cos, sin = math.cos(t), math.sin(t)
    a, b = char["matrix"][0], char["matrix"][1]
    advance = float(char.get("adv") or 0.0) * math.hypot(a, b)
    width = float(char["x1"] - char["x0"])
    height = float(char["bottom"] - char["top"])
    # The page box of a turned glyph is the envelope of its advance and its height.
    if abs(cos) >= abs(sin):
        size = (height - advance * abs(sin)) / abs(cos)
    else:
        size = (width - advance * abs(cos)) / abs(sin)
    size = max(size, 1.0)
    cx, cy = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
    # Page y grows downwards, so the baseline runs along (cos, -sin) and "down" in the
    # text's own frame is (sin, cos).
    u, v = cx * cos - cy * sin, cx * sin + cy * cos
    frame = dict(char)
    frame.update(
        x0=u - advance / 2,
        x1=u + advance / 2,
        top=v - size / 2,
        bottom=v + size / 2,
        doctop=v - size / 2,
        size=size,
        upright=True,
    )
    return frame


def _stack(lines: list[Line], top: float, x0: float) -> list[Line]:
    """``lines`` (in the turned frame, in reading order) placed at ``top``/``x0`` on the
    page, a hair apart within a paragraph and two font sizes apart between paragraphs."""
    placed: list[Line] = []
    cursor = top
    prev: Line | None = None
    for line in lines:
        if prev is not None:
            cursor += line.size * PARAGRAPH_STEP if _new_paragraph(prev, line) else LINE_STEP
        placed.append(
            Line(
                text=line.text,
                top=cursor,
                bottom=cursor + LINE_STEP,
                x0=x0,
                size=line.size,
                bold=line.bold,
            )
        )
        cursor += LINE_STEP
        prev = line
    return placed
