"""Validation of ASL definitions (legato.core.asl.validate): every problem with its JSON path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from legato.core.asl.validate import Problem, check, count_states, validate
from legato.errors import InvalidDefinitionError

Def = dict[str, Any]


def machine(states: Def, start: str = "A", **top: Any) -> Def:
    return {"StartAt": start, "States": states, **top}


def one(state: Def, **top: Any) -> Def:
    return machine({"A": state}, **top)


def task(**fields: Any) -> Def:
    return {"Type": "Task", "Resource": "charge", "End": True, **fields}


def jsonata(state: Def) -> Def:
    return {"QueryLanguage": "JSONata", **state}


def choice(*rules: Any, **fields: Any) -> Def:
    return machine(
        {"A": {"Type": "Choice", "Choices": list(rules), **fields}, "B": {"Type": "Succeed"}}
    )


def rule(**fields: Any) -> Def:
    return {"Variable": "$.x", "Next": "B", **fields}


def wait(**fields: Any) -> Def:
    return one({"Type": "Wait", "End": True, **fields})


def fail(**fields: Any) -> Def:
    return one({"Type": "Fail", **fields})


def parallel(*branches: Any, **fields: Any) -> Def:
    return one({"Type": "Parallel", "End": True, "Branches": list(branches), **fields})


def branch(name: str = "B1", **state: Any) -> Def:
    return {"StartAt": name, "States": {name: {"Type": "Pass", "End": True, **state}}}


def map_state(**fields: Any) -> Def:
    state: Def = {"Type": "Map", "End": True, "ItemProcessor": branch("M"), **fields}
    return one({k: v for k, v in state.items() if v is not None})


def retry(*retriers: Any) -> Def:
    return one(task(Retry=list(retriers)))


def catch(*catchers: Any, language: str = "JSONPath") -> Def:
    state = task(Catch=list(catchers), QueryLanguage=language)
    return machine({"A": state, "B": {"Type": "Succeed"}})


LONG = "N" * 81

INVALID: list[tuple[str, object, str, str]] = [
    # ASL spec "Top-level fields"; guide "State machine structure".
    ("not-object", [], "$", "must be a JSON object"),
    ("no-startat", {"States": {"A": {"Type": "Succeed"}}}, "$.StartAt", "StartAt is required"),
    ("bad-startat", machine({"B": {"Type": "Succeed"}}), "$.StartAt", "does not name a state"),
    ("startat-type", machine({"A": {"Type": "Succeed"}}, start=1), "$.StartAt", "state name"),  # type: ignore[arg-type]
    ("no-states", {"StartAt": "A"}, "$.States", "States is required"),
    ("empty-states", machine({}), "$.States", "non-empty"),
    ("top-unknown", one({"Type": "Succeed"}, Foo=1), "$.Foo", "field Foo is not allowed"),
    ("top-timeout-0", one({"Type": "Succeed"}, TimeoutSeconds=0), "$.TimeoutSeconds", "between 1"),
    (
        "top-timeout-str",
        one({"Type": "Succeed"}, TimeoutSeconds="5"),
        "$.TimeoutSeconds",
        "integer",
    ),
    ("version", one({"Type": "Succeed"}, Version=1), "$.Version", "must be a string"),
    ("ql", one({"Type": "Succeed"}, QueryLanguage="XPath"), "$.QueryLanguage", "JSONPath or"),
    # ASL spec "States": names, Type, fields.
    ("long-name", machine({LONG: {"Type": "Succeed"}}, start=LONG), f"$.States.{LONG}", "1 to 80"),
    ("no-type", one({"End": True}), "$.States.A.Type", "Type is required"),
    ("bad-type", one({"Type": "Lambda", "End": True}), "$.States.A.Type", "Type must be one of"),
    ("state-not-object", one([]), "$.States.A", "must be a JSON object"),  # type: ignore[arg-type]
    ("unknown-field", one(task(Foo=1)), "$.States.A.Foo", "field Foo is not allowed in a Task"),
    ("comment", one(task(Comment=3)), "$.States.A.Comment", "must be a string"),
    (
        "quoted-name",
        machine({"Do it": {"Type": "Pass"}}, start="Do it"),
        "$.States['Do it']",
        "exactly one of Next, End",
    ),
    (
        "duplicate-name",
        one({"Type": "Parallel", "End": True, "Branches": [branch("A")]}),
        "$.States.A.Branches[0].States.A",
        "already used at $.States.A",
    ),
    # ASL spec "Transitions"; "Terminal States".
    ("no-next-no-end", one({"Type": "Pass"}), "$.States.A", "exactly one of Next, End"),
    ("next-and-end", one(task(Next="A")), "$.States.A.End", "mutually exclusive"),
    ("end-false", one({"Type": "Pass", "End": False}), "$.States.A.End", "End must be true"),
    ("next-type", one({"Type": "Pass", "Next": 3}), "$.States.A.Next", "must be a state name"),
    ("next-unknown", one({"Type": "Pass", "Next": "Z"}), "$.States.A.Next", "'Z' is not a state"),
    (
        "unreachable",
        machine({"A": task(), "B": task()}),
        "$.States.B",
        "'B' is unreachable from StartAt",
    ),
    ("succeed-next", one({"Type": "Succeed", "Next": "A"}), "$.States.A.Next", "terminal"),
    ("fail-end", one({"Type": "Fail", "End": True}), "$.States.A.End", "terminal"),
    (
        "choice-end",
        one({"Type": "Choice", "Choices": [rule(IsNull=True, Next="A")], "End": True}),
        "$.States.A.End",
        "cannot end the execution",
    ),
    (
        "next-into-branch",
        machine(
            {
                "A": {"Type": "Pass", "Next": "B1"},
                "P": {"Type": "Parallel", "End": True, "Branches": [branch()]},
            }
        ),
        "$.States.A.Next",
        "'B1' is not a state of the state machine",
    ),
    (
        "branch-end-null",
        machine(
            {
                "A": {"Type": "Parallel", "Next": "Z", "Branches": [branch("B1", End=None)]},
                "Z": {"Type": "Succeed"},
            }
        ),
        "$.States.A.Branches[0].States.B1.End",
        "End must be true",
    ),
    (
        "next-leaves-branch",
        machine(
            {
                "A": {
                    "Type": "Parallel",
                    "Next": "Z",
                    "Branches": [
                        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Next": "Z"}}}
                    ],
                },
                "Z": {"Type": "Succeed"},
            }
        ),
        "$.States.A.Branches[0].States.B1.Next",
        "not a state of this Parallel branch",
    ),
    # ASL spec "Paths", "Reference Paths", "Payload Template"; guide "Intrinsic functions".
    ("inputpath", one(task(InputPath="foo")), "$.States.A.InputPath", "must be a Path"),
    ("outputpath", one(task(OutputPath=5)), "$.States.A.OutputPath", "must be a Path"),
    ("resultpath-ref", one(task(ResultPath="$.a[*]")), "$.States.A.ResultPath", "Reference Path"),
    (
        "param-path",
        one(task(Parameters={"x.$": "nope"})),
        "$.States.A.Parameters['x.$']",
        "must be a Path or an intrinsic function",
    ),
    (
        "param-nested",
        one(task(Parameters={"a": [{"b.$": 3}]})),
        "$.States.A.Parameters.a[0]['b.$']",
        "must be a string",
    ),
    (
        "param-intrinsic",
        one(task(Parameters={"x.$": "States.Nope(1)"})),
        "$.States.A.Parameters['x.$']",
        "States.Nope",
    ),
    (
        "param-intrinsic-syntax",
        one(task(Parameters={"x.$": "States.Format('{}', $.a"})),
        "$.States.A.Parameters['x.$']",
        "invalid intrinsic function",
    ),
    ("param-type", one(task(Parameters="x")), "$.States.A.Parameters", "must be a JSON object"),
    (
        "selector-collide",
        one(task(ResultSelector={"a": 1, "a.$": "$.b"})),
        "$.States.A.ResultSelector['a.$']",
        "collide",
    ),
    (
        "assign-name",
        one(task(Assign={"1x": 1})),
        "$.States.A.Assign['1x']",
        "not a valid variable name",
    ),
    (
        "assign-path",
        one(task(Assign={"v.$": "bad"})),
        "$.States.A.Assign['v.$']",
        "must be a Path or an intrinsic function",
    ),
    ("assign-type", one(task(Assign=[1])), "$.States.A.Assign", "JSON object of variable names"),
    # Guide "Task workflow state"; Legato resources (legato.core.asl.resources).
    ("no-resource", one({"Type": "Task", "End": True}), "$.States.A.Resource", "is required"),
    ("resource-type", one(task(Resource=5)), "$.States.A.Resource", "must be a string"),
    (
        "sqs-no-action",
        one(task(Resource="arn:aws:states:::sqs")),
        "$.States.A.Resource",
        "Amazon SQS service integration",
    ),
    (  # developer guide, "Integrating optimized services": SQS has no .sync
        "sqs-sync",
        one(task(Resource="arn:aws:states:::sqs:sendMessage.sync")),
        "$.States.A.Resource",
        "does not support the .sync integration pattern",
    ),
    (
        "dynamodb-bad-pattern",
        one(task(Resource="arn:aws:states:::dynamodb:putItem.sync:9")),
        "$.States.A.Resource",
        "Amazon DynamoDB service integration",
    ),
    # Guide "Learning to use AWS service SDK integrations": request-response or a task token.
    (
        "aws-sdk-sync",
        one(task(Resource="arn:aws:states:::aws-sdk:ecs:runTask.sync")),
        "$.States.A.Resource",
        "aws-sdk integrations support request-response and .waitForTaskToken only",
    ),
    (  # ... and DynamoDB's optimized actions are getItem, putItem, updateItem, deleteItem
        "dynamodb-query",
        one(task(Resource="arn:aws:states:::dynamodb:query")),
        "$.States.A.Resource",
        "arn:aws:states:::aws-sdk:dynamodb:query",
    ),
    (
        "lambda-invoke-no-function",
        one(task(Resource="arn:aws:states:::lambda:invoke", Parameters={"Payload.$": "$"})),
        "$.States.A.Parameters",
        "needs FunctionName in Parameters",
    ),
    (
        "lambda-invoke-no-arguments",
        one(jsonata(task(Resource="arn:aws:states:::lambda:invoke"))),
        "$.States.A.Arguments",
        "needs FunctionName in Arguments",
    ),
    (
        "start-execution-no-arn",
        one(task(Resource="arn:aws:states:::states:startExecution.sync")),
        "$.States.A.Parameters",
        "StateMachineArn",
    ),
    ("timeout-0", one(task(TimeoutSeconds=0)), "$.States.A.TimeoutSeconds", "between 1"),
    ("timeout-bool", one(task(TimeoutSeconds=True)), "$.States.A.TimeoutSeconds", "integer"),
    (
        "timeout-both",
        one(task(TimeoutSeconds=5, TimeoutSecondsPath="$.t")),
        "$.States.A.TimeoutSecondsPath",
        "mutually exclusive",
    ),
    (
        "heartbeat-both",
        one(task(HeartbeatSeconds=5, HeartbeatSecondsPath="$.t")),
        "$.States.A.HeartbeatSecondsPath",
        "mutually exclusive",
    ),
    (
        "heartbeat-not-less",
        one(task(TimeoutSeconds=10, HeartbeatSeconds=10)),
        "$.States.A.HeartbeatSeconds",
        "less than TimeoutSeconds",
    ),
    (
        "timeout-path-ref",
        one(task(TimeoutSecondsPath="$..t")),
        "$.States.A.TimeoutSecondsPath",
        "Reference Path",
    ),
    ("credentials", one(task(Credentials="x")), "$.States.A.Credentials", "JSON object"),
    # ASL spec "Retrying after error"; guide "Handling errors" (Retry fields).
    ("retry-type", one(task(Retry={})), "$.States.A.Retry", "array of retriers"),
    ("retrier-type", retry(3), "$.States.A.Retry[0]", "must be a JSON object"),
    ("retry-no-errors", retry({}), "$.States.A.Retry[0].ErrorEquals", "is required"),
    ("retry-empty", retry({"ErrorEquals": []}), "$.States.A.Retry[0].ErrorEquals", "non-empty"),
    ("retry-name", retry({"ErrorEquals": [""]}), "$.States.A.Retry[0].ErrorEquals[0]", "non-empty"),
    (
        "retry-all-alone",
        retry({"ErrorEquals": ["States.ALL", "X"]}),
        "$.States.A.Retry[0].ErrorEquals",
        "must appear alone",
    ),
    (
        "retry-all-last",
        retry({"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}),
        "$.States.A.Retry[0].ErrorEquals",
        "last retrier",
    ),
    (
        "interval-0",
        retry({"ErrorEquals": ["X"], "IntervalSeconds": 0}),
        "$.States.A.Retry[0].IntervalSeconds",
        "between 1",
    ),
    (
        "interval-float",
        retry({"ErrorEquals": ["X"], "IntervalSeconds": 1.5}),
        "$.States.A.Retry[0].IntervalSeconds",
        "must be an integer",
    ),
    (
        "attempts-negative",
        retry({"ErrorEquals": ["X"], "MaxAttempts": -1}),
        "$.States.A.Retry[0].MaxAttempts",
        "between 0",
    ),
    (
        "backoff-low",
        retry({"ErrorEquals": ["X"], "BackoffRate": 0.5}),
        "$.States.A.Retry[0].BackoffRate",
        ">= 1.0",
    ),
    (
        "backoff-type",
        retry({"ErrorEquals": ["X"], "BackoffRate": "2"}),
        "$.States.A.Retry[0].BackoffRate",
        ">= 1.0",
    ),
    (
        "max-delay-0",
        retry({"ErrorEquals": ["X"], "MaxDelaySeconds": 0}),
        "$.States.A.Retry[0].MaxDelaySeconds",
        "between 1",
    ),
    (
        "jitter",
        retry({"ErrorEquals": ["X"], "JitterStrategy": "HALF"}),
        "$.States.A.Retry[0].JitterStrategy",
        "FULL or NONE",
    ),
    (
        "retrier-unknown",
        retry({"ErrorEquals": ["X"], "Foo": 1}),
        "$.States.A.Retry[0].Foo",
        "not allowed in a retrier",
    ),
    (
        "retry-on-pass",
        one({"Type": "Pass", "End": True, "Retry": []}),
        "$.States.A.Retry",
        "not allowed in a Pass state",
    ),
    # ASL spec "Fallback states" (Catch).
    ("catch-type", one(task(Catch="x")), "$.States.A.Catch", "array of catchers"),
    ("catch-no-next", catch({"ErrorEquals": ["X"]}), "$.States.A.Catch[0].Next", "is required"),
    (
        "catch-no-errors",
        catch({"Next": "B"}),
        "$.States.A.Catch[0].ErrorEquals",
        "is required",
    ),
    (
        "catch-all-last",
        catch({"ErrorEquals": ["States.ALL"], "Next": "B"}, {"ErrorEquals": ["X"], "Next": "B"}),
        "$.States.A.Catch[0].ErrorEquals",
        "last catcher",
    ),
    (
        "catch-next-unknown",
        catch({"ErrorEquals": ["X"], "Next": "Z"}),
        "$.States.A.Catch[0].Next",
        "'Z' is not a state",
    ),
    (
        "catch-resultpath",
        catch({"ErrorEquals": ["X"], "Next": "B", "ResultPath": "$.a[0:1]"}),
        "$.States.A.Catch[0].ResultPath",
        "Reference Path",
    ),
    (
        "catch-output-jsonpath",
        catch({"ErrorEquals": ["X"], "Next": "B", "Output": {}}),
        "$.States.A.Catch[0].Output",
        "only allowed in JSONata",
    ),
    (
        "catch-resultpath-jsonata",
        catch({"ErrorEquals": ["X"], "Next": "B", "ResultPath": "$.e"}, language="JSONata"),
        "$.States.A.Catch[0].ResultPath",
        "not allowed in JSONata",
    ),
    (
        "catch-unknown",
        catch({"ErrorEquals": ["X"], "Next": "B", "Retry": 1}),
        "$.States.A.Catch[0].Retry",
        "not allowed in a catcher",
    ),
    # ASL spec "Choice State": Choice Rules, Boolean expressions, data-test expressions.
    ("no-choices", one({"Type": "Choice"}), "$.States.A.Choices", "Choices is required"),
    ("empty-choices", choice(), "$.States.A.Choices", "non-empty"),
    ("rule-type", choice("x"), "$.States.A.Choices[0]", "must be a JSON object"),
    (
        "rule-no-next",
        choice({"Variable": "$.x", "IsNull": True}),
        "$.States.A.Choices[0].Next",
        "required",
    ),
    ("rule-no-op", choice(rule()), "$.States.A.Choices[0]", "needs one comparison operator"),
    (
        "rule-two-ops",
        choice(rule(NumericEquals=1, StringEquals="a")),
        "$.States.A.Choices[0]",
        "exactly one operator",
    ),
    (
        "rule-no-variable",
        choice({"NumericEquals": 1, "Next": "B"}),
        "$.States.A.Choices[0].Variable",
        "Variable is required",
    ),
    (
        "rule-variable-ref",
        choice(rule(Variable="$.a[*]", IsNull=True)),
        "$.States.A.Choices[0].Variable",
        "Reference Path",
    ),
    (
        "numeric",
        choice(rule(NumericEquals="1")),
        "$.States.A.Choices[0].NumericEquals",
        "must be a number",
    ),
    ("string", choice(rule(StringEquals=1)), "$.States.A.Choices[0].StringEquals", "string"),
    (
        "string-matches",
        choice(rule(StringMatches=None)),
        "$.States.A.Choices[0].StringMatches",
        "string",
    ),
    (
        "boolean",
        choice(rule(BooleanEquals="true")),
        "$.States.A.Choices[0].BooleanEquals",
        "true or false",
    ),
    (
        "timestamp",
        choice(rule(TimestampLessThan="yesterday")),
        "$.States.A.Choices[0].TimestampLessThan",
        "RFC 3339",
    ),
    (
        "path-operand",
        choice(rule(StringEqualsPath="foo")),
        "$.States.A.Choices[0].StringEqualsPath",
        "Reference Path",
    ),
    (
        "numeric-path-operand",
        choice(rule(NumericGreaterThanEqualsPath="$.a[*]")),
        "$.States.A.Choices[0].NumericGreaterThanEqualsPath",
        "Reference Path",
    ),
    ("is-null", choice(rule(IsNull="yes")), "$.States.A.Choices[0].IsNull", "true or false"),
    ("and-empty", choice({"And": [], "Next": "B"}), "$.States.A.Choices[0].And", "non-empty"),
    ("not-array", choice({"Not": [], "Next": "B"}), "$.States.A.Choices[0].Not", "one choice rule"),
    (
        "and-inner",
        choice({"And": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.b"}], "Next": "B"}),
        "$.States.A.Choices[0].And[1]",
        "needs one comparison operator",
    ),
    (
        "nested-next",
        choice({"Not": {"Variable": "$.a", "IsNull": True, "Next": "B"}, "Next": "B"}),
        "$.States.A.Choices[0].Not.Next",
        "only allowed in a top-level choice rule",
    ),
    (
        "variable-with-and",
        choice({"Variable": "$.a", "Or": [{"Variable": "$.a", "IsNull": True}], "Next": "B"}),
        "$.States.A.Choices[0].Variable",
        "not allowed with Or",
    ),
    (
        "unknown-operator",
        choice(rule(NumericEqualz=1)),
        "$.States.A.Choices[0].NumericEqualz",
        "not allowed in a choice rule",
    ),
    (
        "default-unknown",
        choice(rule(IsNull=True), Default="Z"),
        "$.States.A.Default",
        "'Z' is not a state",
    ),
    (
        "condition-jsonpath",
        choice({"Condition": "{% true %}", "Next": "B"}),
        "$.States.A.Choices[0].Condition",
        "only allowed in JSONata",
    ),
    # Guide "Choice workflow state", Choice Rules (JSONata).
    (
        "jsonata-variable",
        choice(
            {"Condition": "{% true %}", "Variable": "$.x", "Next": "B"}, QueryLanguage="JSONata"
        ),
        "$.States.A.Choices[0].Variable",
        "use Condition",
    ),
    (
        "jsonata-no-condition",
        choice({"Next": "B"}, QueryLanguage="JSONata"),
        "$.States.A.Choices[0].Condition",
        "Condition is required",
    ),
    (
        "jsonata-condition-literal",
        choice({"Condition": "$x > 1", "Next": "B"}, QueryLanguage="JSONata"),
        "$.States.A.Choices[0].Condition",
        "must be a JSONata expression",
    ),
    (
        "jsonata-condition-syntax",
        choice({"Condition": "{% $x > %}", "Next": "B"}, QueryLanguage="JSONata"),
        "$.States.A.Choices[0].Condition",
        "does not compile",
    ),
    # ASL spec "Wait State".
    ("wait-none", wait(), "$.States.A", "exactly one of Seconds, Timestamp"),
    (
        "wait-two",
        wait(Seconds=1, Timestamp="2024-01-01T00:00:00Z"),
        "$.States.A.Timestamp",
        "mutually exclusive",
    ),
    ("wait-negative", wait(Seconds=-1), "$.States.A.Seconds", "between 0"),
    ("wait-timestamp", wait(Timestamp="2024-13-01T00:00:00Z"), "$.States.A.Timestamp", "RFC 3339"),
    ("wait-path", wait(SecondsPath="$.a.*"), "$.States.A.SecondsPath", "Reference Path"),
    (
        "wait-jsonata-path",
        one(jsonata({"Type": "Wait", "End": True, "SecondsPath": "$.s"})),
        "$.States.A.SecondsPath",
        "not allowed in JSONata states",
    ),
    (
        "wait-jsonata-seconds",
        one(jsonata({"Type": "Wait", "End": True, "Seconds": "five"})),
        "$.States.A.Seconds",
        "integer or a JSONata expression",
    ),
    # ASL spec "Fail State"; guide "Fail workflow state".
    ("fail-error-both", fail(Error="E", ErrorPath="$.e"), "$.States.A.ErrorPath", "exclusive"),
    ("fail-cause-both", fail(Cause="C", CausePath="$.c"), "$.States.A.CausePath", "exclusive"),
    ("fail-error-type", fail(Error=5), "$.States.A.Error", "must be a string"),
    ("fail-cause-path", fail(CausePath="nope"), "$.States.A.CausePath", "Reference Path or an"),
    (
        "fail-error-intrinsic",
        fail(ErrorPath="States.Format("),
        "$.States.A.ErrorPath",
        "intrinsic function",
    ),
    ("fail-inputpath", fail(InputPath="$"), "$.States.A.InputPath", "not allowed in a Fail"),
    # ASL spec "Parallel State".
    ("no-branches", one({"Type": "Parallel", "End": True}), "$.States.A.Branches", "required"),
    ("empty-branches", parallel(), "$.States.A.Branches", "non-empty"),
    ("branch-type", parallel(1), "$.States.A.Branches[0]", "JSON object"),
    (
        "branch-no-startat",
        parallel({"States": {"B1": {"Type": "Succeed"}}}),
        "$.States.A.Branches[0].StartAt",
        "StartAt is required",
    ),
    (
        "branch-unknown",
        parallel({**branch(), "TimeoutSeconds": 1}),
        "$.States.A.Branches[0].TimeoutSeconds",
        "not allowed in this Parallel branch",
    ),
    (
        "branch-unreachable",
        parallel({"StartAt": "X", "States": {"X": {"Type": "Succeed"}, "Y": {"Type": "Succeed"}}}),
        "$.States.A.Branches[0].States.Y",
        "unreachable",
    ),
    # Guide "Map state" (inline ItemProcessor, legacy Iterator, ItemsPath/Items, ItemSelector,
    # MaxConcurrency, tolerated failures, ItemBatcher).
    (
        "map-no-processor",
        map_state(ItemProcessor=None),
        "$.States.A",
        "exactly one of ItemProcessor, Iterator",
    ),
    ("map-both", map_state(Iterator=branch("I")), "$.States.A.Iterator", "mutually exclusive"),
    (
        "map-mode",
        map_state(ItemProcessor={**branch("M"), "ProcessorConfig": {"Mode": "LOCAL"}}),
        "$.States.A.ItemProcessor.ProcessorConfig.Mode",
        "INLINE or DISTRIBUTED",
    ),
    (
        "map-processor-states",
        map_state(ItemProcessor={"StartAt": "M"}),
        "$.States.A.ItemProcessor.States",
        "States is required",
    ),
    (
        "map-processor-next",
        map_state(ItemProcessor={"StartAt": "M", "States": {"M": {"Type": "Pass", "Next": "A"}}}),
        "$.States.A.ItemProcessor.States.M.Next",
        "not a state of this Map ItemProcessor",
    ),
    (
        "map-iterator-unknown",
        map_state(ItemProcessor=None, Iterator={**branch("I"), "ItemReader": {}}),
        "$.States.A.Iterator.ItemReader",
        "not allowed in this Map Iterator",
    ),
    (
        "map-iterator-processor-config",
        map_state(ItemProcessor=None, Iterator={**branch("I"), "ProcessorConfig": {"Mode": "X"}}),
        "$.States.A.Iterator.ProcessorConfig.Mode",
        "Mode must be INLINE or DISTRIBUTED",
    ),
    ("map-itemspath", map_state(ItemsPath="$.a[*]"), "$.States.A.ItemsPath", "Reference Path"),
    ("map-items-jsonpath", map_state(Items=[1]), "$.States.A.Items", "only allowed in JSONata"),
    (
        "map-selector-and-parameters",
        map_state(ItemSelector={}, Parameters={}),
        "$.States.A.Parameters",
        "mutually exclusive",
    ),
    (
        "map-selector-path",
        map_state(ItemSelector={"x.$": 5}),
        "$.States.A.ItemSelector['x.$']",
        "must be a string",
    ),
    ("map-concurrency", map_state(MaxConcurrency=-1), "$.States.A.MaxConcurrency", "between 0"),
    (
        "map-concurrency-both",
        map_state(MaxConcurrency=1, MaxConcurrencyPath="$.c"),
        "$.States.A.MaxConcurrencyPath",
        "mutually exclusive",
    ),
    (
        "map-tolerated-percentage",
        map_state(ToleratedFailurePercentage=101),
        "$.States.A.ToleratedFailurePercentage",
        "from 0 to 100",
    ),
    (
        "map-tolerated-count-both",
        map_state(ToleratedFailureCount=1, ToleratedFailureCountPath="$.c"),
        "$.States.A.ToleratedFailureCountPath",
        "mutually exclusive",
    ),
    (
        "map-tolerated-path",
        map_state(ToleratedFailurePercentagePath="$[?(@.a)]"),
        "$.States.A.ToleratedFailurePercentagePath",
        "Reference Path",
    ),
    (
        "map-batch-items",
        map_state(ItemBatcher={"MaxItemsPerBatch": 0}),
        "$.States.A.ItemBatcher.MaxItemsPerBatch",
        "between 1",
    ),
    (
        "map-batch-bytes",
        map_state(ItemBatcher={"MaxInputBytesPerBatch": 300_000}),
        "$.States.A.ItemBatcher.MaxInputBytesPerBatch",
        "between 1 and 262144",
    ),
    (
        "map-batch-unknown",
        map_state(ItemBatcher={"Size": 2}),
        "$.States.A.ItemBatcher.Size",
        "not allowed in ItemBatcher",
    ),
    (
        "map-item-reader",
        map_state(ItemReader={"Resource": "arn:aws:states:::s3:getObject"}),
        "$.States.A.ItemReader",
        "needs a Distributed Map",
    ),
    (
        "map-arguments",
        one(jsonata({"Type": "Map", "End": True, "ItemProcessor": branch("M"), "Arguments": {}})),
        "$.States.A.Arguments",
        "not allowed in a Map state",
    ),
    (
        "map-items-jsonata-type",
        one(jsonata({"Type": "Map", "End": True, "ItemProcessor": branch("M"), "Items": 3})),
        "$.States.A.Items",
        "array or a JSONata expression",
    ),
    # Guide "Transforming data with JSONata": the JSONPath fields are gone, Arguments/Output come.
    (
        "jsonata-parameters",
        one(jsonata(task(Parameters={}))),
        "$.States.A.Parameters",
        "not allowed in JSONata states",
    ),
    ("jsonata-inputpath", one(jsonata(task(InputPath="$"))), "$.States.A.InputPath", "JSONata"),
    (
        "jsonata-resultpath",
        one(jsonata(task(ResultPath="$.r"))),
        "$.States.A.ResultPath",
        "JSONata",
    ),
    (
        "jsonata-resultselector",
        one(jsonata(task(ResultSelector={}))),
        "$.States.A.ResultSelector",
        "not allowed in JSONata states",
    ),
    ("jsonata-outputpath", one(jsonata(task(OutputPath="$"))), "$.States.A.OutputPath", "JSONata"),
    (
        "jsonata-top-level",
        one(task(ResultPath="$.r"), QueryLanguage="JSONata"),
        "$.States.A.ResultPath",
        "not allowed in JSONata states",
    ),
    (
        "jsonpath-arguments",
        one(task(Arguments={})),
        "$.States.A.Arguments",
        "only allowed in JSONata states",
    ),
    ("jsonpath-output", one(task(Output={})), "$.States.A.Output", "only allowed in JSONata"),
    (
        "jsonpath-under-jsonata",
        one(task(QueryLanguage="JSONPath"), QueryLanguage="JSONata"),
        "$.States.A.QueryLanguage",
        "cannot use JSONPath",
    ),
    ("state-ql", one(task(QueryLanguage="XPath")), "$.States.A.QueryLanguage", "JSONPath or"),
    (
        "jsonata-arguments-syntax",
        one(jsonata(task(Arguments={"x": "{% $states.input. %}"}))),
        "$.States.A.Arguments.x",
        "does not compile",
    ),
    (
        "jsonata-arguments-type",
        one(jsonata(task(Arguments=5))),
        "$.States.A.Arguments",
        "JSON object or a JSONata expression",
    ),
    (
        "jsonata-assign-syntax",
        one(jsonata(task(Assign={"x": "{% ( %}"}))),
        "$.States.A.Assign.x",
        "does not compile",
    ),
    (
        "jsonata-output-nested",
        one(jsonata(task(Output={"a": ["{% 1 + %}"]}))),
        "$.States.A.Output.a[0]",
        "does not compile",
    ),
    (
        "jsonata-timeout",
        one(jsonata(task(TimeoutSeconds="10"))),
        "$.States.A.TimeoutSeconds",
        "integer or a JSONata expression",
    ),
]


@pytest.mark.parametrize(
    ("definition", "path", "rule"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_definitions_name_the_field_and_the_rule(
    definition: object, path: str, rule: str
) -> None:
    problems = validate(definition)
    assert any(p.path == path and rule in p.rule for p in problems), problems


# Developer guide, "State machine structure": the Hello World example.
HELLO_WORLD: Def = {
    "Comment": "A Hello World example of the Amazon States Language using a Pass state",
    "StartAt": "HelloWorld",
    "States": {"HelloWorld": {"Type": "Pass", "Result": "Hello World!", "End": True}},
}

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:"

# Developer guide, "Parallel workflow state": the example with two Lambda functions.
PARALLEL_EXAMPLE: Def = {
    "Comment": "Parallel Example.",
    "StartAt": "LookupCustomerInfo",
    "States": {
        "LookupCustomerInfo": {
            "Type": "Parallel",
            "End": True,
            "Branches": [
                {
                    "StartAt": "LookupAddress",
                    "States": {
                        "LookupAddress": {
                            "Type": "Task",
                            "Resource": LAMBDA + "AddressFinder",
                            "End": True,
                        }
                    },
                },
                {
                    "StartAt": "LookupPhone",
                    "States": {
                        "LookupPhone": {
                            "Type": "Task",
                            "Resource": LAMBDA + "PhoneFinder",
                            "End": True,
                        }
                    },
                },
            ],
        }
    },
}

# Developer guide, "Using Map state in Inline mode": the inline Map example.
MAP_EXAMPLE: Def = {
    "Comment": "Using Map state in Inline mode",
    "StartAt": "Pass",
    "States": {
        "Pass": {
            "Type": "Pass",
            "Next": "Map demo",
            "Result": {"foo": "bar", "colors": ["red", "green", "blue", "yellow", "white"]},
        },
        "Map demo": {
            "Type": "Map",
            "ItemsPath": "$.colors",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Generate UUID",
                "States": {
                    "Generate UUID": {
                        "Type": "Pass",
                        "Next": "Sample Pass",
                        "Parameters": {"uuid.$": "States.UUID()"},
                    },
                    "Sample Pass": {
                        "Type": "Pass",
                        "Result": "This is a sample pass state",
                        "End": True,
                    },
                },
            },
            "End": True,
        },
    },
}

# Developer guide, "Map state" (legacy fields): Iterator, Parameters, MaxConcurrency, ResultPath.
MAP_ITERATOR: Def = {
    "StartAt": "Validate-All",
    "States": {
        "Validate-All": {
            "Type": "Map",
            "InputPath": "$.detail",
            "ItemsPath": "$.shipped",
            "MaxConcurrency": 0,
            "Parameters": {"parcel.$": "$$.Map.Item.Value", "courier.$": "$.delivery-partner"},
            "Iterator": {
                "StartAt": "Validate",
                "States": {
                    "Validate": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ship-val",
                        "End": True,
                    }
                },
            },
            "ResultPath": "$.detail.shipped",
            "End": True,
        }
    },
}

# ASL spec, "Choice State": the example with And, Not, StringEquals, Timestamp comparison.
CHOICE_EXAMPLE: Def = {
    "StartAt": "ChoiceStateX",
    "States": {
        "ChoiceStateX": {
            "Type": "Choice",
            "Choices": [
                {
                    "Not": {"Variable": "$.type", "StringEquals": "Private"},
                    "Next": "Public",
                },
                {
                    "And": [
                        {"Variable": "$.value", "IsPresent": True},
                        {"Variable": "$.value", "IsNumeric": True},
                        {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                        {"Variable": "$.value", "NumericLessThan": 30},
                    ],
                    "Next": "ValueInTwenties",
                },
                {
                    "Variable": "$.rating",
                    "NumericGreaterThanPath": "$.auditThreshold",
                    "Next": "StartAudit",
                },
                {
                    "Variable": "$.when",
                    "TimestampLessThan": "2016-03-14T01:59:00Z",
                    "Next": "Public",
                },
                {"Variable": "$.name", "StringMatches": "log-*.txt", "Next": "Public"},
            ],
            "Default": "DefaultState",
        },
        "Public": {"Type": "Pass", "Next": "NextState"},
        "ValueInTwenties": {"Type": "Pass", "Next": "NextState"},
        "StartAudit": {"Type": "Pass", "Next": "NextState"},
        "DefaultState": {"Type": "Fail", "Error": "DefaultStateError", "Cause": "No Matches!"},
        "NextState": {"Type": "Succeed"},
    },
}

# ASL spec, "Retrying after error" and "Fallback states"; a Lambda invoke with a task token.
RETRY_CATCH: Def = {
    "StartAt": "Charge",
    "TimeoutSeconds": 3600,
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:charge:prod",
                "Payload": {"order.$": "$.order", "token.$": "$$.Task.Token"},
            },
            "ResultSelector": {"receipt.$": "$.Payload.receipt"},
            "ResultPath": "$.charge",
            "TimeoutSeconds": 300,
            "HeartbeatSeconds": 60,
            "Retry": [
                {"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0},
                {
                    "ErrorEquals": ["ErrorC"],
                    "IntervalSeconds": 5,
                    "MaxAttempts": 0,
                    "MaxDelaySeconds": 30,
                    "JitterStrategy": "FULL",
                },
                {"ErrorEquals": ["States.ALL"]},
            ],
            "Catch": [
                {"ErrorEquals": ["States.Timeout"], "Next": "Wait", "ResultPath": "$.error"},
                {"ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": None},
            ],
            "Next": "Child",
        },
        "Wait": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Until"},
        "Until": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "Next": "Charge"},
        "Child": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:ship",
                "Input.$": "$",
            },
            "Assign": {"shipped": True, "orderId.$": "$.order.id"},
            "OutputPath": "$.Output",
            "Next": "Notify",
        },
        "Notify": {"Type": "Task", "Resource": "legato:workflow:notify", "Next": "Done"},
        "Failed": {
            "Type": "Fail",
            "ErrorPath": "$.error.Error",
            "CausePath": "States.Format('failed: {}', $.error.Cause)",
        },
        "Done": {"Type": "Succeed", "OutputPath": "$orderId"},
    },
}

# Developer guide, "Transforming data with JSONata": Arguments, Output, Assign, Condition, Items.
JSONATA_EXAMPLE: Def = {
    "Comment": "Order processing in JSONata",
    "QueryLanguage": "JSONata",
    "StartAt": "GetOrder",
    "States": {
        "GetOrder": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "getOrder", "Payload": "{% $states.input %}"},
            "Assign": {"order": "{% $states.result.Payload %}"},
            "Output": "{% $states.result.Payload %}",
            "TimeoutSeconds": "{% $states.input.timeout %}",
            "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}],
            "Catch": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "Next": "Failed",
                    "Output": "{% $states.errorOutput %}",
                    "Assign": {"failure": "{% $states.errorOutput.Cause %}"},
                }
            ],
            "Next": "CheckTotal",
        },
        "CheckTotal": {
            "Type": "Choice",
            "Choices": [
                {
                    "Condition": "{% $order.total > 100 %}",
                    "Assign": {"large": True},
                    "Next": "Pause",
                }
            ],
            "Default": "Lines",
        },
        "Pause": {
            "Type": "Wait",
            "Seconds": "{% $order.delay ? $order.delay : 1 %}",
            "Next": "Lines",
        },
        "Lines": {
            "Type": "Map",
            "Items": "{% $order.lines %}",
            "ItemSelector": {"line": "{% $states.context.Map.Item.Value %}"},
            "MaxConcurrency": 4,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Price",
                "States": {"Price": {"Type": "Task", "Resource": "price_line", "End": True}},
            },
            "Output": {"lines": "{% $states.result %}"},
            "Next": "Done",
        },
        "Done": {"Type": "Succeed", "Output": "{% $states.input %}"},
        "Failed": {"Type": "Fail", "Error": "OrderFailed", "Cause": "{% $failure %}"},
    },
}

# Guide "State machine structure": a JSONPath machine may move one state at a time to JSONata.
MIXED: Def = machine(
    {
        "A": {"Type": "Pass", "Parameters": {"x.$": "$.x"}, "Next": "B"},
        "B": jsonata({"Type": "Pass", "Output": {"y": "{% $states.input.x %}"}, "Next": "C"}),
        "C": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"item.$": "$$.Map.Item.Value", "n": 1},
            "ItemProcessor": branch("M"),
            "ToleratedFailurePercentage": 12.5,
            "ToleratedFailureCountPath": "$.tolerated",
            "MaxConcurrencyPath": "$.concurrency",
            "ItemBatcher": {"MaxItemsPerBatch": 10, "BatchInput": {"k.$": "$.k"}},
            "Label": "lines",
            "End": True,
        },
    }
)

VALID: list[tuple[str, Def]] = [
    ("hello-world", HELLO_WORLD),
    ("parallel-example", PARALLEL_EXAMPLE),
    ("map-example", MAP_EXAMPLE),
    ("map-iterator", MAP_ITERATOR),
    ("choice-example", CHOICE_EXAMPLE),
    ("retry-catch", RETRY_CATCH),
    ("jsonata-example", JSONATA_EXAMPLE),
    ("mixed-languages", MIXED),
    ("plain-step", one(task())),
    ("fail-bare", one({"Type": "Fail"})),
    (
        "distributed-mode",
        map_state(
            ItemProcessor={
                **branch("M"),
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            }
        ),
    ),
    (
        "variable-paths",
        one(task(InputPath="$customer.address", Parameters={"id.$": "$$.Execution.Id"})),
    ),
    ("step-token", one(task(Resource="approve.waitForTaskToken", HeartbeatSecondsPath="$.hb"))),
    ("wait-timestamp-path", wait(TimestampPath="$.when")),
    (
        "wait-jsonata-timestamp",
        one(jsonata({"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": True})),
    ),
]


@pytest.mark.parametrize("definition", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_definitions_have_no_problems(definition: Def) -> None:
    assert validate(definition) == []
    check(definition)


def test_every_problem_is_reported_sorted_by_path() -> None:
    definition = machine(
        {
            "A": task(Retry=[{"ErrorEquals": ["X"], "BackoffRate": 0}], Next="Z", End=None),
            "B": {"Type": "Wait", "End": True},
        }
    )
    definition["States"]["A"].pop("End")
    problems = validate(definition)
    assert [p.path for p in problems] == [
        "$.States.A.Next",
        "$.States.A.Retry[0].BackoffRate",
        "$.States.B",
        "$.States.B",
    ]
    assert {p.rule for p in problems if p.path == "$.States.B"} == {
        "state 'B' is unreachable from StartAt",
        "exactly one of Seconds, Timestamp, SecondsPath, TimestampPath is required",
    }


def test_indexes_sort_as_numbers() -> None:
    retriers = [{"ErrorEquals": ["X"], "MaxAttempts": -1} for _ in range(11)]
    paths = [p.path for p in validate(one(task(Retry=retriers)))]
    assert paths == [f"$.States.A.Retry[{i}].MaxAttempts" for i in range(11)]


def test_check_raises_with_all_problems() -> None:
    with pytest.raises(InvalidDefinitionError) as raised:
        check(machine({"A": {"Type": "Pass"}, "B": {"Type": "Pass", "End": True}}), "x.json")
    assert raised.value.problems == [
        Problem("$.States.A", "exactly one of Next, End is required"),
        Problem("$.States.B", "state 'B' is unreachable from StartAt"),
    ]
    assert "x.json" in str(raised.value)
    assert "$.States.B: state 'B' is unreachable from StartAt" in str(raised.value)


def test_count_states_includes_nested_states() -> None:
    assert count_states(MAP_EXAMPLE) == 4
    assert count_states(PARALLEL_EXAMPLE) == 3
    assert count_states("nothing") == 0


def test_validate_does_not_mutate_its_input() -> None:
    before = copy.deepcopy(JSONATA_EXAMPLE)
    validate(JSONATA_EXAMPLE)
    assert before == JSONATA_EXAMPLE


# Robustness: any JSON, and any small mutation of a valid definition, gives a list of problems.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["Next", "End", "Type", "States", "StartAt", "Variable", "Resource", "Choices", "Retry",
     "Catch", "Branches", "ItemProcessor", "Items", "Seconds", "ErrorEquals", "Assign", "x.$"]
) | st.text(max_size=8)  # fmt: skip


def _containers(value: object) -> list[dict[str, Any] | list[Any]]:
    found: list[dict[str, Any] | list[Any]] = []
    if isinstance(value, dict | list):
        found.append(value)
        for inner in value.values() if isinstance(value, dict) else value:
            found += _containers(inner)
    return found


@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_mutations_of_valid_definitions_never_crash(data: st.DataObject) -> None:
    definition = copy.deepcopy(data.draw(st.sampled_from([d for _, d in VALID])))
    for _ in range(data.draw(st.integers(1, 3))):
        target = data.draw(st.sampled_from(_containers(definition)))
        action = data.draw(st.sampled_from(["delete", "replace", "rename", "add"]))
        if isinstance(target, list):
            if target and action in ("delete", "rename"):
                target.pop(data.draw(st.integers(0, len(target) - 1)))
            elif target:
                target[data.draw(st.integers(0, len(target) - 1))] = data.draw(json_values)
            else:
                target.append(data.draw(json_values))
        elif action == "add" or not target:
            target[data.draw(field_names)] = data.draw(json_values)
        else:
            name = data.draw(st.sampled_from(sorted(target)))
            if action == "delete":
                del target[name]
            elif action == "replace":
                target[name] = data.draw(json_values)
            else:
                target[data.draw(field_names)] = target.pop(name)
    problems = validate(definition)
    assert isinstance(problems, list)
    assert all(isinstance(p, Problem) for p in problems)


@given(json_values)
@example({"0²0": None})  # "²" is a digit to str.isdigit, not to int()
@settings(max_examples=300, deadline=None)
def test_any_json_value_gives_a_list(value: object) -> None:
    assert isinstance(validate(value), list)
    assert isinstance(validate({"StartAt": "A", "States": {"A": value}}), list)
