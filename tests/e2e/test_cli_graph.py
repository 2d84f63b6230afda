"""``legato definitions graph FILE --format svg|mermaid|dot``, run as users run it: a drawing
of a definition file, and one clear line for a file that is missing or not a valid machine."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from legato.cli.main import app_cli

runner = CliRunner()
SVG_NS = "{http://www.w3.org/2000/svg}"
ORDER = """\
StartAt: Validate
States:
  Validate:
    Type: Task
    Resource: validate
    Next: Big?
  Big?:
    Type: Choice
    Choices:
      - Variable: $.total
        NumericGreaterThan: 100
        Next: Approve
    Default: Ship
  Approve:
    Type: Task
    Resource: approve
    Catch:
      - ErrorEquals: [Rejected]
        Next: Refused
    Next: Ship
  Ship:
    Type: Parallel
    Branches:
      - StartAt: Pack
        States:
          Pack: {Type: Task, Resource: pack, End: true}
      - StartAt: Mail "receipt" <now>
        States:
          Mail "receipt" <now>: {Type: Task, Resource: mail, End: true}
    End: true
  Refused: {Type: Fail, Error: Refused}
"""
STATES = ["Validate", "Big?", "Approve", "Ship", "Pack", 'Mail "receipt" <now>', "Refused"]


@pytest.fixture
def order(tmp_path: Path) -> Path:
    path = tmp_path / "order.asl.yaml"
    path.write_text(ORDER, encoding="utf-8")
    return path


def test_svg_on_stdout_is_a_drawing_of_every_state(order: Path) -> None:
    result = runner.invoke(app_cli, ["definitions", "graph", str(order)])
    assert result.exit_code == 0, result.output
    root = ET.fromstring(result.stdout)
    assert root.get("class") == "legato-graph"
    names = [g.get("data-state") for g in root.iter(f"{SVG_NS}g")
             if "state" in (g.get("class") or "").split()]  # fmt: skip
    assert sorted(n for n in names if n) == sorted(STATES)
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG_NS}text"))
    assert "$.total > 100" in texts and "Rejected" in texts and "Default" in texts
    assert root.findtext(f"{SVG_NS}title") == "order"


def test_mermaid_and_dot_to_a_file(order: Path, tmp_path: Path) -> None:
    target = tmp_path / "order.mmd"
    result = runner.invoke(
        app_cli, ["definitions", "graph", str(order), "--format", "mermaid", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout and str(target) in result.stdout.replace("\n", "")
    mermaid = target.read_text(encoding="utf-8")
    assert "flowchart TD" in mermaid and 'subgraph s3["Ship (Parallel)"]' in mermaid
    assert 's5("Mail &quot;receipt&quot; &lt;now&gt;")' in mermaid
    assert 's1 -->|"$.total &gt; 100"| s2' in mermaid and 's2 -.->|"Rejected"| s6' in mermaid

    dot = runner.invoke(app_cli, ["definitions", "graph", str(order), "-f", "dot"])
    assert dot.exit_code == 0, dot.output
    for name in STATES:  # quoted as dot quotes them: "Mail \"receipt\" <now>"
        assert json.dumps(name) in dot.stdout or name == "Ship"
    assert 'subgraph cluster_0 {\n    label="Ship (Parallel)";' in dot.stdout
    assert '"Big?" -> "Approve" [label="$.total > 100"];' in dot.stdout
    assert '"Approve" -> "Pack" [lhead=cluster_0];' in dot.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "{file}: no such file"),
        ("{", "{file}: $: invalid JSON"),
        ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}',
         "{file}: $.States.A.Next: 'B' is not a state of the state machine"),
        ('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Nope"}}}',
         "{file}: $.States.A.Next: 'B' is not a state of the state machine (and 2 more: "
         "legato definitions validate {file})"),
    ],
)  # fmt: skip
def test_a_bad_file_is_one_clear_line(tmp_path: Path, text: str | None, expected: str) -> None:
    path = tmp_path / "machine.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    result = runner.invoke(app_cli, ["definitions", "graph", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith("error: " + expected.format(file=path))


def test_an_output_that_cannot_be_written_is_one_line(order: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app_cli, ["definitions", "graph", str(order), "-o", str(tmp_path / "no" / "x.svg")]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot write {tmp_path / 'no' / 'x.svg'}: No such file or directory"
    ]
