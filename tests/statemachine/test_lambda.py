"""Lambda-backed Task states answer as AWS Lambda and Step Functions do: a function's error,
``lambda:invoke``'s response and payload, JSON text returned, a function that does not exist.

Sources: Lambda developer guide, "AWS Lambda function errors in Python"
(https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html); Step Functions developer
guide, "Invoke Lambda with Step Functions"
(https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html) and "Handling errors
in Step Functions workflows"
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html); Lambda API
reference, "Invoke" (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

import legato
from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single

ARN = "arn:aws:lambda:us-east-1:123456789012:function:{}"
INVOKE = "arn:aws:states:::lambda:invoke"


def task(function: str, *, invoke: bool, **more: Any) -> dict[str, Any]:
    """A Task that runs ``function``: by its ARN as Resource, or through lambda:invoke."""
    if invoke:
        params = {"FunctionName": ARN.format(function), "Payload.$": "$"}
        return {"Type": "Task", "Resource": INVOKE, "Parameters": params, **more}
    return {"Type": "Task", "Resource": ARN.format(function), **more}


BOTH = pytest.mark.parametrize("invoke", [False, True], ids=["function-arn", "lambda-invoke"])


# --- item 6: a function's error -------------------------------------------------------------------
class CustomError(Exception):
    pass


def check_order(event: Any) -> None:
    validate(event)


def validate(event: Any) -> None:
    raise CustomError("This is a custom error!")


@BOTH
async def test_a_function_error_is_lambdas_error_json(invoke: bool) -> None:
    """Lambda guide, "AWS Lambda function errors in Python": a handler that raises makes
    Lambda answer ``{"errorMessage", "errorType", "requestId", "stackTrace"}``, the stack
    trace one string per frame of the function (the runtime's frames left out). Step
    Functions guide, "Handling errors": the Task fails with the error type as its Error and
    that JSON as its Cause, for the function ARN and lambda:invoke alike."""
    r = await run_state_machine(
        single(task("CheckOrder", invoke=invoke)), {}, steps={"CheckOrder": check_order}
    )
    assert r.error == "CustomError"
    assert r.cause is not None
    cause = json.loads(r.cause)
    assert list(cause) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert cause["errorMessage"] == "This is a custom error!"
    assert cause["errorType"] == "CustomError"
    assert uuid.UUID(cause["requestId"])  # a Lambda request id is a UUID
    assert r.cause == json.dumps(cause)  # as the Python runtime serialises it
    # traceback.format_list: '  File "...", line N, in NAME\n    SOURCE\n', the handler first
    first, second = cause["stackTrace"]
    assert first.startswith(f'  File "{__file__}", line ')
    assert first.endswith(", in check_order\n    validate(event)\n")
    assert second.endswith(', in validate\n    raise CustomError("This is a custom error!")\n')


class MessageOnly(Exception):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


def raise_message_only(event: Any) -> None:
    raise MessageOnly("set as an attribute")


@BOTH
async def test_an_error_with_an_empty_str_reports_its_message_attribute(invoke: bool) -> None:
    """Lambda guide, "AWS Lambda function errors in Python": errorMessage is the exception's
    message; an exception whose ``str()`` is empty but that sets ``message`` reports that."""
    r = await run_state_machine(
        single(task("F", invoke=invoke)), {}, steps={"F": raise_message_only}
    )
    assert r.error == "MessageOnly"
    assert json.loads(r.cause or "")["errorMessage"] == "set as an attribute"


async def test_a_catcher_gets_the_error_json_as_cause() -> None:
    """Step Functions guide, "Handling errors": a Catcher whose ErrorEquals names the
    function's error type catches it; the error output's Cause is Lambda's error JSON."""
    machine = chain(
        (
            "S",
            task(
                "CheckOrder",
                invoke=False,
                Catch=[
                    {"ErrorEquals": ["CustomError"], "Next": "Handled"},
                ],
            ),
        ),  # fmt: skip
        ("Handled", {"Type": "Pass", "End": True}),
    )
    r = await run_state_machine(machine, {}, steps={"CheckOrder": check_order})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Error"] == "CustomError"
    assert json.loads(r.output["Cause"])["errorMessage"] == "This is a custom error!"


# --- item 7: lambda:invoke's response and payload -------------------------------------------------
def echo(event: Any) -> Any:
    return event


async def test_lambda_invoke_returns_the_invoke_response_shape() -> None:
    """Step Functions guide, "Invoke Lambda with Step Functions": the function's output is
    nested in Lambda's response metadata: ExecutedVersion "$LATEST", Payload, SdkHttpMetadata
    (HttpHeaders Connection keep-alive, Content-Length, Content-Type application/json, Date,
    X-Amz-Executed-Version, x-amzn-Remapped-Content-Length 0, x-amzn-RequestId,
    X-Amzn-Trace-Id; HttpStatusCode 200), SdkResponseMetadata {RequestId}, StatusCode 200.
    The guide's example is dated Fri, 26 Mar 2021 07:42:02 GMT; the run starts then."""
    start = datetime(2021, 3, 26, 7, 42, 2, tzinfo=UTC)
    state = {"Type": "Task", "Resource": INVOKE,
             "Parameters": {"FunctionName": "echo", "Payload": {"a": 1}}}  # fmt: skip
    r = await run_state_machine(single(state), {}, steps={"echo": echo}, start=start)
    assert r.status == "COMPLETED", (r.error, r.cause)
    out = r.output
    assert list(out) == [
        "ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata", "StatusCode",
    ]  # fmt: skip
    assert out["ExecutedVersion"] == "$LATEST"
    assert out["Payload"] == {"a": 1}
    assert out["StatusCode"] == 200
    request = out["SdkResponseMetadata"]["RequestId"]
    assert out["SdkResponseMetadata"] == {"RequestId": str(uuid.UUID(request))}
    meta = out["SdkHttpMetadata"]
    assert meta["HttpStatusCode"] == 200
    headers = meta["HttpHeaders"]
    trace = headers.pop("X-Amzn-Trace-Id")
    assert headers == {
        "Connection": "keep-alive",
        "Content-Length": str(len(json.dumps({"a": 1}).encode())),  # the payload's JSON bytes
        "Content-Type": "application/json",
        "Date": "Fri, 26 Mar 2021 07:42:02 GMT",
        "X-Amz-Executed-Version": "$LATEST",
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request,
    }
    assert trace.startswith("Root=1-")
    every = {**headers, "X-Amzn-Trace-Id": trace}
    assert meta["AllHttpHeaders"] == {k: [v] for k, v in every.items()}


@pytest.mark.parametrize(
    ("params", "event"),
    [
        ({"Payload": "{}"}, {}),  # JSON text reaches the function decoded
        ({"Payload": "0.0"}, 0.0),
        ({"Payload": '{"order": [1, 2]}'}, {"order": [1, 2]}),
        ({}, {}),  # no Payload: the function is invoked with an empty event
        ({"Payload": None}, {}),
        ({"Payload": {"a": "b"}}, {"a": "b"}),
    ],
)
async def test_lambda_invoke_payload_reaches_the_function_decoded(
    params: dict[str, Any], event: Any
) -> None:
    """Lambda API, "Invoke": Payload is the JSON the function gets as its event (text, so a
    string that holds JSON is that JSON); Lambda invokes with ``{}`` when there is none."""
    seen: list[Any] = []

    def record(e: Any) -> str:
        seen.append(e)
        return "ok"

    state = {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "f", **params}}
    r = await run_state_machine(single(state), {}, steps={"f": record})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert seen == [event]
    assert type(seen[0]) is type(event)


