"""The payload size quota of Step Functions: 256 KiB of UTF-8 JSON per input, result or output.

Developer guide, "Step Functions service quotas" ("Maximum input or output size for a task,
state, or execution: 256 KiB of data as a UTF-8 encoded string") and "Error names"
(``States.DataLimitExceeded``). What AWS executions show (recorded in LocalStack's AWS-validated
``test_states_errors.snapshot.json``):

* a Task whose result is too large fails with ``States.DataLimitExceeded``, cause
  ``The state/task '<resource>' returned a result with a size exceeding the maximum number of
  bytes service limit.`` where ``<resource>`` is the service of an integration (``lambda`` for
  ``arn:aws:states:::lambda:invoke``) or the Resource as written (a function ARN); a Catch on
  ``States.ALL`` (or on the name) catches it;
* any other state whose result or output is too large fails the execution at once (no Catch
  applies), the cause naming the state.
"""

from __future__ import annotations

from typing import Final

from legato.core import codec
from legato.core.asl.errors import StatesError
from legato.core.error_names import DATA_LIMIT_EXCEEDED
from legato.core.events import JSON

#: 256 KiB: a payload of more UTF-8 bytes than this exceeds the quota.
MAX_PAYLOAD_BYTES: Final = 262_144
_INTEGRATION: Final = "arn:aws:states:::"


class DataLimitExceeded(StatesError):
    """``States.DataLimitExceeded``; ``catchable`` only where AWS lets Retry and Catch see it
    (a Task's result)."""

    def __init__(self, label: str, *, catchable: bool) -> None:
        super().__init__(
            DATA_LIMIT_EXCEEDED,
            f"The state/task '{label}' returned a result with a size exceeding the maximum "
            "number of bytes service limit.",
        )
        self.catchable = catchable


def text_too_large(text: str) -> bool:
    """Whether JSON text is more than :data:`MAX_PAYLOAD_BYTES` once UTF-8 encoded (each
    character is 1 to 4 bytes, so most texts are decided without encoding them)."""
    if len(text) > MAX_PAYLOAD_BYTES:
        return True
    if 4 * len(text) <= MAX_PAYLOAD_BYTES:
        return False
    return len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES


def too_large(value: JSON) -> bool:
    """Whether ``value`` as compact JSON is more than :data:`MAX_PAYLOAD_BYTES` UTF-8 bytes."""
    return text_too_large(codec.dumps(value, "a state's data"))


def task_label(resource: str) -> str:
    """How AWS names a Task in the cause: an integration's service (``lambda``), else the
    Resource as written."""
    if resource.startswith(_INTEGRATION):
        return resource[len(_INTEGRATION) :].split(":", 1)[0]
    return resource


def check_task_result(result: JSON, resource: str) -> None:
    """A Task's result over the quota: a catchable ``States.DataLimitExceeded``."""
    if too_large(result):
        raise DataLimitExceeded(task_label(resource), catchable=True)


def check_state_data(value: JSON, state: str) -> None:
    """A state's result or output (or the execution's input) over the quota: a terminal
    ``States.DataLimitExceeded`` naming the state."""
    if too_large(value):
        raise DataLimitExceeded(state, catchable=False)
