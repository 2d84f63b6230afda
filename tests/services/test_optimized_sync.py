"""``.sync`` (developer guide, "Run a Job (.sync)") for Glue ``startJobRun`` and Athena
``startQueryExecution`` against the emulator: the state starts the job and polls the describe
call, with durable timers between polls, until the job ends; TimeoutSeconds bounds the whole.

moto's state manager decides how many describe calls a job takes to move on (its
``/moto-api/state-manager`` API); the tests make the job take several, so the polling is
exercised. ECS and Batch ``.sync`` have their own files (``test_optimized_ecs.py``,
``test_optimized_batch.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from legato.core.events import TimerStarted
from legato.errors import ExecutionCancelled, InvalidDefinitionError
from tests.aws_emulator import Emulator
from tests.conftest import of_type, poll
from tests.services.optimized_runs import app_for, client, environment, run_task, task, unique


@pytest.fixture
def slow_jobs(aws_emulator: Emulator) -> Iterator[Any]:
    """``slow(model, describes)``: a job of moto's ``model`` moves to its next status only
    after that many describe calls (until the test ends)."""
    models: list[str] = []

    def slow(model: str, describes: int) -> None:
        models.append(model)
        transition = {"progression": "manual", "times": describes}
        aws_emulator.state_manager(
            "set-transition", {"model_name": model, "transition": transition}
        )

    yield slow
    for model in models:
        aws_emulator.state_manager("unset-transition", {"model_name": model})


def _glue_job(emulator: Emulator) -> str:
    name = unique("job")
    client(emulator, "glue").create_job(
        Name=name, Role="arn:aws:iam::123456789012:role/glue", Command={"Name": "glueetl"}
    )
    return name


async def test_glue_start_job_run_sync_polls_until_it_succeeds(
    aws_emulator: Emulator, slow_jobs: Any
) -> None:
    slow_jobs("glue::job_run", 2)  # STARTING, RUNNING, RUNNING, SUCCEEDED
    job = _glue_job(aws_emulator)
    run = await run_task(aws_emulator, "arn:aws:states:::glue:startJobRun.sync", {"JobName": job})
    assert run.status == "COMPLETED", run.cause
    assert run.output["JobRunState"] == "SUCCEEDED"
    assert run.output["JobName"] == job
    assert run.output["Id"].startswith("jr_")
    assert len(of_type(run.history, TimerStarted)) >= 2  # polled with durable timers in between


async def test_glue_start_job_run_request_response_adds_the_job_name(
    aws_emulator: Emulator,
) -> None:
    job = _glue_job(aws_emulator)
    run = await run_task(aws_emulator, "arn:aws:states:::glue:startJobRun", {"JobName": job})
    assert run.status == "COMPLETED", run.cause
    assert run.output["JobName"] == job
    assert run.output["JobRunId"].startswith("jr_")


async def test_glue_sync_times_out_and_the_state_fails(
    aws_emulator: Emulator, slow_jobs: Any
) -> None:
    slow_jobs("glue::job_run", 1_000_000)  # never leaves STARTING
    job = _glue_job(aws_emulator)
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::glue:startJobRun.sync",
        {"JobName": job},
        TimeoutSeconds=120,
    )
    assert run.status == "FAILED"
    assert run.error == "States.Timeout"


async def test_athena_start_query_execution_sync(aws_emulator: Emulator, slow_jobs: Any) -> None:
    slow_jobs("athena::execution", 2)
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::athena:startQueryExecution.sync",
        {
            "QueryString": "SELECT 1",
            "WorkGroup": "primary",
            "ResultConfiguration": {"OutputLocation": f"s3://{unique('results')}/"},
        },
    )
    assert run.status == "COMPLETED", run.cause
    execution = run.output["QueryExecution"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["Query"] == "SELECT 1"


async def test_athena_sync_timeout_stops_the_query(aws_emulator: Emulator, slow_jobs: Any) -> None:
    slow_jobs("athena::execution", 1_000_000)  # never leaves QUEUED
    query = f"SELECT '{unique('q')}'"
    run = await run_task(
        aws_emulator,
        "arn:aws:states:::athena:startQueryExecution.sync",
        {"QueryString": query, "WorkGroup": "primary"},
        TimeoutSeconds=60,
    )
    assert run.status == "FAILED"
    assert run.error == "States.Timeout"
    assert _our_query(aws_emulator, query)["Status"]["State"] == "CANCELLED"  # it was stopped


def _our_query(emulator: Emulator, query: str) -> dict[str, Any]:
    athena = client(emulator, "athena")
    ids = athena.list_query_executions(WorkGroup="primary")["QueryExecutionIds"]
    executions = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    [ours] = [e for e in executions if e["Query"] == query]
    return dict(ours)


async def test_cancelling_the_execution_stops_the_query(
    aws_emulator: Emulator, slow_jobs: Any
) -> None:
    slow_jobs("athena::execution", 1_000_000)  # never leaves QUEUED
    query = f"SELECT '{unique('q')}'"
    app = app_for(aws_emulator)
    app.register_state_machine(
        "report",
        task(
            "arn:aws:states:::athena:startQueryExecution.sync",
            {"QueryString": query, "WorkGroup": "primary"},
        ),
    )
    async with environment(app):
        handle = await app.start("report", {})

        async def polling() -> bool:
            return len(of_type(await handle.history(), TimerStarted)) >= 1

        await poll(polling)
        await handle.cancel("not needed")
        with pytest.raises(ExecutionCancelled):
            await handle.result(timeout=30)
    assert _our_query(aws_emulator, query)["Status"]["State"] == "CANCELLED"


async def test_a_pattern_the_service_lacks_is_named(aws_emulator: Emulator) -> None:
    with pytest.raises(InvalidDefinitionError, match="does not support the .waitForTask"):
        await run_task(
            aws_emulator,
            "arn:aws:states:::athena:startQueryExecution.waitForTaskToken",
            {"QueryString": "SELECT 1"},
        )


async def test_sync_polling_survives_a_restart(
    aws_emulator: Emulator, slow_jobs: Any, any_db_url: str
) -> None:
    """The app stops while the job runs; another app on the same database (SQLite, and
    PostgreSQL) carries on from the recorded polls and timers and sees the job end."""
    slow_jobs("glue::job_run", 1_000_000)  # runs until the test lets it end
    job = _glue_job(aws_emulator)
    url = any_db_url
    definition = task("arn:aws:states:::glue:startJobRun.sync", {"JobName": job})

    first = app_for(aws_emulator)
    first.register_state_machine("etl", definition)
    async with environment(first, url=url):
        handle = await first.start("etl", {})

        async def polled_twice() -> bool:
            return len(of_type(await handle.history(), TimerStarted)) >= 2

        await poll(polled_twice)

    aws_emulator.state_manager("unset-transition", {"model_name": "glue::job_run"})
    second = app_for(aws_emulator)
    second.register_state_machine("etl", definition)
    async with environment(second, url=url):
        result = await second.get_handle(handle.id).result(timeout=30)
    assert result["JobRunState"] == "SUCCEEDED"
    assert result["JobName"] == job
