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
    #: True once ``locate`` gave its cause the state it happened in, or for an error that a
    #: task or a Fail state reported (passed on as it is)
    located: bool = False

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

    def locate(self, state: str, entered_id: int) -> None:
        """Prefix the cause of an error the interpreter raised (a runtime error) as Step
        Functions does: ``An error occurred while executing the state 'S' (entered at the
        event id #n). ``, ``n`` being the id of the state's ``StateEntered`` event in the
        AWS-shaped history (``legato.core.asl.aws_history``). Innermost state first: once."""
        if self.located or self.error not in RUNTIME_ERRORS:
            return
        self.located = True
        self.cause = (
            f"An error occurred while executing the state '{state}' (entered at the event id "
            f"#{entered_id}). {self.cause}"
        )
        self.args = (f"{self.error}: {self.cause}",)

    def output(self) -> dict[str, str]:
        """The error output that Catch passes on (ASL spec, "Catchers")."""
        if not self.has_cause:
            return {"Error": self.error}
        return {"Error": self.error, "Cause": self.cause}


#: The errors the interpreter itself raises while running a state (paths, templates,
#: intrinsic functions, JSONata, numeric fields): their causes name the state.
RUNTIME_ERRORS = frozenset({
    error_names.RUNTIME, error_names.PARAMETER_PATH_FAILURE, error_names.INTRINSIC_FAILURE,
    error_names.QUERY_EVALUATION_ERROR, error_names.RESULT_PATH_MATCH_FAILURE,
})  # fmt: skip


def reported(error: str, cause: str) -> StatesError:
    """An error a Fail state or a child execution reports: passed on as it is."""
    err = StatesError(error, cause)
    err.located = True
    return err


def task_error(error: str, cause: str) -> StatesError:
    """A Task's failed work (a step, a callback) as the state reports it. A ``States.Timeout``
    carries no cause: Step Functions sends none (API reference, ``TaskTimedOutEventDetails``:
    ``cause`` is optional, and a task timeout leaves it out)."""
    err = (
        StatesError.without_cause(error) if error == error_names.TIMEOUT else reported(error, cause)
    )
    err.located = True
    return err
