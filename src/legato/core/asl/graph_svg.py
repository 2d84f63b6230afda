"""A laid-out state machine (``graph_layout``) as a standalone SVG document.

What the web UI relies on (it styles and updates the drawing by these names):

- the root ``<svg class="legato-graph" viewBox="0 0 W H">``;
- each state is ``<g class="state s-STATUS" data-state="NAME" data-type="TYPE">`` holding its
  shape (``rect`` or, for a Choice, ``polygon``) and its ``text``; a Parallel or Map is such a
  ``g`` too (class ``state group``), drawn as a frame behind its lanes (``rect class="lane"``).
  State groups are never nested in one another, so a rule for one state's class never reaches
  another's. STATUS is one of ``state_progress.STATUSES``, or ``none`` for a definition;
- each transition is ``<path class="edge e-KIND">`` (``data-source``, ``data-target``; class
  ``taken`` once an execution took it), its words in a ``<g class="edge-label">``; the start
  and end markers are ``g.marker``;
- with statuses, a ``g.legend`` of the colours under the graph;
- a white ``rect.background`` behind it all (a page may make it transparent).

Colours are presentation attributes: any CSS rule of the page overrides them, and the file
looks right opened alone. Pure: a string out of the layout.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from xml.sax.saxutils import escape, quoteattr

from legato.core.asl.graph_layers import Box
from legato.core.asl.graph_layout import (
    HEADER,
    LABEL_CHAR_W,
    LABEL_H,
    LINE_H,
    Lane,
    Layout,
    PlacedEdge,
    PlacedState,
    label_text,
    text_width,
)

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
#: fill, stroke and text colour of each status
PALETTE: dict[str, tuple[str, str, str]] = {
    "none": ("#ffffff", "#64748b", "#0f172a"),
    "not_reached": ("#f8fafc", "#cbd5e1", "#64748b"),
    "running": ("#dbeafe", "#2563eb", "#1e3a8a"),
    "succeeded": ("#dcfce7", "#16a34a", "#14532d"),
    "failed": ("#fee2e2", "#dc2626", "#7f1d1d"),
    "caught": ("#ffedd5", "#ea580c", "#7c2d12"),
    "retried": ("#fef9c3", "#ca8a04", "#713f12"),
}
WORDS = {
    "not_reached": "not reached",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "caught": "error caught",
    "retried": "retried",
}
EDGE = "#94a3b8"
TAKEN = "#334155"
CATCH = "#ea580c"
ARROWS = {"legato-arrow": EDGE, "legato-arrow-catch": CATCH, "legato-arrow-taken": TAKEN}
LEGEND_ROW = 22.0
MIN_WIDTH = 240.0  # an execution's drawing: room for its legend in two rows
BEND = 14.0


def to_svg(
    layout: Layout,
    statuses: Mapping[str, str] | None = None,
    title: str | None = None,
    notes: Mapping[str, str] | None = None,
    taken: Collection[tuple[str, str]] = (),
) -> str:
    """The SVG text. ``statuses`` maps state names to their progress (absent: not_reached);
    None draws a definition. ``notes`` add a line to a state's tooltip (``<title>``).
    ``taken`` transitions (source, target) are drawn darker (class ``taken``); with statuses,
    the start marker's edge is taken once the first state was reached, an end marker's once its
    state succeeded."""
    width = max(layout.width, MIN_WIDTH if statuses is not None else 0.0)
    legend = _legend(layout.height, width) if statuses is not None else None
    height = layout.height + (legend[1] if legend else 0.0)
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" class="legato-graph" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" '
        f'height="{_n(height)}" font-family={quoteattr(FONT)} font-size="13">',
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append("<defs>" + "".join(_arrow(name, colour) for name, colour in ARROWS.items())
               + "</defs>")  # fmt: skip
    out.append('<rect class="background" width="100%" height="100%" fill="#ffffff"/>')

    def status_of(name: str) -> str:
        if statuses is None:
            return "none"
        return statuses.get(name, "not_reached")

    lanes: dict[str, list[Lane]] = {}
    for lane in layout.lanes:
        lanes.setdefault(lane.parent, []).append(lane)
    for p in layout.states.values():  # a group before its lanes, an outer one first
        if not p.group:
            continue
        out.append(_group(p, status_of(p.node.id), notes))
        for lane in lanes.get(p.node.id, []):
            out.append(
                f'<g class="lane" data-parent={quoteattr(lane.parent)} '
                f'data-branch="{lane.branch}">'
                f"{_rect(lane.box, 6, '#ffffff', '#cbd5e1', dash=True)}"
                f'<text x="{_n(lane.box.x + 8)}" y="{_n(lane.box.y + 13)}" font-size="10.5" '
                f'fill="#64748b">{escape(lane.title)}</text></g>'
            )
    for e in layout.edges:
        went = (e.source, e.target) in taken if e.source and e.target else False
        if statuses is not None and e.source is None and e.target is not None:
            went = status_of(e.target) != "not_reached"
        elif statuses is not None and e.target is None and e.source is not None:
            ended = status_of(e.source)
            fail = layout.states[e.source].node.type == "Fail"
            went = ended in ("succeeded", "retried") or (fail and ended == "failed")
        out.append(_edge(e, went))
    for e in layout.edges:
        if e.label and e.label_at:
            out.append(_label(e))
    for p in layout.states.values():
        if not p.group:
            out.append(_state(p, status_of(p.node.id), notes))
    for m in layout.markers:
        fill = "#0f172a" if m.kind == "start" else "#ffffff"
        inner = (
            f'<circle cx="{_n(m.center[0])}" cy="{_n(m.center[1])}" r="{_n(m.radius - 4)}" '
            'fill="#0f172a"/>'
            if m.kind == "end"
            else ""
        )
        out.append(
            f'<g class="marker m-{m.kind}"><title>{m.kind}</title><circle cx="{_n(m.center[0])}" '
            f'cy="{_n(m.center[1])}" r="{_n(m.radius)}" fill="{fill}" stroke="#0f172a" '
            f'stroke-width="1.5"/>{inner}</g>'
        )
    if legend:
        out.append(legend[0])
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _tooltip(p: PlacedState, status: str, notes: Mapping[str, str] | None) -> str:
    text = f"{p.node.name} ({p.node.type})"
    if status != "none":
        text += f": {WORDS.get(status, status)}"
    note = notes.get(p.node.id) if notes else None
    if note:
        text += f"\n{note}"
    return f"<title>{escape(text)}</title>"


def _open(p: PlacedState, status: str, extra: str = "") -> str:
    return (
        f'<g class="state{extra} s-{status}" data-state={quoteattr(p.node.id)} '
        f"data-type={quoteattr(p.node.type)}>"
    )


def _group(p: PlacedState, status: str, notes: Mapping[str, str] | None) -> str:
    fill, stroke, ink = PALETTE.get(status, PALETTE["none"])
    if status in ("none", "not_reached"):
        fill = "#f1f5f9"
    b = p.box
    name = p.lines[0] if len(p.lines) == 1 else p.node.name
    kind = p.node.type + ("" if status == "none" else f" · {WORDS.get(status, status)}")
    return (
        _open(p, status, " group")
        + _tooltip(p, status, notes)
        + _rect(b, 10, fill, stroke, width=1.5)
        + f'<text x="{_n(b.x + 12)}" y="{_n(b.y + 17)}" font-weight="600" fill="{ink}">'
        f"{escape(name)}</text>"
        f'<text class="type" x="{_n(b.x + 12)}" y="{_n(b.y + HEADER - 8)}" font-size="11" '
        f'fill="{ink}" fill-opacity="0.75">{escape(kind)}</text></g>'
    )


def _state(p: PlacedState, status: str, notes: Mapping[str, str] | None) -> str:
    fill, stroke, ink = PALETTE.get(status, PALETTE["none"])
    b = p.box
    if p.node.type == "Choice":
        shape = _choice_shape(b, fill, stroke)
    else:
        radius = b.height / 2 if p.node.type in ("Succeed", "Fail") else 7.0
        shape = _rect(b, radius, fill, stroke, width=2.0 if status == "failed" else 1.5)
    cx = b.x + b.width / 2
    top = b.y + (b.height - LINE_H * len(p.lines) - 13) / 2 + 12
    parts = [_open(p, status), _tooltip(p, status, notes), shape]
    for i, line in enumerate(p.lines):
        parts.append(
            f'<text x="{_n(cx)}" y="{_n(top + i * LINE_H)}" text-anchor="middle" '
            f'font-weight="600" fill="{ink}">{escape(line)}</text>'
        )
    kind = p.node.type + ("" if status in ("none",) else f" · {WORDS.get(status, status)}")
    parts.append(
        f'<text class="type" x="{_n(cx)}" y="{_n(top + len(p.lines) * LINE_H)}" '
        f'text-anchor="middle" font-size="11" fill="{ink}" fill-opacity="0.75">'
        f"{escape(kind)}</text></g>"
    )
    return "".join(parts)


def _choice_shape(b: Box, fill: str, stroke: str) -> str:
    tip = min(16.0, b.height / 2)
    cy = b.y + b.height / 2
    pts = [
        (b.x, cy), (b.x + tip, b.y), (b.x + b.width - tip, b.y), (b.x + b.width, cy),
        (b.x + b.width - tip, b.y + b.height), (b.x + tip, b.y + b.height),
    ]  # fmt: skip
    text = " ".join(f"{_n(x)},{_n(y)}" for x, y in pts)
    return f'<polygon points="{text}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'


def _edge(e: PlacedEdge, went: bool) -> str:
    if len(e.points) < 2:
        return ""
    catch = "catch" in e.kinds and len(e.kinds) == 1
    classes = " ".join(f"e-{k}" for k in e.kinds) + (" taken" if went else "")
    ends = "".join(
        f" data-{k}={quoteattr(v)}" for k, v in (("source", e.source), ("target", e.target)) if v
    )
    colour = CATCH if catch else (TAKEN if went else EDGE)
    dash = ' stroke-dasharray="5 4"' if catch else ""
    arrow = "legato-arrow-catch" if catch else ("legato-arrow-taken" if went else "legato-arrow")
    return (
        f'<path class="edge {classes}"{ends} d="{_path(e.points)}" fill="none" '
        f'stroke="{colour}" stroke-width="{2.5 if went else 1.5}"{dash} '
        f'marker-end="url(#{arrow})"/>'
    )


def _path(points: tuple[tuple[float, float], ...]) -> str:
    """A polyline through the points, each bend rounded (radius up to ``BEND``): it goes
    through the middle of every edge label, which sits on a bend."""
    d = [f"M{_n(points[0][0])},{_n(points[0][1])}"]
    for i in range(1, len(points) - 1):
        (ax, ay), (bx, by), (cx, cy) = points[i - 1], points[i], points[i + 1]
        ab = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
        bc = ((cx - bx) ** 2 + (cy - by) ** 2) ** 0.5
        r = min(BEND, ab / 2, bc / 2)
        if r <= 0.5:
            d.append(f"L{_n(bx)},{_n(by)}")
            continue
        p1 = (bx - (bx - ax) * r / ab, by - (by - ay) * r / ab)
        p2 = (bx + (cx - bx) * r / bc, by + (cy - by) * r / bc)
        d.append(f"L{_n(p1[0])},{_n(p1[1])} Q{_n(bx)},{_n(by)} {_n(p2[0])},{_n(p2[1])}")
    d.append(f"L{_n(points[-1][0])},{_n(points[-1][1])}")
    return " ".join(d)


def _label(e: PlacedEdge) -> str:
    assert e.label is not None and e.label_at is not None
    text = label_text(e.label)
    w = text_width(text, LABEL_CHAR_W) + 10
    x, y = e.label_at
    colour = CATCH if "catch" in e.kinds else "#334155"
    return (
        f'<g class="edge-label"><title>{escape(e.label)}</title>'
        f'<rect x="{_n(x - w / 2)}" y="{_n(y - LABEL_H / 2)}" width="{_n(w)}" '
        f'height="{_n(LABEL_H)}" rx="4" '
        f'fill="#ffffff" fill-opacity="0.92" stroke="#e2e8f0"/>'
        f'<text x="{_n(x)}" y="{_n(y + 4)}" text-anchor="middle" font-size="11" '
        f'fill="{colour}">{escape(text)}</text></g>'
    )


def _legend(top: float, width: float) -> tuple[str, float]:
    """The statuses' colours in rows as wide as the drawing; and their height."""
    parts = ['<g class="legend">']
    x, y = 14.0, top + 4
    for status, word in WORDS.items():
        step = 19 + text_width(word, LABEL_CHAR_W) + 16
        if x > 14 and x + step - 16 > width - 14:
            x, y = 14.0, y + LEGEND_ROW
        fill, stroke, _ = PALETTE[status]
        parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="14" height="14" rx="3" fill="{fill}" '
            f'stroke="{stroke}"/><text x="{_n(x + 19)}" y="{_n(y + 11)}" font-size="11" '
            f'fill="#334155">{escape(word)}</text>'
        )
        x += step
    parts.append("</g>")
    return "".join(parts), y + LEGEND_ROW + 8 - top


def _arrow(name: str, colour: str) -> str:
    """An arrowhead of a fixed size, whatever the line's width."""
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
        f'markerWidth="10" markerHeight="10" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
    )


def _rect(
    b: Box, radius: float, fill: str, stroke: str, width: float = 1.0, dash: bool = False
) -> str:
    dashes = ' stroke-dasharray="4 3"' if dash else ""
    return (
        f'<rect x="{_n(b.x)}" y="{_n(b.y)}" width="{_n(b.width)}" height="{_n(b.height)}" '
        f'rx="{_n(radius)}" fill="{fill}" stroke="{stroke}" stroke-width="{_n(width)}"{dashes}/>'
    )


def _n(value: float) -> str:
    """A coordinate as short text: ``12``, ``12.5``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text
