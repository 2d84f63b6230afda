r"""JSONPath bracketed names read as AWS Step Functions reads them: a backslash inside a quoted
name is part of the name; the name is not unescaped.

Sources: the developer guide, "Passing parameters to a service API in Step Functions" ("Step
Functions paths use JsonPath", the Jayway Java implementation, whose bracket notation
``['name']`` selects a field by its name), and executions on AWS: ``$['Test\""Name"']``
selects the field ``Test\""Name"`` (backslash included)."""

from __future__ import annotations

from typing import Any

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import single

#: The key ``Test\""Name"``: T-e-s-t, a backslash, two double quotes, Name, a double quote.
KEY = "Test" + "\\" + '""Name"'
#: The path string ``$['Test\""Name"']``.
PATH = "$['" + KEY + "']"


@pytest.mark.parametrize(
    ("field", "path"),
    [("InputPath", PATH), ("OutputPath", PATH), ("Parameters", PATH)],
)
async def test_a_backslash_in_a_bracketed_name_is_part_of_the_name(field: str, path: str) -> None:
    r"""``$['Test\""Name"']`` selects the key ``Test\""Name"``, backslash included, in every
    field that takes a path."""
    assert len(KEY) == 12 and KEY.count("\\") == 1
    state: dict[str, Any] = (
        {"Type": "Pass", "Parameters": {"v.$": path}}
        if field == "Parameters"
        else {"Type": "Pass", field: path}
    )
    r = await run_state_machine(single(state), {KEY: "found", 'Test""Name"': "unescaped"})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == ({"v": "found"} if field == "Parameters" else "found")


async def test_a_name_without_the_backslash_is_not_selected() -> None:
    r"""The name is not unescaped: ``$['Test\""Name"']`` does not select ``Test""Name"``, so
    with only that key in the input the path selects nothing and the state fails."""
    r = await run_state_machine(single({"Type": "Pass", "InputPath": PATH}), {'Test""Name"': 1})
    assert r.status == "FAILED"
    assert r.error == "States.Runtime"


async def test_an_escaped_quote_stays_in_the_name() -> None:
    r"""A backslash before the closing quote character keeps it from ending the name, and both
    stay in it: ``$['it\'s']`` selects the key ``it\'s``."""
    key = "it\\'s"
    state = {"Type": "Pass", "InputPath": "$['" + key + "']"}
    r = await run_state_machine(single(state), {key: 1, "it's": 2})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == 1
