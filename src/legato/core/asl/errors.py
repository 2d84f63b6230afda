"""The error a state fails with (ASL specification, "Errors").

A state that fails produces an error name and a human-readable cause; Retry and Catch match on
the name. ``StatesError`` carries both wherever ASL evaluation fails (a path that selects
nothing, an intrinsic function given bad arguments, a JSONata expression that does not
evaluate). The names themselves are in ``legato.core.error_names``.
"""

from __future__ import annotations

from legato.core import error_names


class StatesError(Exception):
    """A state failed with an ASL error name and cause (error output ``{"Error", "Cause"}``)."""

    #: the ``StateEntered`` of the innermost state it failed (a redrive enters it again)
    cause_ref: int | None = None

    def __init__(self, error: str, cause: str, *, has_cause: bool = True) -> None:
        super().__init__(f"{error}: {cause}" if has_cause else error)
        self.error = error
        self.cause = cause
        #: False where Step Functions gives no cause at all (a task's ``States.Timeout``):
        #: the error output then has no ``Cause`` and ``cause`` is empty
        self.has_cause = has_cause

    @classmethod
    def without_cause(cls, error: str) -> StatesError:
        return cls(error, "", has_cause=False)

    def output(self) -> dict[str, str]:
        """The error output that Catch passes on (ASL spec, "Catchers")."""
        if not self.has_cause:
            return {"Error": self.error}
        return {"Error": self.error, "Cause": self.cause}


def task_error(error: str, cause: str) -> StatesError:
    """A Task's failed work (a step, a callback) as the state reports it. A ``States.Timeout``
    carries no cause: Step Functions sends none (API reference, ``TaskTimedOutEventDetails``:
    ``cause`` is optional, and a task timeout leaves it out)."""
    if error == error_names.TIMEOUT:
        return StatesError.without_cause(error)
    return StatesError(error, cause)
