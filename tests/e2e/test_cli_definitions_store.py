"""``legato definitions push``, ``list`` and ``show``, run as users run them: versions count
up, the same content is "unchanged", a stored version never changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ONE = "StartAt: A\nStates:\n  A:\n    Type: Pass\n    Result: 1\n    End: true\n"
TWO = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 2, "End": true}}}'


def _legato(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "legato.cli", *args, "--db", f"sqlite:///{tmp_path / 'd.db'}"],
        cwd=tmp_path, env=dict(os.environ), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_push_list_show(tmp_path: Path) -> None:
    (tmp_path / "order.asl.yaml").write_text(ONE)
    (tmp_path / "order2.json").write_text(TWO)
    first = _legato(tmp_path, "definitions", "push", "order.asl.yaml")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("order version 1 sha256:") and "stored" in first.stdout
    again = _legato(tmp_path, "definitions", "push", "order.asl.yaml")
    assert again.stdout.startswith("order version 1 ") and "unchanged" in again.stdout
    second = _legato(tmp_path, "definitions", "push", "order2.json", "--name", "order", "--json")
    pushed = json.loads(second.stdout)
    assert (pushed["name"], pushed["version"], pushed["created"]) == ("order", "2", True)
    assert len(pushed["content_hash"]) == 64

    listed = json.loads(_legato(tmp_path, "definitions", "list", "--json").stdout)
    assert [(i["name"], i["latest_version"], i["versions"]) for i in listed["items"]] == [
        ("order", "2", ["1", "2"])
    ]
    table = _legato(tmp_path, "definitions", "list")
    assert "order" in table.stdout and "1, 2" in table.stdout

    latest = json.loads(_legato(tmp_path, "definitions", "show", "order", "--json").stdout)
    assert latest["version"] == "2" and latest["definition"]["States"]["A"]["Result"] == 2
    v1 = _legato(tmp_path, "definitions", "show", "order", "--version", "1")
    assert v1.returncode == 0 and v1.stdout.startswith("order version 1 sha256:")
    assert json.loads(v1.stdout.split("\n", 1)[1])["States"]["A"]["Result"] == 1


def test_a_stored_version_never_changes_and_unknown_names_say_so(tmp_path: Path) -> None:
    (tmp_path / "order.asl.yaml").write_text(ONE)
    (tmp_path / "order2.json").write_text(TWO)
    assert _legato(tmp_path, "definitions", "push", "order.asl.yaml").returncode == 0
    clash = _legato(tmp_path, "definitions", "push", "order2.json", "--name", "order",
                    "--version", "1")  # fmt: skip
    assert clash.returncode == 1 and "Traceback" not in clash.stderr
    assert "'order' version '1' is stored already with other content" in clash.stderr
    missing = _legato(tmp_path, "definitions", "show", "nothing")
    assert missing.returncode == 1 and "no state machine definition 'nothing'" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}')
    invalid = _legato(tmp_path, "definitions", "push", "bad.json")
    assert invalid.returncode == 1 and "$.States.A.Next" in invalid.stderr
