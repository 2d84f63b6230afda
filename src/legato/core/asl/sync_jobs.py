"""How a ``.sync`` integration observes the job it started (developer guide, "Discover service
integration patterns", "Run a Job (.sync)"): Step Functions starts the job, then polls the
service's describe call until the job ends; the state's result is the job's final
description, and a job that ends unsuccessfully fails the state with ``States.TaskFailed``
and that description as the cause. When the state stops waiting (TimeoutSeconds), Step
Functions asks the service to stop the job.

For each service: the describe call and its parameters (from the request and the start
call's answer), where the job's status is in the answer, which statuses end it, what the
state's result is, and the call that stops it:

* ECS ``runTask``: ``DescribeTasks`` until every task is ``STOPPED``; it failed when a
  container exited with a non-zero code; the result is the task's description; ``StopTask``
  for each task it started.
* Batch ``submitJob``: ``DescribeJobs`` until ``SUCCEEDED`` or ``FAILED``; the result is the
  job's description; ``TerminateJob``.
* Glue ``startJobRun``: ``GetJobRun`` until ``SUCCEEDED`` (or FAILED, STOPPED, TIMEOUT, ERROR,
  EXPIRED); the result is the ``JobRun``; ``BatchStopJobRun``.
* Athena ``startQueryExecution``: ``GetQueryExecution`` until ``SUCCEEDED`` (or FAILED,
  CANCELLED); the result is GetQueryExecution's answer; ``StopQueryExecution``.

Answers are read whether their keys are the API's camelCase or Step Functions' PascalCase
(``optimized_shapes.field``); the parameters built here are PascalCase, as a definition
would write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, cast

from legato.core.asl.optimized_shapes import field
from legato.core.asl.resources import Integration
from legato.core.events import JSON

Progress: TypeAlias = Literal["running", "succeeded", "failed"]

#: seconds between two polls: quick at first (short jobs), then every 30 s
FIRST_POLL: Final = 1.0
MAX_POLL: Final = 30.0


@dataclass(frozen=True)
class Watch:
    """The calls that describe and stop one started job; ``stop`` is called once with each
    of ``stop_params`` (ECS stops one task per call, and ``runTask`` may start several)."""

    describe: str
    describe_params: dict[str, JSON]
    stop: str
    stop_params: tuple[dict[str, JSON], ...]


def poll_delay(polls: int) -> float:
    """Seconds to wait after the ``polls``-th describe call (1, 2, 4 ... capped at 30)."""
    return min(MAX_POLL, FIRST_POLL * float(2 ** min(polls, 16)))


def _obj(value: JSON) -> dict[str, JSON]:
    return value if isinstance(value, dict) else {}


def _list(value: JSON) -> list[JSON]:
    return value if isinstance(value, list) else []


def watch(integration: Integration, args: JSON, started: JSON) -> Watch:
    """How to follow the job that ``integration`` started with ``args``, given the start
    call's answer. ``ValueError`` when the answer names no job."""
    request = _obj(args)
    service = integration.service
    if service == "glue":
        run_id = field(started, "JobRunId")
        job = request.get("JobName")
        return Watch(
            "GetJobRun", {"JobName": job, "RunId": run_id},
            "BatchStopJobRun", ({"JobName": job, "JobRunIds": [run_id]},),
        )  # fmt: skip
    if service == "athena":
        query = field(started, "QueryExecutionId")
        params: dict[str, JSON] = {"QueryExecutionId": query}
        return Watch("GetQueryExecution", params, "StopQueryExecution", (params,))
    if service == "batch":
        job_id = field(started, "JobId")
        return Watch(
            "DescribeJobs", {"Jobs": [job_id]},
            "TerminateJob", ({"JobId": job_id, "Reason": "Stopped by the state machine"},),
        )  # fmt: skip
    if service == "ecs":
        arns = [field(t, "TaskArn") for t in _list(field(started, "Tasks"))]
        if not arns:
            raise ValueError(f"ecs:runTask started no task: {started}")
        cluster = request.get("Cluster")
        describe: dict[str, JSON] = {"Tasks": cast(JSON, arns)}
        where: dict[str, JSON] = {} if cluster is None else {"Cluster": cluster}
        stops = tuple({**where, "Task": arn} for arn in arns)  # every task it started
        return Watch("DescribeTasks", {**where, **describe}, "StopTask", stops)
    raise ValueError(f"{service}:{integration.action} has no .sync pattern")


_GLUE_FAILED: Final = frozenset({"FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"})
_ATHENA_FAILED: Final = frozenset({"FAILED", "CANCELLED"})


def progress(integration: Integration, described: JSON) -> tuple[Progress, JSON]:
    """Where the job stands after a describe call, and its description (the state's result
    when it succeeded, the cause when it failed)."""
    service = integration.service
    if service == "glue":
        run = field(described, "JobRun")
        state = field(run, "JobRunState")
        return _ended(state, "SUCCEEDED", _GLUE_FAILED), run
    if service == "athena":
        state = field(field(field(described, "QueryExecution"), "Status"), "State")
        return _ended(state, "SUCCEEDED", _ATHENA_FAILED), described
    if service == "batch":
        jobs = _list(field(described, "Jobs"))
        job = jobs[0] if jobs else None
        return _ended(field(job, "Status"), "SUCCEEDED", frozenset({"FAILED"})), job
    tasks = _list(field(described, "Tasks"))
    task = tasks[0] if len(tasks) == 1 else described
    if not tasks or any(field(t, "LastStatus") != "STOPPED" for t in tasks):
        return "running", task
    codes = [field(c, "ExitCode") for t in tasks for c in _list(field(t, "Containers"))]
    return ("failed" if any(code != 0 for code in codes) else "succeeded"), task


def _ended(state: JSON, success: str, failures: frozenset[str]) -> Progress:
    if state == success:
        return "succeeded"
    if isinstance(state, str) and state in failures:
        return "failed"
    return "running"
