"""A mock configuration that cannot be used is refused before anything runs, each problem
with the JSON path of the field and what is wrong (and the nearest valid name for a typo)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from legato.core.asl.mock_config import (
    MockReturn,
    MockThrow,
    case_problems,
    parse_mock_config,
    task_states,
)
from legato.engine.statemachine.mocking import load_mock_config, mock_setting
from legato.errors import ConfigurationError, InvalidMockConfigError
from legato.testing import run_state_machine

OK = {"0": {"Return": {"ok": True}}}


def config(responses: dict[str, Any], states: dict[str, Any] | None = None) -> dict[str, Any]:
    cases = {"T": states if states is not None else {}}
    return {"StateMachines": {"M": {"TestCases": cases}}, "MockedResponses": responses}


def problems_of(data: object) -> list[tuple[str, str]]:
    with pytest.raises(InvalidMockConfigError) as caught:
        parse_mock_config(data, "mocks.json")
    assert "Traceback" not in str(caught.value)
    assert str(caught.value).startswith("invalid mock configuration mocks.json:")
    return [(p.path, p.rule) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        ([], "$", "a mock configuration is a JSON object"),
        ({"StateMachines": {}, "MockedResponse": {}}, "$.MockedResponse",
         "unknown field (did you mean 'MockedResponses'?)"),
        ({"MockedResponses": {}}, "$.StateMachines", "required"),
        ({"StateMachines": {}}, "$.MockedResponses", "required"),
        ({"StateMachines": [], "MockedResponses": {}}, "$.StateMachines", "must be an object"),
        ({"StateMachines": {"M": {"TestCase": {}}}, "MockedResponses": {}},
         "$.StateMachines.M.TestCase", "unknown field (did you mean 'TestCases'?)"),
        ({"StateMachines": {"M": {}}, "MockedResponses": {}}, "$.StateMachines.M.TestCases",
         "required"),
        (config({"Ok": OK}, {"S": "Okk"}), "$.StateMachines.M.TestCases.T.S",
         "no mocked response 'Okk' in MockedResponses (did you mean 'Ok'?)"),
        (config({"Ok": OK}, {"S": 3}), "$.StateMachines.M.TestCases.T.S",
         "must be the name of a mocked response"),
        (config({"R": {}}), "$.MockedResponses.R", "must be a non-empty object"),
        (config({"R": {"1-": OK["0"]}}), "$.MockedResponses.R['1-']",
         'invocations are a number or a range, "0" or "1-2"'),
        (config({"R": {"3-1": OK["0"]}}), "$.MockedResponses.R['3-1']", "first <= last"),
        (config({"R": {"first": OK["0"]}}), "$.MockedResponses.R.first", "invocations are"),
        (config({"R": {0: OK["0"]}}), "$.MockedResponses.R['0']", "invocations are"),
        (config({"R": {"0-2": OK["0"], "2": OK["0"]}}), "$.MockedResponses.R",
         'invocations "0-2" and "2" overlap'),
        (config({"R": {"0": {"Return": 1, "Throw": {"Error": "E"}}}}),
         "$.MockedResponses.R['0']", 'exactly one of "Return"'),
        (config({"R": {"0": {"Returns": 1}}}), "$.MockedResponses.R['0']",
         'exactly one of "Return"'),
        (config({"R": {"0": {"Throw": "E"}}}), "$.MockedResponses.R['0'].Throw",
         "must be an object"),
        (config({"R": {"0": {"Throw": {"Cause": "c"}}}}),
         "$.MockedResponses.R['0'].Throw.Error", "required: the error name"),
        (config({"R": {"0": {"Throw": {"Error": "E", "Cause": 7}}}}),
         "$.MockedResponses.R['0'].Throw.Cause", "must be a string"),
        (config({"R": {"0": {"Throw": {"Error": "E", "Causes": "c"}}}}),
         "$.MockedResponses.R['0'].Throw.Causes", "unknown field (did you mean 'Cause'?)"),
    ],
)  # fmt: skip
def test_each_problem_names_its_path(data: object, path: str, words: str) -> None:
    found = problems_of(data)
    assert any(p == path and words in rule for p, rule in found), found


def test_every_problem_is_reported_at_once_sorted_by_path() -> None:
    found = problems_of(
        {
            "StateMachines": {"M": {"TestCases": {"T": {"A": "Nope"}}}},
            "MockedResponses": {"R": {"x": OK["0"]}},
            "Extra": 1,
        }
    )
    assert [p for p, _ in found] == [
        "$.Extra",
        "$.MockedResponses.R.x",
        "$.StateMachines.M.TestCases.T.A",
    ]


def test_a_good_file_reads_as_its_responses() -> None:
    parsed = parse_mock_config(
        config(
            {
                "R": {
                    "0": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "slow"}},
                    "1-2": {"Throw": {"Error": "E"}},
                    "3": {"Return": None},
                }
            },
            {"S": "R"},
        )
    )
    case = parsed.require_case("M", "T")
    mocked = case.states["S"]
    assert mocked.at(0) == MockThrow("Lambda.TimeoutException", "slow")
    assert mocked.at(1) == mocked.at(2) == MockThrow("E", None)
    assert mocked.at(3) == MockReturn(None)
    assert mocked.at(4) is None
    assert mocked.invocations == 4


def test_an_unknown_machine_or_test_case_names_the_ones_there() -> None:
    parsed = parse_mock_config(config({"Ok": OK}, {"S": "Ok"}), "mocks.json")
    with pytest.raises(InvalidMockConfigError, match=r"no state machine 'N' here \(it has: M\)"):
        parsed.require_case("N", "T")
    with pytest.raises(InvalidMockConfigError, match=r"no test case 'X' here \(it has: T\)"):
        parsed.require_case("M", "X")
    with pytest.raises(InvalidMockConfigError, match="no state machine has a test case 'X'"):
        mock_setting(parsed, "X")
    with pytest.raises(ConfigurationError, match="mocks need a test case"):
        mock_setting(parsed, None)


NESTED: dict[str, Any] = {
    "StartAt": "P",
    "States": {
        "P": {"Type": "Parallel", "Branches": [
            {"StartAt": "M", "States": {"M": {
                "Type": "Map", "ItemProcessor": {"StartAt": "Inner", "States": {
                    "Inner": {"Type": "Task", "Resource": "x", "End": True}}},
                "End": True}}},
        ], "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    },
}  # fmt: skip


def test_task_states_are_found_in_branches_and_processors() -> None:
    assert task_states(NESTED) == {"P": "Parallel", "M": "Map", "Inner": "Task", "Done": "Pass"}


def test_a_test_case_is_checked_against_the_definition() -> None:
    """A state the definition lacks (a typo would call the real service) or that is no Task
    is an error where the definition is known."""
    parsed = parse_mock_config(config({"Ok": OK}, {"Iner": "Ok", "Done": "Ok", "Inner": "Ok"}))
    found = [(p.path, p.rule) for p in case_problems(parsed.require_case("M", "T"), NESTED)]
    assert found == [
        ("$.StateMachines.M.TestCases.T.Iner",
         "the state machine has no state 'Iner' (did you mean 'Inner'?)"),
        ("$.StateMachines.M.TestCases.T.Done",
         "state 'Done' is a Pass state: only Task states are mocked"),
    ]  # fmt: skip


async def test_run_state_machine_refuses_a_bad_test_case_before_running() -> None:
    definition = {"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True}}}
    with pytest.raises(InvalidMockConfigError, match="only Task states are mocked"):
        await run_state_machine(definition, mocks=config({"Ok": OK}, {"S": "Ok"}), test_case="T")


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"mock configuration .*nope.json: cannot read"):
        load_mock_config(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"StateMachines": ')
    with pytest.raises(InvalidMockConfigError, match=r"broken.json:\n  \$: not valid JSON"):
        load_mock_config(broken)
    text = load_mock_config('{"StateMachines": {}, "MockedResponses": {}}')
    assert text.machines == {} and text.responses == {}
