"""The error a state fails with (ASL specification, "Errors").

A state that fails produces an error name and a human-readable cause; Retry and Catch match on
the name. ``StatesError`` carries both wherever ASL evaluation fails (a path that selects
nothing, an intrinsic function given bad arguments, a JSONata expression that does not
evaluate). The names themselves are in ``legato.core.error_names``.
"""

from __future__ import annotations


class StatesError(Exception):
    """A state failed with an ASL error name and cause (error output ``{"Error", "Cause"}``)."""

    #: the ``StateEntered`` of the innermost state it failed (a redrive enters it again)
    cause_ref: int | None = None

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause

    def output(self) -> dict[str, str]:
        """The error output that Catch passes on (ASL spec, "Catchers")."""
        return {"Error": self.error, "Cause": self.cause}
