"""An execution's status as Step Functions names it (DescribeExecution's ``status``), for the
AWS-shaped views of state machine executions: Legato's CANCELLED (code that stopped on a
cancellation) and TERMINATED (stopped at once) are both Step Functions' ABORTED (StopExecution).
"""

from __future__ import annotations

from legato.core import error_names
from legato.core.events import Status

_AWS = {
    Status.PENDING: "RUNNING",  # recorded, not yet picked up
    Status.RUNNING: "RUNNING",
    Status.SUSPENDED: "RUNNING",  # waiting for an operator: still running to AWS's eyes
    Status.COMPLETED: "SUCCEEDED",
    Status.FAILED: "FAILED",
    Status.CANCELLED: "ABORTED",
    Status.TERMINATED: "ABORTED",
    Status.TIMED_OUT: "TIMED_OUT",
}
_BY_ERROR = {error_names.CANCELLED: "ABORTED", error_names.TERMINATED: "ABORTED"}


def aws_status(status: Status) -> str:
    return _AWS[status]


def aws_status_of_failure(error_type: str) -> str:
    """How a child that did not succeed ended, from the error it reported."""
    return _BY_ERROR.get(error_type, "FAILED")
