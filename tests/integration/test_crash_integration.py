"""Crash safety of an integration step (issue 13, item 1): SIGKILL the engine at random
moments of a state machine that calls DynamoDB through ``aws-sdk`` (the moto emulator).
Every execution still completes, every call was made at least once, and a call runs again
only when a kill interrupted it in flight (at least once, as in AWS: at most one per
execution per kill), its result recorded once.

Kills land on logged progress (the plain steps between the calls), then a seeded random
moment later, as in ``test_crash.py``."""

from __future__ import annotations

import collections
import json
import random
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import botocore.session
import pytest

from tests.aws_emulator import Emulator
from tests.integration.crash_integration_app import EXECUTIONS, PAIRS
from tests.processes import Processes, lines_of

APP = Path(__file__).with_name("crash_integration_app.py")
KILLS = 5


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_sigkill_during_aws_sdk_calls_loses_nothing(
    tmp_path: Path,
    seed: int,
    processes: Processes,
    wait_for: Callable[..., Awaitable[None]],
    aws_emulator: Emulator,
) -> None:
    table = f"calls-{uuid.uuid4().hex[:12]}"
    dynamodb = botocore.session.get_session().create_client(
        "dynamodb", endpoint_url=aws_emulator.url
    )
    try:
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "call", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "call", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        db, log, results = tmp_path / "crash.db", tmp_path / "steps.log", tmp_path / "out.json"
        gate = tmp_path / "gate"
        rng = random.Random(seed)
        cmd = [sys.executable, str(APP), str(db), str(log), str(results), table]
        env = {"CRASH_GATE": str(gate), "AWS_ENDPOINT_URL": aws_emulator.url}
        # every execution logs PAIRS lines before the gate holds it: 250 in all
        kills = await processes.kill_on_progress(
            cmd, env, runs=KILLS, progress=log, most_lines=20, rng=rng, wait_for=wait_for
        )
        assert kills == KILLS
        gate.touch()
        final = processes.spawn("final", cmd, env=env)

        async def finished() -> bool:
            return final.poll() is not None

        await wait_for(finished, limit=120)
        assert final.returncode == 0, processes.log_of(final)
        assert json.loads(results.read_text()) == [f"e{i}" for i in range(EXECUTIONS)]

        calls: dict[str, int] = {}
        pages = dynamodb.get_paginator("scan").paginate(TableName=table)
        for page in pages:
            for item in page["Items"]:
                calls[item["call"]["S"]] = int(item["calls"]["N"])
    finally:
        dynamodb.close()
    assert set(calls) == {f"e{i}:{s}" for i in range(EXECUTIONS) for s in range(PAIRS)}
    marks = collections.Counter(lines_of(log))
    assert set(marks) == set(calls)  # every plain step ran too
    for i in range(EXECUTIONS):
        reruns = sum(calls[f"e{i}:{s}"] - 1 for s in range(PAIRS))
        reruns += sum(marks[f"e{i}:{s}"] - 1 for s in range(PAIRS))
        assert reruns <= kills, f"e{i} re-ran {reruns} steps over {kills} kills"
    print(f"kills={kills} call reruns={sum(calls.values()) - EXECUTIONS * PAIRS}")
