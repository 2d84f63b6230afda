"""ECS ``runTask`` (developer guide, "Run Amazon ECS or Fargate tasks with Step Functions")
against the emulator: ``.sync`` starts the task and polls ``DescribeTasks``, with durable
timers between polls, until the task is STOPPED; the result is the task's description in Step
Functions' PascalCase; TimeoutSeconds stops the task (``StopTask``); Request Response returns
RunTask's answer at once; cancelling the execution stops the task.

The tasks run on FARGATE in a subnet made in moto's EC2 (no container instance needed).
moto's state manager (model ``ecs::task``) decides how many ``DescribeTasks`` calls a task
takes to move from RUNNING through DEACTIVATING, STOPPING and DEPROVISIONING to STOPPED.

moto cannot make a container exit with a non-zero code (its containers' ``exitCode`` is always
0 and it has no ``SubmitContainerStateChange``), so the failure path runs through a small HTTP
relay in front of moto that reports exit code 1 for the stopped task's container; everything
else in that answer is moto's."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from legato.core.events import StepScheduled, TimerStarted
from legato.errors import ExecutionCancelled
from tests.aws_emulator import Emulator
from tests.conftest import of_type, poll
from tests.services.optimized_runs import (
    app_for,
    client,
    environment,
    run_machine,
    run_task,
    task,
    unique,
)

SYNC = "arn:aws:states:::ecs:runTask.sync"
REQUEST = "arn:aws:states:::ecs:runTask"
#: the four statuses moto moves a task through after RUNNING
STEPS_TO_STOPPED = 4


@pytest.fixture
def slow_tasks(aws_emulator: Emulator) -> Iterator[Any]:
    """``slow(describes)``: an ECS task moves to its next status only after that many
    ``DescribeTasks`` calls (until the test ends; moto's default is one)."""

    def slow(describes: int) -> None:
        transition = {"progression": "manual", "times": describes}
        aws_emulator.state_manager(
            "set-transition", {"model_name": "ecs::task", "transition": transition}
        )

    yield slow
    aws_emulator.state_manager("unset-transition", {"model_name": "ecs::task"})


@dataclass(frozen=True)
class Fargate:
    """A cluster, a FARGATE task definition and the network a task of it runs in."""

    cluster: str
    family: str
    subnet: str
    security_group: str

    def parameters(self, **extra: Any) -> dict[str, Any]:
        """runTask's parameters as a definition writes them (PascalCase)."""
        return {
            "Cluster": self.cluster,
            "TaskDefinition": self.family,
            "LaunchType": "FARGATE",
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "Subnets": [self.subnet],
                    "SecurityGroups": [self.security_group],
                    "AssignPublicIp": "DISABLED",
                }
            },
            **extra,
        }


@pytest.fixture
def fargate(aws_emulator: Emulator) -> Fargate:
    ec2 = client(aws_emulator, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # moto names a task's network interface only in a VPC with DNS host names
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=unique("sg"), Description="tasks", VpcId=vpc)
    ecs = client(aws_emulator, "ecs")
    cluster = ecs.create_cluster(clusterName=unique("cluster"))["cluster"]["clusterArn"]
    family = unique("family")
    ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "app", "image": "busybox", "memory": 512, "command": ["true"]}
        ],
    )
    return Fargate(cluster, family, subnet, group["GroupId"])


def _describes(history: Any) -> int:
    """How many DescribeTasks calls the execution made."""
    return sum("DescribeTasks" in e.args for e in of_type(history, StepScheduled))


def _group(emulator: Emulator, cluster: str, group: str) -> list[dict[str, Any]]:
    """moto's descriptions of the cluster's tasks of ``group``."""
    ecs = client(emulator, "ecs")
    arns = ecs.list_tasks(cluster=cluster)["taskArns"]
    described = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]
    return [dict(t) for t in described if t["group"] == group]


