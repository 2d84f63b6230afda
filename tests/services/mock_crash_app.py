"""The app the mocked-states crash test kills: a state machine whose mocked Lambda state runs
twice (a loop), each time thrown once and retried, with a real step between the rounds.
Run as ``python mock_crash_app.py DB LOG RESULT``: it starts the execution (the same id every
run: the same execution) and writes its output to RESULT. The step logs ``hold-N`` and, in
round 0, waits until the file ``MOCK_CRASH_GATE`` names exists."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import legato

GATE = os.environ.get("MOCK_CRASH_GATE", "")
LOG_PATH = "steps.log"

DEFINITION: dict[str, Any] = {
    "StartAt": "Flaky",
    "States": {
        "Flaky": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "Flaky", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "BackoffRate": 1}],
            "ResultPath": "$.last",
            "Next": "Hold",
        },
        "Hold": {
            "Type": "Task",
            "Resource": "hold",
            "Parameters": {"round.$": "$.round"},
            "ResultPath": None,
            "Next": "Count",
        },
        "Count": {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Output": "{% {'round': $states.input.round + 1, "
            "'seen': $append($states.input.seen, [$states.input.last])} %}",
            "Next": "Again",
        },
        "Again": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.round", "NumericLessThan": 2, "Next": "Flaky"}],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}
BUSY = {"Throw": {"Error": "Busy", "Cause": "try again"}}
MOCKS = {
    "StateMachines": {"Looping": {"TestCases": {"T": {"Flaky": "Sometimes"}}}},
    "MockedResponses": {
        "Sometimes": {"0": BUSY, "1": {"Return": "a"}, "2": BUSY, "3": {"Return": "b"}}
    },
}

app = legato.App(lease_seconds=1.0)
app.register_state_machine("Looping", DEFINITION)
app.use_mocks(MOCKS, "T")


@app.step(name="hold")
async def hold(event: dict[str, Any]) -> None:
    fd = os.open(LOG_PATH, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"hold-{event['round']}\n".encode())
    finally:
        os.close(fd)
    while event["round"] == 0 and not os.path.exists(GATE):
        await asyncio.sleep(0.05)


async def main(db: str, result: str) -> None:
    app.configure(url=f"sqlite:///{db}")
    async with app:
        handle = await app.start("Looping", {"round": 0, "seen": []}, id="looping")
        output = await handle.result(timeout=60)
    with open(result, "w") as out:
        json.dump(output, out)


if __name__ == "__main__":
    LOG_PATH = sys.argv[2]
    asyncio.run(main(sys.argv[1], sys.argv[3]))
