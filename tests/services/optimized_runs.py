"""What the optimized-integration tests share: an app pointed at the session's moto server,
boto3 clients to arrange and inspect the emulator's resources, and names unique per test
(the emulator lives for the whole session)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import botocore.session

import legato
from legato.testing import StateMachineRun, WorkflowEnvironment, run_state_machine
from tests.aws_emulator import Emulator

REGION = "us-east-1"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def client(emulator: Emulator, service: str) -> Any:
    """A (blocking) botocore client of the emulator, to arrange and inspect its resources;
    credentials come from the fixture's environment."""
    session = botocore.session.get_session()
    return session.create_client(service, endpoint_url=emulator.url, region_name=REGION)


def app_for(emulator: Emulator, **endpoints: str) -> legato.App:
    """An app whose AWS calls go to the emulator (``endpoints``: per botocore service)."""
    aws = legato.AwsSettings(endpoint_url=emulator.url, endpoints=endpoints, region=REGION)
    return legato.App(aws=aws)


def task(resource: str, parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A definition of one Task state."""
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    return {"StartAt": "Call", "States": {"Call": {**state, **extra}}}


async def run_task(
    emulator: Emulator,
    resource: str,
    parameters: dict[str, Any],
    input: Any = None,
    *,
    app: legato.App | None = None,
    **extra: Any,
) -> StateMachineRun:
    """Run a one-Task machine to its end against the emulator."""
    return await run_machine(emulator, task(resource, parameters, **extra), input, app=app)


async def run_machine(
    emulator: Emulator,
    definition: dict[str, Any],
    input: Any = None,
    *,
    app: legato.App | None = None,
) -> StateMachineRun:
    """Run ``definition`` to its end against the emulator, then close the app's AWS clients
    (their connection pools belong to this test's event loop)."""
    app = app or app_for(emulator)
    try:
        return await run_state_machine(definition, input or {}, app=app)
    finally:
        await app.aws_clients.close()


@asynccontextmanager
async def environment(app: legato.App, **options: Any) -> AsyncIterator[WorkflowEnvironment]:
    """``WorkflowEnvironment(app)``, and the app's AWS clients closed once its engine stopped
    (no call is in flight then)."""
    try:
        async with WorkflowEnvironment(app, **options) as env:
            yield env
    finally:
        await app.aws_clients.close()
