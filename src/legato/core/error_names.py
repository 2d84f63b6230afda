"""The engine's own error names: the Amazon States Language's (ASL specification, "Errors").

Code workflows and state machines share them, so a step timeout is ``States.Timeout`` in a
``StepFailed`` and in a Catch alike. Every other module takes them from here.
"""

from __future__ import annotations

ALL = "States.ALL"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
RUNTIME = "States.Runtime"
CANCELLED = "Legato.Cancelled"  # an execution's error once it is cancelled
TERMINATED = "Legato.Terminated"  # ... once terminated
PREFIX = "States."

#: Errors that ``States.ALL`` does not match (ASL spec: "States.ALL ... matches any known error
#: name" except States.Runtime, which is terminal). States.DataLimitExceeded is matched where
#: it can be caught at all, a Task's result, as on AWS (``legato.core.asl.limits``).
NOT_MATCHED_BY_ALL = frozenset({RUNTIME})


def for_status(status: str) -> str:
    """The error a closed, unsuccessful execution reports when it recorded none of its own
    (``States.CANCELLED``...); the SQL of ``link_child`` builds the same from ``PREFIX``."""
    return PREFIX + status
