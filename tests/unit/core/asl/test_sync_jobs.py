"""How ``.sync`` follows a job, per service, without AWS (``legato.core.asl.sync_jobs``)."""

from __future__ import annotations

import pytest

from legato.core.asl import sync_jobs
from legato.core.asl.resources import Integration
from legato.core.events import JSON


def _sync(service: str, action: str) -> Integration:
    return Integration(service, action, pattern="sync")


def test_poll_delays_grow_and_are_capped() -> None:
    delays = [sync_jobs.poll_delay(n) for n in range(40)]
    assert delays[:4] == [1.0, 2.0, 4.0, 8.0]
    assert delays == sorted(delays)
    assert max(delays) == sync_jobs.MAX_POLL


def test_watches() -> None:
    glue = sync_jobs.watch(_sync("glue", "startJobRun"), {"JobName": "j"}, {"JobRunId": "r"})
    assert (glue.describe, glue.describe_params) == ("GetJobRun", {"JobName": "j", "RunId": "r"})
    assert glue.stop_params == ({"JobName": "j", "JobRunIds": ["r"]},)
    athena = sync_jobs.watch(_sync("athena", "startQueryExecution"), {}, {"QueryExecutionId": "q"})
    assert (athena.describe, athena.stop) == ("GetQueryExecution", "StopQueryExecution")
    batch = sync_jobs.watch(_sync("batch", "submitJob"), {}, {"jobId": "b"})  # camelCase answer
    assert batch.describe_params == {"Jobs": ["b"]}
    ecs = sync_jobs.watch(_sync("ecs", "runTask"), {"Cluster": "c"}, {"Tasks": [{"TaskArn": "t"}]})
    assert ecs.describe_params == {"Cluster": "c", "Tasks": ["t"]}
    assert ecs.stop_params == ({"Cluster": "c", "Task": "t"},)
    two = sync_jobs.watch(
        _sync("ecs", "runTask"), {}, {"Tasks": [{"TaskArn": "t"}, {"TaskArn": "u"}]}
    )
    assert two.describe_params == {"Tasks": ["t", "u"]}
    assert two.stop_params == ({"Task": "t"}, {"Task": "u"})  # every task is stopped
    with pytest.raises(ValueError, match="started no task"):
        sync_jobs.watch(_sync("ecs", "runTask"), {}, {"Tasks": [], "Failures": [{"Reason": "x"}]})


@pytest.mark.parametrize(
    ("service", "action", "described", "expected"),
    [
        ("glue", "startJobRun", {"JobRun": {"JobRunState": "RUNNING"}}, "running"),
        ("glue", "startJobRun", {"JobRun": {"JobRunState": "SUCCEEDED"}}, "succeeded"),
        ("glue", "startJobRun", {"JobRun": {"JobRunState": "TIMEOUT"}}, "failed"),
        (
            "athena",
            "startQueryExecution",
            {"QueryExecution": {"Status": {"State": "QUEUED"}}},
            "running",
        ),
        (
            "athena",
            "startQueryExecution",
            {"QueryExecution": {"Status": {"State": "CANCELLED"}}},
            "failed",
        ),
        ("batch", "submitJob", {"jobs": [{"status": "RUNNABLE"}]}, "running"),
        ("batch", "submitJob", {"Jobs": [{"Status": "SUCCEEDED"}]}, "succeeded"),
        ("batch", "submitJob", {"Jobs": [{"Status": "FAILED"}]}, "failed"),
        ("ecs", "runTask", {"Tasks": [{"LastStatus": "RUNNING"}]}, "running"),
        (
            "ecs",
            "runTask",
            {"Tasks": [{"LastStatus": "STOPPED", "Containers": [{"ExitCode": 0}]}]},
            "succeeded",
        ),
        (
            "ecs",
            "runTask",
            {"Tasks": [{"LastStatus": "STOPPED", "Containers": [{"ExitCode": 2}]}]},
            "failed",
        ),
    ],
)
def test_progress(service: str, action: str, described: JSON, expected: str) -> None:
    assert sync_jobs.progress(_sync(service, action), described)[0] == expected


def test_the_result_is_the_job_description() -> None:
    run: JSON = {"JobRunState": "SUCCEEDED", "Id": "r"}
    assert sync_jobs.progress(_sync("glue", "startJobRun"), {"JobRun": run}) == ("succeeded", run)
    task: JSON = {"LastStatus": "STOPPED", "Containers": [{"ExitCode": 0}]}
    assert sync_jobs.progress(_sync("ecs", "runTask"), {"Tasks": [task]}) == ("succeeded", task)
