"""The HTTP Task (``arn:aws:states:::http:invoke``) against a real local server: the request
Step Functions builds (Method, ApiEndpoint, Headers, QueryParameters, RequestBody, Transform)
and the response and errors as it shapes them.

Source: Step Functions developer guide, "Call HTTPS APIs in Step Functions workflows"
(https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html): "HTTP Task
fields", "Applying URL-encoding on request body", the HTTP Task's output, "Connection errors".
The server listens on 127.0.0.1, which each app allows (``http_allow``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

import legato
from legato.core.asl.validate import validate
from legato.testing import StateMachineRun, WorkflowEnvironment, run_state_machine
from tests.services.http_task_server import LocalServer, serve

HTTP = "arn:aws:states:::http:invoke"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    yield from serve()


def machine(params: dict[str, Any], **more: Any) -> dict[str, Any]:
    call = {"Type": "Task", "Resource": HTTP, "Parameters": params, "End": True, **more}
    return {"StartAt": "Call", "States": {"Call": call}}


async def run(definition: dict[str, Any], input: Any = None) -> StateMachineRun:
    return await run_state_machine(
        definition, input or {}, app=legato.App(http_allow=["127.0.0.1"])
    )


async def test_a_get_with_query_parameters_answers_in_step_functions_shape(
    server: LocalServer,
) -> None:
    """ "HTTP Task fields": QueryParameters are added to the URL's query; the output has the
    response's Headers (every value, names in lower case), ResponseBody parsed from JSON,
    StatusCode and StatusText."""
    params = {
        "ApiEndpoint": server.url("/echo?fixed=1"),
        "Method": "GET",
        "QueryParameters": {"q": "a b&c", "n": 2, "many": ["x", "y"]},
    }
    r = await run(machine(params))
    assert r.status == "COMPLETED", r.cause
    assert r.output["StatusCode"] == 200
    assert r.output["StatusText"] == "OK"
    assert r.output["Headers"]["x-served-by"] == ["legato-test"]
    assert r.output["Headers"]["content-type"] == ["application/json"]
    echoed = r.output["ResponseBody"]
    assert echoed["method"] == "GET"
    assert echoed["path"] == "/echo"
    assert echoed["query"] == "fixed=1&q=a%20b%26c&n=2&many=x&many=y"
    assert echoed["body"] == ""


async def test_a_post_sends_the_body_as_json_with_the_headers(server: LocalServer) -> None:
    params = {
        "ApiEndpoint": server.url("/echo"),
        "Method": "POST",
        "Headers": {"X-Request-Id": "r-1", "X-Count": 3},
        "RequestBody": {"order": {"id": "o-1", "lines": [1, 2]}, "note.$": "$.note"},
    }
    r = await run(machine(params), {"note": "fragile"})
    assert r.status == "COMPLETED", r.cause
    seen = server.seen[-1]
    assert seen.method == "POST"
    assert json.loads(seen.body) == {"order": {"id": "o-1", "lines": [1, 2]}, "note": "fragile"}
    assert seen.headers["content-type"] == "application/json; charset=UTF-8"
    assert seen.headers["x-request-id"] == "r-1"
    assert seen.headers["x-count"] == "3"


@pytest.mark.parametrize(
    ("array_format", "expected"),
    [
        ("INDICES", "id=7&tags[0]=a&tags[1]=b c&meta[k]=v"),
        ("REPEAT", "id=7&tags=a&tags=b c&meta[k]=v"),
        ("COMMAS", "id=7&tags=a,b c&meta[k]=v"),
        ("BRACKETS", "id=7&tags[]=a&tags[]=b c&meta[k]=v"),
        (None, "id=7&tags[0]=a&tags[1]=b c&meta[k]=v"),
    ],
)
async def test_url_encoding_writes_arrays_as_array_format_says(
    server: LocalServer, array_format: str | None, expected: str
) -> None:
    """ "Applying URL-encoding on request body": RequestBodyEncoding URL_ENCODED sends the body
    as a form, arrays as ArrayFormat says (INDICES when it says nothing)."""
    transform: dict[str, Any] = {"RequestBodyEncoding": "URL_ENCODED"}
    if array_format is not None:
        transform["RequestEncodingOptions"] = {"ArrayFormat": array_format}
    params = {
        "ApiEndpoint": server.url("/echo"),
        "Method": "POST",
        "RequestBody": {"id": 7, "tags": ["a", "b c"], "meta": {"k": "v"}},
        "Transform": transform,
    }
    r = await run(machine(params))
    assert r.status == "COMPLETED", r.cause
    seen = server.seen[-1]
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert unquote(seen.body) == expected
    assert "[" not in seen.body and "," not in seen.body  # reserved characters are encoded


async def test_a_text_body_is_text_and_a_text_response_is_a_string(server: LocalServer) -> None:
    params = {"ApiEndpoint": server.url("/text"), "Method": "PUT", "RequestBody": "raw words"}
    r = await run(machine(params))
    assert r.status == "COMPLETED", r.cause
    assert server.seen[-1].body == "raw words"
    assert server.seen[-1].headers["content-type"] == "text/plain; charset=UTF-8"
    assert r.output["ResponseBody"] == "plain words"


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "OPTIONS", "HEAD"])
async def test_every_method_is_sent(server: LocalServer, method: str) -> None:
    r = await run(machine({"ApiEndpoint": server.url("/echo"), "Method": method}))
    assert r.status == "COMPLETED", r.cause
    assert server.seen[-1].method == method


@pytest.mark.parametrize("code", [400, 404, 409, 429, 500, 503])
async def test_a_status_other_than_2xx_is_states_http_statuscode(
    server: LocalServer, code: int
) -> None:
    """ "Connection errors": the Task fails with States.Http.StatusCode.<code>; its Cause is
    the response in the output's shape, so a Catch can read it."""
    params = {"ApiEndpoint": server.url(f"/status/{code}"), "Method": "GET"}
    r = await run(machine(params))
    assert r.status == "FAILED"
    assert r.error == f"States.Http.StatusCode.{code}"
    cause = json.loads(r.cause or "")
    assert cause["StatusCode"] == code
    assert cause["ResponseBody"] == {"error": f"status {code}"}
    assert cause["Headers"]["x-served-by"] == ["legato-test"]


