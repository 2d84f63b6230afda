"""``legato definitions validate``, run as users run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from legato.cli.main import app_cli

runner = CliRunner()

VALID_YAML = """\
Comment: Charge, then ship
StartAt: Charge
States:
  Charge:
    Type: Task
    Resource: arn:aws:lambda:us-east-1:123456789012:function:charge
    Retry:
      - ErrorEquals: [States.TaskFailed]
        BackoffRate: 2
    Next: Ship
  Ship:
    Type: Task
    Resource: legato:workflow:ship
    End: true
"""

INVALID_JSON = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamo:query",
            "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 0.5}],
            "Next": "Nowhere",
        },
        "Orphan": {"Type": "Succeed"},
    },
}

EXPECTED_LINES = [
    "$.States.Charge.Next: 'Nowhere' is not a state of the state machine",
    "$.States.Charge.Resource: 'dynamo' is not an AWS SDK service known to botocore (Step "
    "Functions names a service by its SDK id in lowercase, without spaces or hyphens); did you "
    "mean 'dynamodb'?",
    "$.States.Charge.Retry[0].BackoffRate: BackoffRate must be a number >= 1.0",
    "$.States.Orphan: state 'Orphan' is unreachable from StartAt",
]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "order.asl.yaml", VALID_YAML)
    result = runner.invoke(app_cli, ["definitions", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{path}: valid (2 states)"]


def test_invalid_file_prints_one_line_per_problem(tmp_path: Path) -> None:
    path = _write(tmp_path, "order.json", json.dumps(INVALID_JSON))
    result = runner.invoke(app_cli, ["definitions", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == EXPECTED_LINES
    assert "Traceback" not in result.output


def test_json_output(tmp_path: Path) -> None:
    bad = _write(tmp_path, "order.json", json.dumps(INVALID_JSON))
    result = runner.invoke(app_cli, ["definitions", "validate", str(bad), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert [f"{p['path']}: {p['rule']}" for p in report["problems"]] == EXPECTED_LINES

    good = _write(tmp_path, "order.yaml", VALID_YAML)
    result = runner.invoke(app_cli, ["definitions", "validate", str(good), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"valid": True, "problems": [], "integrations": []}


INTEGRATIONS_YAML = """\
StartAt: Both
States:
  Both:
    Type: Parallel
    End: true
    Branches:
      - StartAt: Query
        States:
          Query:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:dynamodb:query
            Parameters: {TableName: t}
            Next: Again
          Again:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:dynamodb:query
            Parameters: {TableName: t}
            End: true
      - StartAt: Send
        States:
          Send:
            Type: Task
            Resource: arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken
            Parameters: {QueueUrl: q, MessageBody.$: $$.Task.Token}
            Next: Charge
          Charge:
            Type: Task
            Resource: charge
            End: true
"""


def test_json_output_lists_the_integrations_used(tmp_path: Path) -> None:
    """Issue 13, item 7: ``--json`` says which integrations a definition uses (the service
    and action as the Resource names them, how the state waits, and the states using it);
    a registered step is not one."""
    path = _write(tmp_path, "both.yaml", INTEGRATIONS_YAML)
    result = runner.invoke(app_cli, ["definitions", "validate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["integrations"] == [
        {
            "resource": "arn:aws:states:::aws-sdk:dynamodb:query",
            "kind": "aws-sdk",
            "service": "dynamodb",
            "action": "query",
            "pattern": "request",
            "states": ["Query", "Again"],
        },
        {
            "resource": "arn:aws:states:::aws-sdk:sqs:sendMessage.waitForTaskToken",
            "kind": "aws-sdk",
            "service": "sqs",
            "action": "sendMessage",
            "pattern": "token",
            "states": ["Send"],
        },
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    broken = _write(tmp_path, "broken.json", '{"StartAt": "A",\n  "States": }')
    result = runner.invoke(app_cli, ["definitions", "validate", str(broken)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["$: invalid JSON at line 2, column 13: Expecting value"]
    missing = tmp_path / "missing.json"
    result = runner.invoke(app_cli, ["definitions", "validate", str(missing), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"] == [
        {"path": "$", "rule": f"{missing}: no such file"}
    ]


def test_installed_command_in_a_subprocess(tmp_path: Path) -> None:
    bad = _write(tmp_path, "order.json", json.dumps(INVALID_JSON))
    good = _write(tmp_path, "order.yaml", VALID_YAML)
    command = [sys.executable, "-m", "legato.cli", "definitions", "validate"]
    ok = subprocess.run([*command, str(good)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines() == [f"{good}: valid (2 states)"]
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert failed.stdout.splitlines() == EXPECTED_LINES
    assert "Traceback" not in failed.stderr
