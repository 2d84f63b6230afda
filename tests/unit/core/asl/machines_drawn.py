"""State machines the graph drawing tests lay out: groups within groups, loops, labels."""

from __future__ import annotations

from typing import Any

ORDER: dict[str, Any] = {
    "StartAt": "Validate order",
    "States": {
        "Validate order": {"Type": "Task", "Resource": "validate", "Next": "Is it big?"},
        "Is it big?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Ask a manager"},
                {"Variable": "$.vip", "BooleanEquals": True, "Next": "Charge card"},
            ],
            "Default": "Charge card",
        },
        "Ask a manager": {"Type": "Task", "Resource": "approve", "Next": "Charge card"},
        "Charge card": {
            "Type": "Task", "Resource": "charge", "Next": "Fulfil",
            "Retry": [{"ErrorEquals": ["States.ALL"]}],
            "Catch": [{"ErrorEquals": ["CardDeclined"], "Next": "Tell customer"}],
        },
        "Fulfil": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Pack", "States": {
                    "Pack": {"Type": "Task", "Resource": "pack", "Next": "Ship"},
                    "Ship": {"Type": "Task", "Resource": "ship", "End": True}}},
                {"StartAt": "Email receipt", "States": {
                    "Email receipt": {"Type": "Task", "Resource": "email", "End": True}}},
                {"StartAt": "Each line", "States": {"Each line": {
                    "Type": "Map", "End": True,
                    "ItemProcessor": {"StartAt": "Reserve stock", "States": {
                        "Reserve stock": {"Type": "Task", "Resource": "reserve",
                                          "End": True}}}}}},
            ],
            "Next": "Done",
        },
        "Tell customer": {"Type": "Task", "Resource": "tell", "Next": "Declined"},
        "Declined": {"Type": "Fail", "Error": "Declined"},
        "Done": {"Type": "Succeed"},
    },
}  # fmt: skip

POLL: dict[str, Any] = {
    "StartAt": "Submit the job to the very slow external batch processing system",
    "States": {
        "Submit the job to the very slow external batch processing system": {
            "Type": "Task", "Resource": "submit", "Next": "Wait a bit"},
        "Wait a bit": {"Type": "Wait", "Seconds": 30, "Next": "Get status"},
        "Get status": {"Type": "Task", "Resource": "status", "Next": "Done yet?",
                       "Catch": [{"ErrorEquals": ["Busy"], "Next": "Get status"}]},
        "Done yet?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "Finished"}],
            "Default": "Wait a bit",
        },
        "Finished": {"Type": "Succeed"},
    },
}  # fmt: skip

MACHINES = {"order": ORDER, "poll": POLL}