async def test_retry_and_catch_match_the_status_error(server: LocalServer) -> None:
    state = {
        "Retry": [{"ErrorEquals": ["States.Http.StatusCode.503"], "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["States.Http.StatusCode.503"], "Next": "Caught"}],
    }
    definition = machine({"ApiEndpoint": server.url("/status/503"), "Method": "GET"}, **state)
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    r = await run(definition)
    assert r.status == "COMPLETED"
    assert r.output["Error"] == "States.Http.StatusCode.503"
    assert server.paths() == ["/status/503"] * 3  # the first call and two retries


async def test_no_answer_is_states_http_socket(server: LocalServer) -> None:
    """Nothing listens on the port: the Task fails with States.Http.Socket."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    r = await run(machine({"ApiEndpoint": f"http://127.0.0.1:{port}/", "Method": "GET"}))
    assert r.error == "States.Http.Socket"
    assert f"127.0.0.1:{port}" in (r.cause or "")


async def test_a_binary_response_is_not_supported(server: LocalServer) -> None:
    r = await run(machine({"ApiEndpoint": server.url("/binary"), "Method": "GET"}))
    assert r.error == "States.TaskFailed"
    assert "image/png" in (r.cause or "")


async def test_jsonata_arguments_work_the_same(server: LocalServer) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": HTTP,
                "Arguments": {
                    "ApiEndpoint": server.url("/echo"),
                    "Method": "POST",
                    "RequestBody": {"total": "{% $states.input.a + $states.input.b %}"},
                },
                "Output": "{% $states.result.ResponseBody.body %}",
                "End": True,
            }
        },
    }
    r = await run(definition, {"a": 2, "b": 3})
    assert r.status == "COMPLETED", r.cause
    assert json.loads(r.output) == {"total": 5}


async def test_arguments_that_are_no_request_fail_with_states_runtime(
    server: LocalServer,
) -> None:
    """A value known only at run time is checked before the call, and named."""
    params = {"ApiEndpoint.$": "$.url", "Method.$": "$.method"}
    r = await run(machine(params), {"url": "ftp://example.com/", "method": "FETCH"})
    assert r.error == "States.Runtime"
    assert "Parameters.ApiEndpoint" in (r.cause or "")
    assert "Method must be one of GET, POST" in (r.cause or "")
    assert server.seen == []


def problems(params: Any, language: str = "JSONPath") -> list[tuple[str, str]]:
    holder = "Arguments" if language == "JSONata" else "Parameters"
    state = {"Type": "Task", "Resource": HTTP, holder: params, "End": True}
    return [
        (p.path, p.rule)
        for p in validate({"QueryLanguage": language, "StartAt": "A", "States": {"A": state}})
    ]


def test_validation_names_each_broken_field() -> None:
    found = problems(
        {
            "ApiEndpoint": "ftp://x/",
            "Method": "FETCH",
            "Headers": {"Authorization": "Bearer x", "X-Amz-Date": "now", "X-Fine": "1"},
            "Authentication": {"Arn": "x"},
            "Transform": {
                "RequestBodyEncoding": "GZIP",
                "RequestEncodingOptions": {"ArrayFormat": "SEMICOLONS"},
            },
            "Body": {},
        }
    )
    paths = [path for path, _ in found]
    at = "$.States.A.Parameters"
    assert f"{at}.Body" in paths
    assert f"{at}.ApiEndpoint" in paths
    assert f"{at}.Method" in paths
    assert f"{at}.Headers.Authorization" in paths
    assert f"{at}.Headers['X-Amz-Date']" in paths
    assert not any("X-Fine" in p for p in paths)
    assert f"{at}.Authentication.Arn" in paths
    assert f"{at}.Transform.RequestBodyEncoding" in paths
    assert f"{at}.Transform.RequestEncodingOptions.ArrayFormat" in paths


def test_validation_accepts_dynamic_values_and_requires_endpoint_and_method() -> None:
    assert problems({"ApiEndpoint.$": "$.url", "Method.$": "$.m", "Headers.$": "$.h"}) == []
    assert problems({"ApiEndpoint": "{% $states.input.url %}", "Method": "GET"}, "JSONata") == []
    assert problems("{% $states.input.request %}", "JSONata") == []
    missing = problems({"Method": "GET"})
    assert missing == [("$.States.A.Parameters", "the HTTP Task needs ApiEndpoint")]
    state = {"Type": "Task", "Resource": HTTP, "End": True}
    found = validate({"StartAt": "A", "States": {"A": state}})
    assert [(p.path, p.rule) for p in found] == [
        (
            "$.States.A.Parameters",
            "arn:aws:states:::http:invoke needs ApiEndpoint and Method in Parameters",
        )
    ]


async def test_wait_for_task_token_hands_the_token_to_the_api(server: LocalServer) -> None:
    """``http:invoke.waitForTaskToken``: the call carries $$.Task.Token; the state's result is
    what the API later sends back with the token, not the HTTP response."""
    definition = machine(
        {
            "ApiEndpoint": server.url("/echo"),
            "Method": "POST",
            "RequestBody": {"token.$": "$$.Task.Token"},
        },
        Resource=HTTP + ".waitForTaskToken",
    )
    app = legato.App(http_allow=["127.0.0.1"])
    app.register_state_machine("approve", definition)
    async with WorkflowEnvironment(app):
        handle = await app.start("approve", {})
        for _ in range(2000):  # until the API has been called: a condition, not a duration
            if server.seen:
                break
            await asyncio.sleep(0.005)
        token = json.loads(server.seen[0].body)["token"]
        await app.send_task_success(token, {"approved": True})
        assert await handle.result(timeout=10) == {"approved": True}


async def test_timeout_seconds_bounds_the_call(server: LocalServer) -> None:
    """The state's TimeoutSeconds is the step's: an API that does not answer times the Task
    out with States.Timeout, which Catch handles like any Task's."""
    definition = machine(
        {"ApiEndpoint": server.url("/hang"), "Method": "GET"},
        TimeoutSeconds=1,
        Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Late"}],
    )
    definition["States"]["Late"] = {"Type": "Pass", "Result": "late", "End": True}
    r = await run(definition)
    assert r.status == "COMPLETED", r.cause
    assert r.output == "late"


async def test_a_header_that_cannot_be_sent_is_states_runtime(server: LocalServer) -> None:
    params = {"ApiEndpoint": server.url("/echo"), "Method": "GET", "Headers": {"X-Name": "Zoë"}}
    r = await run(machine(params))
    assert r.error == "States.Runtime"
    assert "cannot be sent" in (r.cause or "")
    assert server.seen == []


def test_validation_skips_nested_dynamic_values() -> None:
    assert (
        problems(
            {
                "ApiEndpoint": "https://api.example.com/",
                "Method": "POST",
                "Authentication": {"ConnectionArn.$": "$.connection"},
                "Transform": {
                    "RequestBodyEncoding.$": "$.encoding",
                    "RequestEncodingOptions": {"ArrayFormat.$": "$.format"},
                },
            }
        )
        == []
    )
    arguments = {
        "ApiEndpoint": "https://api.example.com/",
        "Method": "POST",
        "Transform": {"RequestBodyEncoding": "{% $states.input.encoding %}"},
    }
    assert problems(arguments, "JSONata") == []