def _task(emulator: Emulator, cluster: str, arn: str) -> dict[str, Any]:
    [described] = client(emulator, "ecs").describe_tasks(cluster=cluster, tasks=[arn])["tasks"]
    return dict(described)


async def test_run_task_sync_waits_until_the_task_stopped(
    aws_emulator: Emulator, fargate: Fargate, slow_tasks: Any
) -> None:
    slow_tasks(2)  # two DescribeTasks calls per status: eight to STOPPED
    run = await run_task(aws_emulator, SYNC, fargate.parameters())
    assert run.status == "COMPLETED", run.cause
    assert _describes(run.history) >= 2 * STEPS_TO_STOPPED
    timers = of_type(run.history, TimerStarted)
    assert len(timers) >= 2 * STEPS_TO_STOPPED - 1  # a durable timer between two polls
    # the result is the stopped task's description, in Step Functions' PascalCase
    output = run.output
    assert output["LastStatus"] == "STOPPED"
    assert output["ClusterArn"] == fargate.cluster
    assert output["TaskArn"].startswith("arn:aws:ecs:us-east-1:")
    assert output["TaskDefinitionArn"].endswith(f":task-definition/{fargate.family}:1")
    assert output["LaunchType"] == "FARGATE"
    [container] = output["Containers"]
    assert container["Name"] == "app"
    assert container["ExitCode"] == 0
    [attachment] = output["Attachments"]
    assert attachment["Type"] == "ElasticNetworkInterface"
    assert {"Name": "subnetId", "Value": fargate.subnet} in attachment["Details"]
    assert "lastStatus" not in output and "Tasks" not in output


async def test_run_task_request_response_returns_at_once(
    aws_emulator: Emulator, fargate: Fargate, slow_tasks: Any
) -> None:
    slow_tasks(1_000_000)  # the task would never stop: the state does not wait for it
    variables = [{"Name": "RELEASE", "Value.$": "$.release"}]
    overrides = {"ContainerOverrides": [{"Name": "app", "Environment": variables}]}
    parameters = fargate.parameters(Overrides=overrides)
    run = await run_task(aws_emulator, REQUEST, parameters, {"release": "v2"})
    assert run.status == "COMPLETED", run.cause
    assert _describes(run.history) == 0
    assert of_type(run.history, TimerStarted) == []
    [started] = run.output["Tasks"]  # RunTask's answer, PascalCase
    assert started["LastStatus"] == "RUNNING"
    assert run.output["Failures"] == []
    described = _task(aws_emulator, fargate.cluster, started["TaskArn"])
    assert described["lastStatus"] == "RUNNING"
    # nested PascalCase parameters reached ECS as its camelCase members
    [container] = described["overrides"]["containerOverrides"]
    assert container == {"name": "app", "environment": [{"name": "RELEASE", "value": "v2"}]}


async def test_run_task_sync_timeout_stops_the_task(
    aws_emulator: Emulator, fargate: Fargate, slow_tasks: Any
) -> None:
    slow_tasks(1_000_000)  # stays RUNNING until someone stops it
    group = unique("group")  # to find the task afterwards
    run = await run_task(aws_emulator, SYNC, fargate.parameters(Group=group), TimeoutSeconds=90)
    assert run.status == "FAILED"
    assert run.error == "States.Timeout"
    assert _describes(run.history) >= 3  # it polled before giving up
    assert any("StopTask" in e.args for e in of_type(run.history, StepScheduled))
    [ours] = _group(aws_emulator, fargate.cluster, group)
    assert ours["lastStatus"] == "STOPPED"  # StopTask reached moto
    assert ours["desiredStatus"] == "STOPPED"


