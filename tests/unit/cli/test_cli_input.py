"""The pure parts of the CLI: how ``--input`` becomes arguments and is checked against the
workflow before anything is written, and how a wait is worded."""

from __future__ import annotations

from typing import Any

import pytest

import legato
from legato.cli.output import span
from legato.cli.start import arguments, check_input
from legato.errors import ConfigurationError, LegatoError

app = legato.App()


@app.workflow(name="ship")
async def ship(ctx: legato.Context, order: str, qty: int = 1, *, express: bool = False) -> None:
    return None


WF = app.registry.workflow_named("ship")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["o-1", 2], (["o-1", 2], {})),
        ({"order": "o-1"}, ([], {"order": "o-1"})),
        ([], ([], {})),
    ],
)
def test_arguments(value: Any, expected: tuple[list[Any], dict[str, Any]]) -> None:
    assert arguments(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "not a number"),
        (1.5, "not a number"),
        ("o-1", "not a string"),
        (True, "not true or false"),
        (None, "not null"),
        ({"order": "o", "id": "x"}, "'id' cannot be passed by keyword"),
        ({"connection": 1}, "'connection' cannot be passed by keyword"),
        ({"workflow": 1, "self": 2}, "'self', 'workflow' cannot be passed by keyword"),
    ],
)
def test_arguments_refused(value: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        arguments(value)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (["o-1"], {}),
        (["o-1", "3"], {}),  # lax JSON: "3" is a valid int, as the engine decodes it
        ([], {"order": "o-1", "express": True}),
    ],
)
def test_input_the_workflow_takes(args: list[Any], kwargs: dict[str, Any]) -> None:
    check_input(WF, args, kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ([], {}, "missing a required argument: 'order'"),
        (["o", 1, True], {}, "too many positional arguments"),
        (["o"], {"colour": "red"}, "got an unexpected keyword argument 'colour'"),
        (["o", "many"], {}, "argument 'qty': Input should be a valid integer"),
        (["o"], {"express": "perhaps"}, "argument 'express': Input should be a valid boolean"),
    ],
)
def test_input_the_workflow_rejects(args: list[Any], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(LegatoError, match=f"input of workflow 'ship' rejected: .*{message}"):
        check_input(WF, args, kwargs)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0ms"),
        (999, "999ms"),
        (1_000, "1s"),
        (42_000, "42s"),
        (3_599_000, "59m 59s"),
        (3_600_000, "1h"),
        (3_725_000, "1h 2m"),
        (90_061_000, "1d 1h"),
        (-5, "0ms"),
    ],
)
def test_span(ms: int, text: str) -> None:
    assert span(ms) == text
