"""The legacy ``Iterator`` field of a Map state accepts ``ProcessorConfig``, as AWS does.

Sources: the developer guide, "Map state in Inline mode" / "Map state in Distributed mode"
(``ItemProcessor`` succeeds the deprecated ``Iterator``; its ``ProcessorConfig`` has ``Mode``
INLINE or DISTRIBUTED and ``ExecutionType``), and the definitions LocalStack's
AWS-validated tests run on AWS: ``map_state_legacy_config_inline.json5`` and
``map_state_legacy_config_distributed.json5`` (an ``Iterator`` holding
``"ProcessorConfig": {"Mode": "INLINE"}``) in github.com/localstack/localstack,
tests/aws/services/stepfunctions/templates/scenarios/statemachines."""

from __future__ import annotations

from typing import Any

import pytest

from legato.core.asl.validate import validate
from legato.testing import run_state_machine


def legacy_map(config: dict[str, Any]) -> dict[str, Any]:
    """LocalStack's ``map_state_legacy_config_inline`` definition, with ``config`` as the
    Iterator's ProcessorConfig."""
    return {
        "StartAt": "MapState",
        "States": {
            "MapState": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "Iterator": {
                    "StartAt": "IteratorInner",
                    "States": {"IteratorInner": {"Type": "Pass", "End": True}},
                    "ProcessorConfig": config,
                },
                "Next": "Finish",
            },
            "Finish": {"Type": "Succeed"},
        },
    }


@pytest.mark.parametrize(
    "config",
    [
        {"Mode": "INLINE"},
        {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        {},
    ],
)
async def test_a_legacy_iterator_accepts_processor_config(config: dict[str, Any]) -> None:
    """An ``Iterator`` with ``ProcessorConfig`` is a valid definition and runs like an
    ``ItemProcessor``: each item through the Pass state, the results in order."""
    definition = legacy_map(config)
    assert validate(definition) == []
    r = await run_state_machine(definition, ["Hello", "World", 1])
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == ["Hello", "World", 1]


def test_a_legacy_iterator_processor_config_is_checked() -> None:
    """Its values are checked as an ItemProcessor's are (Mode INLINE or DISTRIBUTED)."""
    problems = validate(legacy_map({"Mode": "PARALLEL"}))
    assert [p.path for p in problems] == ["$.States.MapState.Iterator.ProcessorConfig.Mode"]