# --- item 8: JSON text returned -------------------------------------------------------------------
@BOTH
@pytest.mark.parametrize(
    ("returned", "result"),
    [
        (b'{"status": "SHIPPED", "parcels": [1, 2]}', {"status": "SHIPPED", "parcels": [1, 2]}),
        ('{"status": "SHIPPED"}', {"status": "SHIPPED"}),
        ("[1, 2]", [1, 2]),
        ("Hello, AWS Step Functions", "Hello, AWS Step Functions"),  # not JSON: a string
        ({"already": "json"}, {"already": "json"}),
    ],
)
async def test_json_text_a_function_returns_is_decoded(
    invoke: bool, returned: Any, result: Any
) -> None:
    """Step Functions guide, "Invoke Lambda with Step Functions": "The Payload field of the
    response is parsed from escaped Json to Json": a function's output that is JSON text
    (bytes or a string) is the JSON it holds."""
    r = await run_state_machine(
        single(task("F", invoke=invoke)), {}, steps={"F": lambda _: returned}
    )
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert (r.output["Payload"] if invoke else r.output) == result


# --- item 9: a function that does not exist -------------------------------------------------------
@BOTH
async def test_an_unknown_function_fails_with_resource_not_found(invoke: bool) -> None:
    """Lambda API, "Invoke", Errors: ResourceNotFoundException, HTTP 404, for a function that
    does not exist; Step Functions reports the service error as
    ``Lambda.ResourceNotFoundException`` with the Lambda service's message, and a Catcher can
    catch it (it is a Task error, not States.Runtime)."""
    machine = chain(
        (
            "S",
            task(
                "Missing",
                invoke=invoke,
                Catch=[
                    {"ErrorEquals": ["Lambda.ResourceNotFoundException"], "Next": "Handled"},
                ],
            ),
        ),  # fmt: skip
        ("Handled", {"Type": "Pass", "End": True}),
    )
    r = await run_state_machine(machine, {}, steps={"Other": echo})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Error"] == "Lambda.ResourceNotFoundException"
    cause = r.output["Cause"]
    prefix = (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Missing:$LATEST "
        "(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; "
        "Request ID: "
    )
    assert cause.startswith(prefix)
    assert cause.endswith("; Proxy: null)")
    assert uuid.UUID(cause[len(prefix) : -len("; Proxy: null)")])


async def test_an_unknown_function_is_caught_by_states_all_and_fails_uncaught() -> None:
    """Step Functions guide, "Handling errors": States.ALL matches every Task error (this
    one included); uncaught, the execution fails with it."""
    caught = chain(
        ("S", task("Missing", invoke=True, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "H"}])),
        ("H", {"Type": "Pass", "End": True}),
    )
    r = await run_state_machine(caught, {}, steps={"Other": echo})
    assert r.output["Error"] == "Lambda.ResourceNotFoundException"
    r = await run_state_machine(single(task("Missing", invoke=False)), {}, steps={"Other": echo})
    assert r.status == "FAILED"
    assert r.error == "Lambda.ResourceNotFoundException"
    assert (r.cause or "").startswith(
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:Missing:$LATEST "
    )


async def test_a_missing_function_is_named_in_the_apps_region_and_account() -> None:
    """A plain FunctionName is taken to live in the app's region and account
    (``App(aws_region=, aws_account=)``, as execution ARNs are); Lambda's 404 names that ARN."""
    app = legato.App(aws_region="eu-west-1", aws_account="111122223333")
    state = {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "Missing"}}
    r = await run_state_machine(single(state), {}, app=app)
    assert r.status == "FAILED" and r.error == "Lambda.ResourceNotFoundException"
    assert (r.cause or "").startswith(
        "Function not found: arn:aws:lambda:eu-west-1:111122223333:function:Missing:$LATEST "
    )
