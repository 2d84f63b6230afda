"""``legato run FILE --input JSON --app MODULE --wait``: a state machine run from the command
line prints its output, or its error and cause with exit code 1; bad input is one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STEPS_APP = """
import legato

app = legato.App()


@app.step(name="greet")
def greet(event):
    if event["name"] == "nobody":
        raise LookupError("no such person")
    return {"greeting": "hello " + event["name"]}
"""

DEFINITION = """
Comment: greets, then waits a second (a durable timer)
StartAt: Greet
States:
  Greet:
    Type: Task
    Resource: arn:aws:lambda:us-east-1:123456789012:function:greet
    ResultPath: $.result
    Next: Pause
  Pause:
    Type: Wait
    Seconds: 1
    End: true
"""


def _legato(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "legato.cli", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "steps_app.py").write_text(STEPS_APP)
    (tmp_path / "hello.asl.yaml").write_text(DEFINITION)
    return tmp_path


def test_run_wait_prints_the_output(project: Path) -> None:
    done = _legato(
        project, "run", "hello.asl.yaml", "--input", '{"name": "ann"}', "--app", "steps_app",
        "--wait", "--db", f"sqlite:///{project / 'run.db'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "ann", "result": {"greeting": "hello ann"}}


def test_run_wait_prints_error_and_cause_and_exits_1(project: Path) -> None:
    done = _legato(
        project, "run", "hello.asl.yaml", "--input", '{"name": "nobody"}', "--app",
        "steps_app", "--wait", "--db", f"sqlite:///{project / 'run.db'}",
    )  # fmt: skip
    assert done.returncode == 1
    assert "error: LookupError" in done.stderr
    # a function ARN answers as Lambda does: the cause is Lambda's error JSON
    assert 'cause: {"errorMessage": "no such person", "errorType": "LookupError"' in done.stderr
    assert "Traceback" not in done.stderr


def test_run_input_from_a_file(project: Path) -> None:
    (project / "input.json").write_text('{"name": "bo"}')
    done = _legato(
        project, "run", "hello.asl.yaml", "--input", "@input.json", "--app", "steps_app",
        "--wait", "--db", f"sqlite:///{project / 'run.db'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"] == {"greeting": "hello bo"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", '{"name": '], "--input is not valid JSON"),
        (["--input", "@missing.json"], "cannot read input file 'missing.json'"),
    ],
)
def test_bad_input_is_one_clear_line(project: Path, args: list[str], message: str) -> None:
    done = _legato(
        project, "run", "hello.asl.yaml", *args, "--app", "steps_app", "--wait",
        "--db", f"sqlite:///{project / 'run.db'}",
    )  # fmt: skip
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


def test_invalid_definition_lists_its_problems_and_starts_nothing(project: Path) -> None:
    (project / "bad.json").write_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}'
    )
    done = _legato(project, "run", "bad.json", "--wait", "--db", f"sqlite:///{project / 'run.db'}")
    assert done.returncode == 1
    assert "$.States.A.Next" in done.stderr and "Traceback" not in done.stderr
    assert not (project / "run.db").exists()  # nothing was written, not even a database


def test_run_without_wait_records_the_execution_and_prints_its_id(project: Path) -> None:
    done = _legato(
        project, "run", "hello.asl.yaml", "--input", '{"name": "cy"}', "--app", "steps_app",
        "--id", "greet-cy", "--db", f"sqlite:///{project / 'run.db'}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "greet-cy"


# --- the file's content, never another definition of the same name ----------------------------
def _pass(tag: str) -> str:
    return f"StartAt: Tag\nStates:\n  Tag:\n    Type: Pass\n    Result: {tag}\n    End: true\n"


def _run(project: Path, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    db = f"sqlite:///{project / 'run.db'}"
    return _legato(project, "run", path, "--wait", "--db", db, *args)


def _versions(project: Path) -> dict[str, list[str]]:
    done = _legato(project, "definitions", "list", "--json", "--db",
                   f"sqlite:///{project / 'run.db'}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {i["name"]: i["versions"] for i in json.loads(done.stdout)["items"]}


def test_run_stores_the_file_once_and_runs_that_version_again(project: Path) -> None:
    (project / "order.asl.yaml").write_text(_pass("first"))
    assert json.loads(_run(project, "order.asl.yaml").stdout) == "first"
    again = _run(project, "order.asl.yaml")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == "first"
    assert _versions(project) == {"order": ["1"]}


def test_a_name_stored_with_other_content_is_refused_with_the_ways_out(project: Path) -> None:
    (project / "order.asl.yaml").write_text(_pass("mine"))
    db = f"sqlite:///{project / 'run.db'}"
    assert _legato(project, "definitions", "push", "order.asl.yaml", "--db", db).returncode == 0
    (project / "other").mkdir()
    (project / "other" / "order.asl.yaml").write_text(_pass("theirs"))
    refused = _run(project, "other/order.asl.yaml")
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "'order'" in lines[0] and "version 1" in lines[0]
    assert "--name OTHER" in lines[0] and "--new-version" in lines[0]
    assert refused.stdout == ""  # nothing ran: neither the stored order nor the file
    listed = _legato(project, "executions", "list", "--json", "--db", db)
    assert json.loads(listed.stdout) == []
    # way out 1: another name
    renamed = _run(project, "other/order.asl.yaml", "--name", "their-order")
    assert renamed.returncode == 0, renamed.stderr
    assert json.loads(renamed.stdout) == "theirs"
    # way out 2: the file as the next version of the name
    bumped = _run(project, "other/order.asl.yaml", "--new-version")
    assert bumped.returncode == 0, bumped.stderr
    assert json.loads(bumped.stdout) == "theirs"
    assert _versions(project) == {"order": ["1", "2"], "their-order": ["1"]}
    # the stored content of a version is run as that version again (no version 3)
    assert json.loads(_run(project, "order.asl.yaml").stdout) == "mine"
    assert _versions(project)["order"] == ["1", "2"]


def test_a_state_machine_the_app_registers_with_other_content_is_refused(project: Path) -> None:
    (project / "order_app.py").write_text(
        "import legato\napp = legato.App()\n"
        "app.register_state_machine('order', {'StartAt': 'A', 'States': "
        "{'A': {'Type': 'Pass', 'Result': 'registered', 'End': True}}})\n"
    )
    (project / "order.asl.yaml").write_text(_pass("file"))
    refused = _run(project, "order.asl.yaml", "--app", "order_app")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "--name OTHER" in refused.stderr and "--new-version" in refused.stderr
    assert refused.stdout == ""
    bumped = _run(project, "order.asl.yaml", "--app", "order_app", "--new-version")
    assert bumped.returncode == 0, bumped.stderr
    assert json.loads(bumped.stdout) == "file"


def test_a_code_workflow_of_the_same_name_is_never_run(project: Path) -> None:
    (project / "fanout_app.py").write_text(
        "import legato\napp = legato.App()\n\n"
        "@app.workflow(name='fanout')\nasync def fanout(ctx, event=None):\n    return 'code'\n"
    )
    (project / "fanout.asl.yaml").write_text(_pass("machine"))
    refused = _run(project, "fanout.asl.yaml", "--app", "fanout_app")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "code workflow" in refused.stderr and "--name OTHER" in refused.stderr
    assert refused.stdout == ""
    renamed = _run(project, "fanout.asl.yaml", "--app", "fanout_app", "--name", "fanout-sm")
    assert renamed.returncode == 0, renamed.stderr
    assert json.loads(renamed.stdout) == "machine"
