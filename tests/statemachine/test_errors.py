"""Error handling end to end: Retry, Catch, error names and uncaught failures (ASL spec,
"Errors", "Error Handling", "Retrying after error", "Fallback states"; developer guide, "Handling
errors in Step Functions workflows")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import legato
from legato.engine.clock import SkippingClock
from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single, timer_delays


class ErrorA(Exception):
    pass


class ErrorB(Exception):
    pass


class ErrorC(Exception):
    pass


class Script:
    """A step that raises the listed exceptions in turn, then returns "ok"; counts calls."""

    def __init__(self, *errors: type[Exception]) -> None:
        self.calls = 0

        def step(_: Any) -> str:
            self.calls += 1
            if self.calls <= len(errors):
                raise errors[self.calls - 1](f"failure {self.calls}")
            return "ok"

        self.step = step


def _task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "work", **fields}


@pytest.mark.parametrize(
    ("retrier", "failures", "delays", "status"),
    [
        # ASL spec, "Retrying after error": the example retrier (IntervalSeconds 3,
        # MaxAttempts 2, BackoffRate 1.5) waits 3 s then 4.5 s.
        ({"IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5}, 2, [3, 4.5], "COMPLETED"),
        # ... and gives up after MaxAttempts retries.
        ({"IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5}, 3, [3, 4.5], "FAILED"),
        # ASL spec: defaults IntervalSeconds 1, MaxAttempts 3, BackoffRate 2.0.
        ({}, 3, [1, 2, 4], "COMPLETED"),
        ({}, 4, [1, 2, 4], "FAILED"),
        # ASL spec: "A MaxAttempts field value of 0 is legal, specifying that the error or
        # errors should never be retried."
        ({"MaxAttempts": 0}, 1, [], "FAILED"),
        # ASL spec: BackoffRate 1 keeps the interval constant.
        ({"IntervalSeconds": 2, "BackoffRate": 1, "MaxAttempts": 3}, 3, [2, 2, 2], "COMPLETED"),
        # Developer guide, "Retrying after an error": MaxDelaySeconds caps the interval
        # (2, 4, 8, 16 capped at 5).
        (
            {"IntervalSeconds": 2, "MaxAttempts": 4, "MaxDelaySeconds": 5},
            4,
            [2, 4, 5, 5],
            "COMPLETED",
        ),
    ],
)
async def test_retry_intervals(
    retrier: dict[str, Any], failures: int, delays: list[float], status: str
) -> None:
    script = Script(*[ErrorA] * failures)
    state = _task(Retry=[{"ErrorEquals": ["States.ALL"], **retrier}])
    r = await run_state_machine(single(state), {}, steps={"work": script.step})
    assert r.status == status, (r.error, r.cause)
    assert timer_delays(r.history) == delays
    assert script.calls == min(failures, len(delays)) + 1
    if status == "FAILED":
        assert r.error == "ErrorA"


async def test_full_jitter_draws_below_the_backoff() -> None:
    # Developer guide, "Retrying after an error": JitterStrategy FULL randomizes each
    # interval between 0 and the computed backoff (1, 2, 4, 8).
    script = Script(*[ErrorA] * 4)
    state = _task(
        Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 4, "JitterStrategy": "FULL"}]
    )
    r = await run_state_machine(single(state), {}, steps={"work": script.step})
    assert r.status == "COMPLETED"
    delays = timer_delays(r.history)
    assert len(delays) == 4
    for delay, cap in zip(delays, [1, 2, 4, 8], strict=True):
        assert 0 <= delay <= cap


async def test_each_retrier_counts_its_own_attempts() -> None:
    # Developer guide, "Retrying after an error", "Complex retry scenarios": with retriers
    # [ErrorA, ErrorB: Interval 1, Backoff 2, MaxAttempts 2] and [ErrorC: Interval 5], the
    # errors ErrorA, ErrorB, ErrorC, ErrorB wait 1 s, 2 s and 5 s; the fourth error finds the
    # first retrier spent and goes to the Catch.
    script = Script(ErrorA, ErrorB, ErrorC, ErrorB)
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(
                Retry=[
                    {
                        "ErrorEquals": ["ErrorA", "ErrorB"],
                        "IntervalSeconds": 1,
                        "BackoffRate": 2.0,
                        "MaxAttempts": 2,
                    },
                    {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5},
                ],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "MyFailureState"}],
                End=True,
            ),
            "MyFailureState": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, {}, steps={"work": script.step})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert timer_delays(r.history) == [1, 2, 5]
    assert script.calls == 4
    assert r.states_entered() == ["T", "MyFailureState"]
    assert r.output == {"Error": "ErrorB", "Cause": "failure 4"}


async def test_first_matching_retrier_applies() -> None:
    # ASL spec, "Retrying after error": retriers are scanned in order; the first whose
    # ErrorEquals matches applies.
    script = Script(ErrorA)
    state = _task(
        Retry=[
            {"ErrorEquals": ["ErrorA"], "IntervalSeconds": 7},
            {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1},
        ]
    )
    r = await run_state_machine(single(state), {}, steps={"work": script.step})
    assert timer_delays(r.history) == [7]


async def test_unmatched_error_is_not_retried() -> None:
    # ASL spec, "Retrying after error": an error no retrier names is not retried.
    script = Script(ErrorB)
    state = _task(Retry=[{"ErrorEquals": ["ErrorA"]}])
    r = await run_state_machine(single(state), {}, steps={"work": script.step})
    assert (r.status, r.error, r.cause) == ("FAILED", "ErrorB", "failure 1")
    assert script.calls == 1


@pytest.mark.parametrize(
    ("catcher", "given", "expected"),
    [
        # ASL spec, "Fallback states": without ResultPath the output is the error output.
        ({}, {"in": 1}, {"Error": "ErrorA", "Cause": "failure 1"}),
        # ASL spec, "Fallback states": ResultPath injects the error output into the input
        # (developer guide, "Handling errors": "ResultPath": "$.error-info").
        (
            {"ResultPath": "$.error-info"},
            {"in": 1},
            {"in": 1, "error-info": {"Error": "ErrorA", "Cause": "failure 1"}},
        ),
        # ResultPath null keeps the original input.
        ({"ResultPath": None}, {"in": 1}, {"in": 1}),
    ],
)
async def test_catch_result_path(catcher: dict[str, Any], given: Any, expected: Any) -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(
                Catch=[{"ErrorEquals": ["ErrorA"], "Next": "Recovery", **catcher}], End=True
            ),
            "Recovery": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, given, steps={"work": Script(ErrorA).step})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == expected


async def test_catch_spec_example() -> None:
    # ASL spec, "Fallback states": the example Catch with "java.lang.Exception" first and
    # States.ALL last; an error the first does not name goes to the second.
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(
                Catch=[
                    {
                        "ErrorEquals": ["java.lang.Exception"],
                        "ResultPath": "$.error-info",
                        "Next": "RecoveryState",
                    },
                    {"ErrorEquals": ["States.ALL"], "Next": "EndMachine"},
                ],
                End=True,
            ),
            "RecoveryState": {"Type": "Pass", "End": True},
            "EndMachine": {"Type": "Pass", "Result": "ended", "End": True},
        },
    }
    r = await run_state_machine(definition, {}, steps={"work": Script(ErrorC).step})
    assert r.states_entered() == ["T", "EndMachine"]
    assert r.output == "ended"


async def test_catch_assign_jsonpath() -> None:
    # Developer guide, "Passing data between states with variables": a Catcher's Assign is
    # evaluated with $ the error output.
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(
                Catch=[
                    {"ErrorEquals": ["States.ALL"], "Assign": {"why.$": "$.Cause"}, "Next": "R"}
                ],
                End=True,
            ),
            "R": {"Type": "Pass", "Parameters": {"why.$": "$why"}, "End": True},
        },
    }
    r = await run_state_machine(definition, {}, steps={"work": Script(ErrorA).step})
    assert r.output == {"why": "failure 1"}


async def test_retry_then_catch() -> None:
    # ASL spec, "Error Handling": once the retriers are spent, the catchers apply.
    script = Script(ErrorA, ErrorA, ErrorA)
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(
                Retry=[{"ErrorEquals": ["ErrorA"], "MaxAttempts": 2}],
                Catch=[{"ErrorEquals": ["ErrorA"], "Next": "R"}],
                End=True,
            ),
            "R": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, {}, steps={"work": script.step})
    assert script.calls == 3
    assert r.output == {"Error": "ErrorA", "Cause": "failure 3"}


async def test_uncaught_error_fails_the_execution() -> None:
    # ASL spec, "Errors": an error that is not caught fails the execution with that error
    # name and cause; the step's exception class name is the error name.
    definition = chain(("T", _task()), ("After", {"Type": "Pass"}))
    r = await run_state_machine(definition, {}, steps={"work": Script(ErrorA).step})
    assert (r.status, r.error, r.cause) == ("FAILED", "ErrorA", "failure 1")
    assert r.states_entered() == ["T"]


class Timed:
    """Steps that move the test environment's clock themselves (``app.clock`` is its
    time-skipping clock while ``run_state_machine`` runs), so a timeout fires when the step
    says, not after a real second, and a busy machine changes nothing."""

    def __init__(self) -> None:
        self.app = legato.App()
        advance = self.advance

        async def sleeper(_: Any) -> str:
            advance(1)  # past its 1 s TimeoutSeconds
            await asyncio.Event().wait()  # never set: runs until its timeout cancels it
            return "late"

        async def rare_heartbeats(_: Any) -> str:
            legato.heartbeat()
            advance(1)  # past its 1 s HeartbeatSeconds, with no heartbeat since
            await asyncio.Event().wait()  # never set: no more heartbeats until the timeout
            return "never"

        async def steady_heartbeats(_: Any) -> str:
            # 1.6 s of engine time, past its 1 s HeartbeatSeconds: a heartbeat every 0.4 s,
            # and the engine looks at the time after each move (its timers fire mid-run)
            for _i in range(4):
                legato.heartbeat()
                advance(0.4)
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            return "done"

        self.sleeper, self.rare_heartbeats = sleeper, rare_heartbeats
        self.steady_heartbeats = steady_heartbeats

    def advance(self, seconds: float) -> None:
        clock = self.app.clock
        assert isinstance(clock, SkippingClock)
        clock.advance(seconds)


@pytest.mark.parametrize(
    ("fields", "given"),
    [
        # ASL spec, "Task State": "If the task runs longer than the specified seconds, then
        # this state fails with a States.Timeout Error Name".
        ({"TimeoutSeconds": 1}, {}),
        # ASL spec, "Task State": TimeoutSecondsPath reads the timeout from the input.
        ({"TimeoutSecondsPath": "$.limit"}, {"limit": 1}),
    ],
)
async def test_task_timeout(fields: dict[str, Any], given: Any) -> None:
    t = Timed()
    r = await run_state_machine(
        single(_task(**fields)), given, steps={"work": t.sleeper}, app=t.app
    )
    assert (r.status, r.error) == ("FAILED", "States.Timeout")


async def test_task_failed_does_not_match_timeout() -> None:
    # ASL spec, "Errors": States.TaskFailed "matches any known error name except for
    # States.Timeout"; States.ALL matches it.
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(
                TimeoutSeconds=1,
                Catch=[
                    {"ErrorEquals": ["States.TaskFailed"], "Next": "ByTaskFailed"},
                    {"ErrorEquals": ["States.ALL"], "Next": "ByAll"},
                ],
                End=True,
            ),
            "ByTaskFailed": {"Type": "Pass", "End": True},
            "ByAll": {"Type": "Pass", "End": True},
        },
    }
    t = Timed()
    r = await run_state_machine(definition, {}, steps={"work": t.sleeper}, app=t.app)
    assert r.states_entered() == ["T", "ByAll"]
    assert r.output["Error"] == "States.Timeout"


async def test_task_failed_matches_step_errors() -> None:
    # ASL spec, "Errors": States.TaskFailed matches a task's own errors.
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "R"}], End=True),
            "R": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, {}, steps={"work": Script(ErrorA).step})
    assert r.output == {"Error": "ErrorA", "Cause": "failure 1"}


async def test_heartbeat_timeout() -> None:
    # ASL spec, "Task State": HeartbeatSeconds; developer guide, "Error names":
    # States.HeartbeatTimeout, "a Task state failed to send a heartbeat for a period longer
    # than the HeartbeatSeconds value".
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(
                HeartbeatSeconds=1,
                Catch=[{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "R"}],
                End=True,
            ),
            "R": {"Type": "Pass", "End": True},
        },
    }
    t = Timed()
    r = await run_state_machine(definition, {}, steps={"work": t.rare_heartbeats}, app=t.app)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Error"] == "States.HeartbeatTimeout"


async def test_heartbeats_keep_a_long_task_alive() -> None:
    # ASL spec, "Task State": a task that heartbeats more often than HeartbeatSeconds runs on.
    t = Timed()
    r = await run_state_machine(
        single(_task(HeartbeatSeconds=1)), {}, steps={"work": t.steady_heartbeats}, app=t.app
    )
    assert (r.status, r.output) == ("COMPLETED", "done")


async def test_no_choice_matched() -> None:
    # ASL spec, "Choice State": with no match and no Default the state fails with
    # States.NoChoiceMatched.
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "E"}],
            },
            "E": {"Type": "Succeed"},
        },
    }
    r = await run_state_machine(definition, {"n": 2})
    assert (r.status, r.error) == ("FAILED", "States.NoChoiceMatched")


async def test_runtime_error_is_not_caught_by_states_all() -> None:
    # ASL spec, "Errors": States.Runtime (e.g. an InputPath that selects nothing) "is not
    # retriable, and will always cause the execution to fail. A retry or catch on States.ALL
    # will NOT catch States.Runtime errors."
    script = Script()
    definition = {
        "StartAt": "T",
        "States": {
            "T": _task(
                InputPath="$.missing",
                Retry=[{"ErrorEquals": ["States.ALL"]}],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "R"}],
                End=True,
            ),
            "R": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, {"present": 1}, steps={"work": script.step})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")
    assert r.states_entered() == ["T"]
    assert timer_delays(r.history) == []
    assert script.calls == 0


@pytest.mark.parametrize(
    ("expression", "given"),
    [
        # Developer guide, "Intrinsic functions": States.ArrayRange gives at most 1000 items.
        ("States.ArrayRange(1, 2000, 1)", {}),
        # ... States.StringToJson of text that is not JSON.
        ("States.StringToJson($.s)", {"s": "{not json"}),
        # ... States.ArrayGetItem past the end of the array.
        ("States.ArrayGetItem($.a, 5)", {"a": [1, 2]}),
    ],
)
async def test_intrinsic_failure(expression: str, given: Any) -> None:
    # Developer guide, "Error names": States.IntrinsicFailure, an intrinsic function failed;
    # States.ALL catches it.
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Task",
                "Resource": "work",
                "Parameters": {"v.$": expression},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "R"}],
                "End": True,
            },
            "R": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, given, steps={"work": Script().step})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Error"] == "States.IntrinsicFailure"
    r = await run_state_machine(single({"Type": "Pass", "Parameters": {"v.$": expression}}), given)
    assert (r.status, r.error) == ("FAILED", "States.IntrinsicFailure")


async def test_query_evaluation_error_is_catchable() -> None:
    # Developer guide, "Handling expression errors": a JSONata expression that fails raises
    # States.QueryEvaluationError, which Catch can handle.
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "work",
                "Arguments": {"x": "{% $number('abc') + 1 %}"},
                "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "R"}],
                "End": True,
            },
            "R": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, {}, steps={"work": Script().step})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Error"] == "States.QueryEvaluationError"


async def test_exceed_tolerated_failure_threshold_is_catchable() -> None:
    # Developer guide, "Error names": States.ExceedToleratedFailureThreshold, "a Map state
    # failed because the number of failed items exceeded the threshold".
    processor = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "work", "End": True}}}
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": processor,
                "ToleratedFailureCount": 0,
                "Catch": [{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "R"}],
                "End": True,
            },
            "R": {"Type": "Pass", "End": True},
        },
    }

    def odd(x: int) -> int:
        if x % 2:
            raise ErrorA("odd")
        return x

    r = await run_state_machine(definition, [2, 3], steps={"work": odd})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["Error"] == "States.ExceedToleratedFailureThreshold"


@pytest.mark.parametrize(
    ("fail", "error", "cause"),
    [
        # ASL spec, "Fail State": Error and Cause.
        ({"Error": "ErrorA", "Cause": "Kaiju attack"}, "ErrorA", "Kaiju attack"),
        # Developer guide, "Fail workflow state": ErrorPath and CausePath.
        ({"ErrorPath": "$.e", "CausePath": "$.c"}, "FromInput", "because"),
    ],
)
async def test_fail_state_error_is_caught_by_an_enclosing_parallel(
    fail: dict[str, Any], error: str, cause: str
) -> None:
    # ASL spec, "Fail State" and "Parallel State": a Fail state in a branch fails the
    # Parallel state with its Error and Cause, which the Parallel state's Catch receives.
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", **fail}}}],
                "Catch": [{"ErrorEquals": [error], "Next": "R"}],
                "End": True,
            },
            "R": {"Type": "Pass", "End": True},
        },
    }
    r = await run_state_machine(definition, {"e": "FromInput", "c": "because"})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"Error": error, "Cause": cause}


@pytest.mark.parametrize(
    ("wait", "status", "error"),
    [
        # ASL spec, "Top-level fields": "If the machine runs longer than the specified time,
        # then the interpreter fails the machine with a States.Timeout Error Name."
        (3600, "TIMED_OUT", "States.Timeout"),  # Step Functions: TIMED_OUT
        # ... and a machine that ends in time is unaffected.
        (10, "COMPLETED", None),
    ],
)
async def test_execution_timeout_seconds(wait: int, status: str, error: str | None) -> None:
    definition = chain(
        ("W", {"Type": "Wait", "Seconds": wait}),
        ("After", {"Type": "Pass", "Result": "done"}),
        TimeoutSeconds=60,
    )
    r = await run_state_machine(definition, {})
    assert (r.status, r.error) == (status, error)
    if status == "COMPLETED":
        assert r.output == "done"
    else:
        assert r.states_entered() == ["W"]


async def test_retry_counters_start_afresh_when_the_state_is_entered_again() -> None:
    # Developer guide, "Retrying after an error": retrier parameters "apply across all visits
    # to the retrier in the context of a single state's execution"; a new entry of the state
    # is a new execution of it. Here each of two entries fails once and MaxAttempts 1 is enough.
    calls: list[int] = []

    def once_per_entry(event: dict[str, int]) -> int:
        calls.append(event["round"])
        if calls.count(event["round"]) == 1:
            raise ErrorA("first try of this round")
        return event["round"] + 1

    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "work",
                "Parameters": {"round.$": "$.round"},
                "ResultPath": "$.round",
                "Retry": [{"ErrorEquals": ["ErrorA"], "MaxAttempts": 1}],
                "Next": "Again",
            },
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.round", "NumericLessThan": 2, "Next": "T"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    r = await run_state_machine(definition, {"round": 0}, steps={"work": once_per_entry})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"round": 2}
    assert calls == [0, 0, 1, 1]