class _ExitCodeRelay(http.server.BaseHTTPRequestHandler):
    """Passes each request on to moto and its answer back, except that a stopped task's
    containers in a DescribeTasks answer exited with code 1 (moto's never do)."""

    upstream = ""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host",)}
        request = urllib.request.Request(self.upstream, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=30) as answer:
            status, content_type, data = (
                answer.status,
                answer.headers["Content-Type"],
                answer.read(),
            )
        if self.headers.get("X-Amz-Target", "").endswith(".DescribeTasks"):
            described = json.loads(data)
            for task in described.get("tasks", []):
                if task.get("lastStatus") == "STOPPED":
                    task["stopCode"] = "EssentialContainerExited"
                    for container in task.get("containers", []):
                        container["exitCode"] = 1
            data = json.dumps(described).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def failing_containers(aws_emulator: Emulator) -> Iterator[str]:
    """The URL of an ECS endpoint that is moto, but whose stopped containers exit with 1."""
    handler = type("Relay", (_ExitCodeRelay,), {"upstream": aws_emulator.url})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_a_container_exiting_non_zero_fails_the_state(
    aws_emulator: Emulator, fargate: Fargate, failing_containers: str
) -> None:
    app = app_for(aws_emulator, ecs=failing_containers)
    run = await run_task(aws_emulator, SYNC, fargate.parameters(), app=app)
    assert run.status == "FAILED"
    assert run.error == "States.TaskFailed"
    cause = json.loads(run.cause or "")  # the stopped task's description
    assert cause["LastStatus"] == "STOPPED"
    assert cause["StopCode"] == "EssentialContainerExited"
    assert [c["ExitCode"] for c in cause["Containers"]] == [1]
    assert _describes(run.history) >= STEPS_TO_STOPPED  # it waited for the task to stop


async def test_the_failure_is_caught_like_any_task_error(
    aws_emulator: Emulator, fargate: Fargate, failing_containers: str
) -> None:
    state = {"Type": "Task", "Resource": SYNC, "Parameters": fargate.parameters()}
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Failed", "ResultPath": "$.error"}]
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {**state, "Catch": catch, "End": True},
            "Failed": {"Type": "Pass", "End": True},
        },
    }
    app = app_for(aws_emulator, ecs=failing_containers)
    run = await run_machine(aws_emulator, definition, app=app)
    assert run.status == "COMPLETED", run.cause
    assert run.output["error"]["Error"] == "States.TaskFailed"
    assert json.loads(run.output["error"]["Cause"])["Containers"][0]["ExitCode"] == 1


async def test_timeout_stops_every_task_the_state_started(
    aws_emulator: Emulator, fargate: Fargate, slow_tasks: Any
) -> None:
    """``Count`` 2: both tasks are stopped, not only the first."""
    slow_tasks(1_000_000)
    group = unique("group")
    parameters = fargate.parameters(Group=group, Count=2)
    run = await run_task(aws_emulator, SYNC, parameters, TimeoutSeconds=90)
    assert run.error == "States.Timeout"
    ours = _group(aws_emulator, fargate.cluster, group)
    assert len(ours) == 2
    assert [t["lastStatus"] for t in ours] == ["STOPPED", "STOPPED"]


async def test_cancelling_the_execution_stops_the_task(
    aws_emulator: Emulator, fargate: Fargate, slow_tasks: Any
) -> None:
    slow_tasks(1_000_000)  # stays RUNNING until someone stops it
    group = unique("group")
    app = app_for(aws_emulator)
    app.register_state_machine("deploy", task(SYNC, fargate.parameters(Group=group)))
    async with environment(app):
        handle = await app.start("deploy", {})

        async def polling() -> bool:
            return len(of_type(await handle.history(), TimerStarted)) >= 1

        await poll(polling)
        assert [t["lastStatus"] for t in _group(aws_emulator, fargate.cluster, group)] == [
            "RUNNING"
        ]
        await handle.cancel("not needed")
        with pytest.raises(ExecutionCancelled):
            await handle.result(timeout=30)
    [ours] = _group(aws_emulator, fargate.cluster, group)
    assert ours["lastStatus"] == "STOPPED"
