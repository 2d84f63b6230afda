"""A graph as Graphviz dot and as Mermaid: every state and edge, groups as clusters or
subgraphs, labels, statuses as colours, and names that would break the syntax escaped."""

from __future__ import annotations

import re

from legato.core.asl.graph import graph
from legato.core.asl.graph_svg import PALETTE
from legato.core.asl.graph_text import to_dot, to_mermaid
from tests.unit.core.asl.machines_drawn import ORDER, POLL


def test_dot_has_every_state_edge_and_cluster() -> None:
    dot = to_dot(graph(ORDER), title="order")
    assert dot.startswith('digraph "order" {') and dot.rstrip().endswith("}")
    for name in ("Validate order", "Is it big?", "Pack", "Ship", "Reserve stock", "Done"):
        assert re.search(rf'^\s+"{re.escape(name)}" \[label="{re.escape(name)}\\n', dot, re.M)
    assert 'subgraph cluster_0 {\n    label="Fulfil (Parallel)";' in dot
    assert 'label="Each line (Map)"' in dot and 'label="for each item"' in dot
    assert '"Is it big?" -> "Ask a manager" [label="$.total > 100"];' in dot
    assert '"Is it big?" -> "Charge card" [label="Default"];' in dot
    assert ('"Charge card" -> "Tell customer" [label="CardDeclined", style=dashed, '
            'color="#ea580c", fontcolor="#ea580c"];') in dot  # fmt: skip
    assert '"Charge card" -> "Pack" [lhead=cluster_0];' in dot  # into the group's border
    assert '"Ship" -> "Done" [ltail=cluster_0];' in dot  # out of it
    assert '"start" -> "Validate order";' in dot and '"Declined" -> "end";' in dot


def test_dot_colours_statuses_and_keeps_marker_ids_free() -> None:
    g = graph(
        {
            "StartAt": "start",
            "States": {
                "start": {"Type": "Pass", "Next": 'say "hi"\\n'},
                'say "hi"\\n': {"Type": "Succeed"},
            },
        }
    )
    dot = to_dot(g, {"start": "failed"})  # fmt: skip
    assert '"start_" [shape=circle' in dot and '"start_" -> "start";' in dot
    fill, stroke, _ = PALETTE["failed"]
    assert f'"start" [label="start\\nPass · failed", shape=box, fillcolor="{fill}", ' in dot
    assert '"say \\"hi\\"\\\\n" [label="say \\"hi\\"\\\\n\\nSucceed · not reached"' in dot


def test_mermaid_has_every_state_edge_and_subgraph() -> None:
    text = to_mermaid(graph(ORDER), title="order")
    assert text.startswith("---\ntitle: order\n---\nflowchart TD\n")
    ids = {n.id: f"s{i}" for i, n in enumerate(graph(ORDER).states)}
    assert f'  {ids["Validate order"]}("Validate order")' in text
    assert f'  {ids["Is it big?"]}{{{{"Is it big?"}}}}' in text  # a Choice: a hexagon
    assert f'  {ids["Done"]}(["Done"])' in text
    assert f'subgraph {ids["Fulfil"]}["Fulfil (Parallel)"]' in text
    assert f'subgraph {ids["Each line"]}_0["for each item"]' in text
    assert f'{ids["Is it big?"]} -->|"$.total &gt; 100"| {ids["Ask a manager"]}' in text
    assert f'{ids["Charge card"]} -.->|"CardDeclined"| {ids["Tell customer"]}' in text
    assert f"{ids['Charge card']} --> {ids['Fulfil']}" in text  # to the subgraph
    assert f"m_start --> {ids['Validate order']}" in text and f"{ids['Done']} --> m_end" in text
    lines = [line.strip() for line in text.splitlines()]
    assert lines.count("end") == sum(line.startswith("subgraph ") for line in lines) == 6


def test_mermaid_statuses_and_escapes() -> None:
    text = to_mermaid(graph(POLL), {"Get status": "caught", "Wait a bit": "succeeded"})
    ids = {n.id: f"s{i}" for i, n in enumerate(graph(POLL).states)}
    assert f"class {ids['Get status']} caught" in text
    assert "classDef caught fill:#ffedd5,stroke:#ea580c" in text
    assert f'{ids["Get status"]} -.->|"Busy"| {ids["Get status"]}' in text
    odd = to_mermaid(graph({"StartAt": 'a "b" <c> | #d', "States": {
        'a "b" <c> | #d': {"Type": "Succeed"}}}))  # fmt: skip
    assert 's0(["a &quot;b&quot; &lt;c&gt; | #d"])' in odd
