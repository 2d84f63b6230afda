"""Step Functions' optimized integrations (developer guide, "Integrating optimized services"):
DynamoDB, SNS, SQS, EventBridge, Bedrock, ECS, Batch, Glue and Athena, with the request and
response shapes the developer guide documents for each (``core.asl.optimized_shapes``).

Each call is one attempt of the built-in step ``legato.aws`` (``aws_calls.call_aws``), so the
state's Retry, Catch, TimeoutSeconds and HeartbeatSeconds apply as to any Task. The three
patterns: Request Response returns the call's answer; ``.waitForTaskToken`` makes the same
call and ``run_task`` then waits for the token it handed out; ``.sync`` starts a job and
follows it to its end (``job_runs``)."""

from __future__ import annotations

from legato.core.asl import optimized_shapes
from legato.core.asl.resources import Integration
from legato.core.events import JSON
from legato.engine.statemachine.aws_calls import call_aws
from legato.engine.statemachine.dataflow import StateData
from legato.engine.statemachine.job_runs import run_job
from legato.engine.statemachine.machine import Run


async def run_optimized(
    run: Run,
    sd: StateData,
    resource: Integration,
    args: JSON,
    timeout: float | None,
    heartbeat: float | None,
) -> JSON:
    """The optimized integration's result, in Step Functions' shape. An action or pattern
    Legato does not run is the state's States.Runtime error, naming it."""
    why = optimized_shapes.problem(resource)
    if why is not None:
        raise optimized_shapes.runtime_error(sd.name, resource, why)
    spec = optimized_shapes.OPTIMIZED[(resource.service, resource.action)]
    execution_arn = run.aws.execution_arn(run.name, run.ctx.execution_id)
    machine_arn = run.aws.state_machine_arn(run.name)
    try:
        params = optimized_shapes.request(resource, args, execution_arn, machine_arn)
        location = optimized_shapes.bedrock_input(resource, args)
    except ValueError as exc:
        raise optimized_shapes.runtime_error(sd.name, resource, str(exc)) from None
    if location is not None:  # the model's input is an S3 object: read it first, durably
        bucket, key = location
        read = await call_aws(
            run, sd, "s3", "GetObject", {"Bucket": bucket, "Key": key}, timeout, heartbeat, "S3"
        )
        params["body"] = optimized_shapes.field(read, "Body")
    if resource.pattern == "sync":
        return await run_job(run, sd, resource, spec, params, args, timeout, heartbeat)
    answer = await call_aws(
        run, sd, spec.service, spec.operation, params, timeout, heartbeat, spec.prefix
    )
    return optimized_shapes.response(resource, args, answer)
