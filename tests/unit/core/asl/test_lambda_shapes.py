"""Lambda's shapes for Lambda-backed Tasks (legato.core.asl.lambda_shapes)."""

from __future__ import annotations

import traceback

import pytest

from legato.core.asl.lambda_shapes import (
    decode_json_text,
    function_arn,
    invoke_payload,
    request_id,
    stack_trace,
)


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _inner() -> None:
    raise KeyError("order")


def _outer() -> None:
    try:
        _inner()
    except KeyError as exc:
        raise ValueError("bad order") from exc


def test_stack_trace_is_format_list_of_the_raised_exceptions_frames() -> None:
    # Lambda guide, "AWS Lambda function errors in Python": stackTrace is the frames as
    # traceback.format_list writes them, of the exception the handler raised.
    try:
        _outer()
    except ValueError as exc:
        text = _format(exc)
        expected = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    frames = stack_trace(text)
    assert frames == expected  # the chained KeyError's frames are not the raised error's
    assert frames[-1].endswith('raise ValueError("bad order") from exc\n')


def test_stack_trace_leaves_out_the_runner_frames() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/legato/engine/attempts.py", line 129, in _attempt\n'
        "    result = await self._call(step, args, kwargs, ctx, limits)\n"
        '  File "/usr/lib/python3.11/concurrent/futures/thread.py", line 58, in run\n'
        "    result = self.fn(*self.args, **self.kwargs)\n"
        "             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        '  File "/var/task/lambda_function.py", line 6, in lambda_handler\n'
        '    raise CustomError("This is a custom error!")\n'
        "CustomError: This is a custom error!\n"
    )
    assert stack_trace(text) == [
        '  File "/var/task/lambda_function.py", line 6, in lambda_handler\n'
        '    raise CustomError("This is a custom error!")\n'
    ]


@pytest.mark.parametrize("text", [None, "", "LookupError: no such person"])
def test_no_traceback_is_an_empty_stack_trace(text: str | None) -> None:
    assert stack_trace(text) == []


def test_request_ids_are_uuids_stable_per_key() -> None:
    assert request_id("e:S:t:0:None") == request_id("e:S:t:0:None")
    assert request_id("e:S:t:0:None") != request_id("e:S:t:1:None")


@pytest.mark.parametrize(
    ("value", "decoded"),
    [("{}", {}), ("0.0", 0.0), ("[1]", [1]), ('"x"', "x"), ("hello", "hello"), ("NaN", "NaN"),
     ({"a": 1}, {"a": 1}), (3, 3)],
)  # fmt: skip
def test_decode_json_text(value: object, decoded: object) -> None:
    assert decode_json_text(value) == decoded  # type: ignore[arg-type]


def test_no_payload_is_an_empty_event() -> None:
    assert invoke_payload(None) == {}


@pytest.mark.parametrize(
    ("function", "arn"),
    [
        ("Missing", "arn:aws:lambda:us-east-1:123456789012:function:Missing:$LATEST"),
        ("Missing:prod", "arn:aws:lambda:us-east-1:123456789012:function:Missing:prod"),
        (
            "111122223333:function:Missing",
            "arn:aws:lambda:us-east-1:111122223333:function:Missing:$LATEST",
        ),
        (
            "arn:aws:lambda:eu-west-1:111122223333:function:Missing",
            "arn:aws:lambda:eu-west-1:111122223333:function:Missing:$LATEST",
        ),
        (
            "arn:aws:lambda:eu-west-1:111122223333:function:Missing:2",
            "arn:aws:lambda:eu-west-1:111122223333:function:Missing:2",
        ),
    ],
)
def test_function_arn_names_the_version(function: str, arn: str) -> None:
    # Lambda API, "Invoke": FunctionName is a name, a partial or a full ARN, with an optional
    # version or alias; without one, $LATEST runs.
    assert function_arn(function) == arn
