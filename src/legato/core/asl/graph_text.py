"""A state machine's graph (``graph.py``) as text other tools draw: Graphviz ``dot`` and
Mermaid ``flowchart``. A Parallel or Map state is a cluster (a subgraph) holding one per branch;
edges into and out of it meet the cluster's border. Choice rules, Default and Catchers label
their edges; a Catch edge is dashed. With statuses (``state_progress``) each state is filled
with its status's colour (``graph_svg.PALETTE``). Pure: strings out of the graph.
"""

from __future__ import annotations

from collections.abc import Mapping

from legato.core.asl.graph import Graph, Node
from legato.core.asl.graph_layout import GROUPS, label_text
from legato.core.asl.graph_svg import PALETTE

_MARKERS = ("next", "choice", "default", "catch")  # edges drawn between states


def _groups(g: Graph) -> dict[str, dict[int, list[Node]]]:
    """Each Parallel or Map state's branches, each its states in order."""
    found: dict[str, dict[int, list[Node]]] = {}
    for n in g.states:
        if n.parent is not None and n.branch is not None:
            found.setdefault(n.parent, {}).setdefault(n.branch, []).append(n)
    return {k: v for k, v in found.items() if _type(g, k) in GROUPS}


def _type(g: Graph, name: str) -> str:
    return next((n.type for n in g.states if n.id == name), "")


def _status(statuses: Mapping[str, str] | None, name: str) -> str:
    return "none" if statuses is None else statuses.get(name, "not_reached")


# --- Graphviz ------------------------------------------------------------------------------------
def to_dot(g: Graph, statuses: Mapping[str, str] | None = None, title: str | None = None) -> str:
    """Graphviz ``dot`` source: ``dot -Tsvg`` draws it."""
    groups = _groups(g)
    clusters = {name: f"cluster_{i}" for i, name in enumerate(groups)}
    out = [f"digraph {_q(title or 'state machine')} {{"]
    out.append('  graph [rankdir=TB, compound=true, fontname="Helvetica", fontsize=12, '
               'nodesep=0.4, ranksep=0.5' + (f", label={_q(title)}, labelloc=t" if title else "")
               + "];")  # fmt: skip
    out.append('  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];')
    out.append('  edge [color="#64748b", fontname="Helvetica", fontsize=9];')
    start, end = _q(_free(g, "start")), _q(_free(g, "end"))
    out.append(f'  {start} [shape=circle, label="", width=0.2, style=filled, '
               'fillcolor="#0f172a"];')  # fmt: skip
    out.append(f'  {end} [shape=doublecircle, label="", width=0.15, style=filled, '
               'fillcolor="#0f172a"];')  # fmt: skip

    def node_line(n: Node, indent: str) -> str:
        fill, stroke, ink = PALETTE.get(_status(statuses, n.id), PALETTE["none"])
        shape = {"Choice": "hexagon", "Succeed": "oval", "Fail": "oval"}.get(n.type, "box")
        label = f"{n.name}\n{n.type}"
        status = _status(statuses, n.id)
        if status != "none":
            label += f" · {status.replace('_', ' ')}"
        return (f"{indent}{_q(n.id)} [label={_q(label)}, shape={shape}, "
                f'fillcolor="{fill}", color="{stroke}", fontcolor="{ink}"];')  # fmt: skip

    def scope(parent: str | None, branch: int | None, indent: str) -> None:
        for n in g.states:
            if n.parent != parent or n.branch != branch:
                continue
            if n.id in groups:
                fill, stroke, ink = PALETTE.get(_status(statuses, n.id), PALETTE["none"])
                status = _status(statuses, n.id)
                words = "" if status == "none" else f" · {status.replace('_', ' ')}"
                out.append(f"{indent}subgraph {clusters[n.id]} {{")
                out.append(f"{indent}  label={_q(f'{n.name} ({n.type}{words})')}; "
                           f'style="rounded,filled"; fillcolor="{fill}"; color="{stroke}"; '
                           f'fontcolor="{ink}";')  # fmt: skip
                for b in sorted(groups[n.id]):
                    title_ = "for each item" if n.type == "Map" else f"branch {b + 1}"
                    out.append(f"{indent}  subgraph {clusters[n.id]}_{b} {{")
                    out.append(f"{indent}    label={_q(title_)}; style=\"rounded,dashed,filled\"; "
                               'fillcolor="#ffffff"; color="#cbd5e1";')  # fmt: skip
                    scope(n.id, b, indent + "    ")
                    out.append(f"{indent}  }}")
                out.append(f"{indent}}}")
            else:
                out.append(node_line(n, indent))

    scope(None, None, "  ")

    def into(name: str) -> str:  # the node an edge into a group points at
        if name in groups:
            first = groups[name][min(groups[name])]
            return into(next((n.id for n in first if n.start), first[0].id))
        return name

    def out_of(name: str) -> str:
        if name in groups:
            first = groups[name][min(groups[name])]
            return out_of(next((n.id for n in reversed(first) if n.end), first[-1].id))
        return name

    if g.start is not None:
        head = f" [lhead={clusters[g.start]}]" if g.start in groups else ""
        out.append(f"  {start} -> {_q(into(g.start))}{head};")
    for e in g.edges:
        if e.kind not in _MARKERS:
            continue
        attrs = []
        if e.label:
            attrs.append(f"label={_q(label_text(e.label))}")
        if e.kind == "catch":
            attrs.append('style=dashed, color="#ea580c", fontcolor="#ea580c"')
        if e.source in groups:
            attrs.append(f"ltail={clusters[e.source]}")
        if e.target in groups:
            attrs.append(f"lhead={clusters[e.target]}")
        extra = f" [{', '.join(attrs)}]" if attrs else ""
        out.append(f"  {_q(out_of(e.source))} -> {_q(into(e.target))}{extra};")
    for n in g.states:
        if n.parent is None and n.end:
            tail = f" [ltail={clusters[n.id]}]" if n.id in groups else ""
            out.append(f"  {_q(out_of(n.id))} -> {end}{tail};")
    out.append("}")
    return "\n".join(out) + "\n"


