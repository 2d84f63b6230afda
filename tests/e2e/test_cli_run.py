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
    assert "cause: no such person" in done.stderr
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
