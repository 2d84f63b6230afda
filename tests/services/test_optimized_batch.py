"""Batch ``submitJob`` (developer guide, "Run AWS Batch workloads with Step Functions")
against the emulator.

moto's Batch runs a job's container in Docker, which the tests do not have; its "simple" Batch
(the server's config ``{"batch": {"use_docker": false}}``) runs none and marks each job
SUCCEEDED as it is submitted, so what is tested here is the ``.sync`` path's start call, its
``DescribeJobs`` call and the result's shape. A job that fails, or one that takes several
polls, cannot be had from it: the simple Batch fails jobs only when its server process was
started with ``MOTO_SIMPLE_BATCH_FAIL_AFTER`` set, and it never leaves a job running."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from legato.core.events import StepScheduled
from tests.aws_emulator import Emulator
from tests.conftest import of_type
from tests.services.optimized_runs import client, run_task, unique


def _config(emulator: Emulator, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """moto's server configuration (``/moto-api/config``), after setting ``body`` if given."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{emulator.url}/moto-api/config", data=data, method="GET" if body is None else "POST"
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        config: dict[str, Any] = json.loads(answer.read())
        return config


@dataclass(frozen=True)
class Queue:
    """A job queue and a job definition to submit to it."""

    queue: str
    definition: str


@pytest.fixture
def batch_queue(aws_emulator: Emulator) -> Iterator[Queue]:
    """A queue on an unmanaged compute environment of moto's Batch without Docker (restored
    to moto's default when the test ends)."""
    saved = _config(aws_emulator).get("batch", {})
    _config(aws_emulator, {"batch": {"use_docker": False}})
    try:
        role = client(aws_emulator, "iam").create_role(
            RoleName=unique("batch"),
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        batch = client(aws_emulator, "batch")
        environment = batch.create_compute_environment(
            computeEnvironmentName=unique("env"),
            type="UNMANAGED",
            state="ENABLED",
            serviceRole=role,
        )["computeEnvironmentArn"]
        queue = batch.create_job_queue(
            jobQueueName=unique("queue"),
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )["jobQueueArn"]
        definition = batch.register_job_definition(
            jobDefinitionName=unique("definition"),
            type="container",
            containerProperties={"image": "busybox", "vcpus": 1, "memory": 128},
        )["jobDefinitionArn"]
        yield Queue(queue, definition)
    finally:
        _config(aws_emulator, {"batch": {"use_docker": True, **saved}})


async def test_submit_job_sync_returns_the_finished_job(
    aws_emulator: Emulator, batch_queue: Queue
) -> None:
    name = unique("job")
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::batch:submitJob.sync",
        {"JobName": name, "JobQueue": batch_queue.queue, "JobDefinition": batch_queue.definition},
    )
    assert run.status == "COMPLETED", run.cause
    # the result is DescribeJobs' job, in Step Functions' PascalCase
    assert run.output["JobName"] == name
    assert run.output["Status"] == "SUCCEEDED"
    assert run.output["JobQueue"] == batch_queue.queue
    assert run.output["JobId"]
    assert "status" not in run.output
    scheduled = [e.args for e in of_type(run.history, StepScheduled)]
    assert sum("DescribeJobs" in args for args in scheduled) >= 1


async def test_submit_job_request_response(aws_emulator: Emulator, batch_queue: Queue) -> None:
    name = unique("job")
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::batch:submitJob",
        {"JobName": name, "JobQueue": batch_queue.queue, "JobDefinition": batch_queue.definition},
    )
    assert run.status == "COMPLETED", run.cause
    assert run.output["JobName"] == name
    assert run.output["JobId"]
    scheduled = [e.args for e in of_type(run.history, StepScheduled)]
    assert not any("DescribeJobs" in args for args in scheduled)
