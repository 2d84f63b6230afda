"""Errors of the Amazon States Language (ASL specification, "Errors").

A state that fails produces an error name and a human-readable cause; Retry and Catch match on
the name. ``StatesError`` carries both wherever ASL evaluation fails (a path that selects
nothing, an intrinsic function given bad arguments, a JSONata expression that does not evaluate).
"""

from __future__ import annotations

ALL = "States.ALL"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
RUNTIME = "States.Runtime"

#: Errors that ``States.ALL`` does not match (ASL spec: "States.ALL ... matches any known error
#: name" except States.DataLimitExceeded and States.Runtime, which are terminal).
NOT_MATCHED_BY_ALL = frozenset({"States.DataLimitExceeded", RUNTIME})


class StatesError(Exception):
    """A state failed with an ASL error name and cause (error output ``{"Error", "Cause"}``)."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause

    def output(self) -> dict[str, str]:
        """The error output that Catch passes on (ASL spec, "Catchers")."""
        return {"Error": self.error, "Cause": self.cause}
