"""``legato run FILE --mock-config FILE --test-case NAME``: a definition that uses Lambda,
DynamoDB and SQS runs from the command line on a mock configuration file, with no app module,
no emulator and no AWS endpoint to reach; options that do not go together are one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DEFINITION = """
Comment: a lead checked by a Lambda function, stored in DynamoDB, announced on SQS
StartAt: LambdaState
States:
  LambdaState:
    Type: Task
    Resource: arn:aws:lambda:us-east-1:123456789012:function:CheckLead
    ResultPath: $.checked
    Retry:
      - ErrorEquals: [Lambda.TimeoutException]
        IntervalSeconds: 1
        BackoffRate: 1
        MaxAttempts: 2
    Next: PutLead
  PutLead:
    Type: Task
    Resource: arn:aws:states:::dynamodb:putItem
    Parameters:
      TableName: Leads
      Item: {id: {S.$: $.id}}
    ResultPath: null
    Next: SQSState
  SQSState:
    Type: Task
    Resource: arn:aws:states:::sqs:sendMessage
    Parameters:
      QueueUrl: https://sqs.us-east-1.amazonaws.com/123456789012/leads
      MessageBody.$: $.id
    ResultSelector: {MessageId.$: $.MessageId}
    ResultPath: $.sent
    End: true
"""

TIMEOUT = {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}}
CONFIG = {
    "StateMachines": {
        "LeadFlow": {
            "TestCases": {
                "HappyPath": {"LambdaState": "Approve", "PutLead": "Stored", "SQSState": "Sent"},
                "RetryPath": {"LambdaState": "SlowThenOk", "PutLead": "Stored", "SQSState": "Sent"},
                "TimeoutPath": {"LambdaState": "AlwaysSlow"},
                "Typo": {"LambdaStat": "Approve"},
            }
        }
    },
    "MockedResponses": {
        "Approve": {"0": {"Return": {"approved": True}}},
        "SlowThenOk": {"0-1": TIMEOUT, "2": {"Return": {"approved": "late"}}},
        "AlwaysSlow": {"0-2": TIMEOUT},
        "Stored": {"0": {"Return": {}}},
        "Sent": {"0": {"Return": {"MessageId": "m-1", "MD5OfMessageBody": "x"}}},
    },
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "lead.asl.yaml").write_text(DEFINITION)
    (tmp_path / "MockConfigFile.json").write_text(json.dumps(CONFIG))
    return tmp_path


def _legato(
    project: Path, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``legato`` in a subprocess whose AWS endpoint is a closed local port: a call that was
    not mocked would fail, not reach anything."""
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"}
    env.update(extra_env or {})
    db = f"sqlite:///{project / 'run.db'}"
    return subprocess.run(
        [sys.executable, "-m", "legato.cli", "run", "lead.asl.yaml", "--db", db, *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_mocked_run_prints_its_output(project: Path) -> None:
    """No --wait needed: a mocked run runs here. The file's name (lead) is not in the
    configuration, so the run takes the one machine that has the test case (LeadFlow)."""
    done = _legato(
        project, "--input", '{"id": "l-1"}', "--mock-config", "MockConfigFile.json",
        "--test-case", "HappyPath",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "id": "l-1",
        "checked": {"approved": True},
        "sent": {"MessageId": "m-1"},
    }


def test_retries_walk_the_ranges_and_a_last_throw_fails_the_run(project: Path) -> None:
    retried = _legato(
        project, "--input", '{"id": "l-2"}', "--mock-config", "MockConfigFile.json",
        "--test-case", "RetryPath", "--name", "LeadFlow",
    )  # fmt: skip
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout)["checked"] == {"approved": "late"}
    failed = _legato(
        project, "--input", '{"id": "l-3"}', "--mock-config", "MockConfigFile.json",
        "--test-case", "TimeoutPath", "--name", "LeadFlow",
    )  # fmt: skip
    assert failed.returncode == 1
    assert "error: Lambda.TimeoutException" in failed.stderr
    assert "cause: Lambda timed out." in failed.stderr
    assert "Traceback" not in failed.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--mock-config", "MockConfigFile.json"], "--mock-config needs --test-case"),
        (["--test-case", "HappyPath"], "--test-case needs a mock configuration: --mock-config"),
        (["--mock-config", "MockConfigFile.json", "--test-case", "Typo"],
         "$.StateMachines.LeadFlow.TestCases.Typo.LambdaStat: the state machine has no state "
         "'LambdaStat' (did you mean 'LambdaState'?)"),
        (["--mock-config", "MockConfigFile.json", "--test-case", "Nope"],
         "no state machine has a test case 'Nope'"),
        (["--mock-config", "MockConfigFile.json", "--test-case", "HappyPath", "--server",
          "http://127.0.0.1:9"], "--mock-config runs the execution here"),
        (["--mock-config", "missing.json", "--test-case", "HappyPath"],
         "mock configuration missing.json: cannot read it"),
    ],
)  # fmt: skip
def test_bad_options_are_clear_errors(project: Path, args: list[str], words: str) -> None:
    done = _legato(project, *args)
    assert done.returncode != 0
    assert words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


MOCKED_APP = """
import legato

app = legato.App()
app.use_mocks("MockConfigFile.json", "HappyPath")
"""


def test_an_apps_mocks_apply_to_legato_run(project: Path) -> None:
    """``App.use_mocks`` in the app module: ``legato run --app`` needs no mock options, and
    a test importing the same app gets the same mocks."""
    (project / "mocked_app.py").write_text(MOCKED_APP)
    env_path = {"PYTHONPATH": str(project)}
    done = _legato(
        project, "--input", '{"id": "l-9"}', "--app", "mocked_app", "--name", "LeadFlow",
        "--wait", extra_env=env_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sent"] == {"MessageId": "m-1"}


def test_test_case_alone_picks_another_case_of_the_apps_mocks(project: Path) -> None:
    (project / "mocked_app.py").write_text(MOCKED_APP)
    done = _legato(
        project, "--input", '{"id": "l-10"}', "--app", "mocked_app", "--name", "LeadFlow",
        "--test-case", "RetryPath", extra_env={"PYTHONPATH": str(project)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["checked"] == {"approved": "late"}