def _q(text: str) -> str:
    """A dot quoted string (a newline in it breaks the label's line)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _free(g: Graph, name: str) -> str:
    """A node id no state has."""
    taken = {n.id for n in g.states}
    while name in taken:
        name += "_"
    return name


# --- Mermaid -------------------------------------------------------------------------------------
def to_mermaid(
    g: Graph, statuses: Mapping[str, str] | None = None, title: str | None = None
) -> str:
    """A Mermaid ``flowchart TD`` (GitHub and GitLab draw it in Markdown)."""
    groups = _groups(g)
    ids = {n.id: f"s{i}" for i, n in enumerate(g.states)}
    out = []
    if title:
        out += ["---", f"title: {_m(title)}", "---"]
    out.append("flowchart TD")
    out.append("  m_start(( )):::marker")

    def scope(parent: str | None, branch: int | None, indent: str) -> None:
        for n in g.states:
            if n.parent != parent or n.branch != branch:
                continue
            sid = ids[n.id]
            if n.id in groups:
                out.append(f'{indent}subgraph {sid}["{_m(n.name)} ({n.type})"]')
                for b in sorted(groups[n.id]):
                    title_ = "for each item" if n.type == "Map" else f"branch {b + 1}"
                    out.append(f'{indent}  subgraph {sid}_{b}["{title_}"]')
                    scope(n.id, b, indent + "    ")
                    out.append(f"{indent}  end")
                out.append(f"{indent}end")
                continue
            label = _m(n.name)
            shape = {"Choice": ('{{"', '"}}'), "Succeed": ('(["', '"])'),
                     "Fail": ('(["', '"])')}.get(n.type, ('("', '")'))  # fmt: skip
            out.append(f"{indent}{sid}{shape[0]}{label}{shape[1]}")

    scope(None, None, "  ")
    if g.start is not None and g.start in ids:
        out.append(f"  m_start --> {ids[g.start]}")
    for e in g.edges:
        if e.kind not in _MARKERS or e.source not in ids or e.target not in ids:
            continue
        arrow = "-.->" if e.kind == "catch" else "-->"
        label = f'|"{_m(label_text(e.label))}"|' if e.label else ""
        out.append(f"  {ids[e.source]} {arrow}{label} {ids[e.target]}")
    ends = [n for n in g.states if n.parent is None and n.end]
    if ends:
        out.append('  m_end(((" "))):::marker')
        for n in ends:
            out.append(f"  {ids[n.id]} --> m_end")
    out.append("  classDef marker fill:#0f172a,stroke:#0f172a")
    for status, (fill, stroke, ink) in PALETTE.items():
        if statuses is None and status != "none":
            continue
        out.append(f"  classDef {_mclass(status)} fill:{fill},stroke:{stroke},color:{ink}")
    by_status: dict[str, list[str]] = {}
    for n in g.states:
        status = _status(statuses, n.id)
        if n.id in groups:
            fill, stroke, ink = PALETTE.get(status, PALETTE["none"])
            out.append(f"  style {ids[n.id]} fill:{fill},stroke:{stroke},color:{ink}")
        else:
            by_status.setdefault(status, []).append(ids[n.id])
    for status, members in by_status.items():
        out.append(f"  class {','.join(members)} {_mclass(status)}")
    return "\n".join(out) + "\n"


def _mclass(status: str) -> str:
    return "plain" if status == "none" else status


def _m(text: str) -> str:
    """Text inside a Mermaid quoted label. Mermaid draws labels as HTML: ``<now>`` would be a
    tag, so ``&``, ``<``, ``>`` and the quote become HTML entities (Mermaid's own ``#quot;``
    codes come out garbled in edge labels of Mermaid 11)."""
    for char, code in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                       ("\n", " ")):  # fmt: skip
        text = text.replace(char, code)
    return text
