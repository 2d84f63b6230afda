"""The outcome of one step attempt, as a worker reports it (in memory, or as JSON on the task
row for a worker in another process)."""

from __future__ import annotations

from typing import Any, NamedTuple

from legato.core import codec


class Outcome(NamedTuple):
    ok: bool
    result: str | None = None  # JSON text
    error_type: str | None = None
    message: str | None = None
    traceback: str | None = None
    error_types: tuple[str, ...] = ()  # the exception's MRO, for Retry.non_retryable
    non_retryable: bool = False
    heartbeat_details: str | None = None  # JSON of the last details passed to heartbeat()

    def to_json(self) -> str:
        return codec.dumps(self._asdict(), "step outcome")

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        raw: dict[str, Any] = codec.loads(text)
        raw["error_types"] = tuple(raw.get("error_types") or ())
        return cls(**raw)

    @classmethod
    def failure(cls, error_type: str, message: str, *, non_retryable: bool = False) -> Outcome:
        """An engine-made failure: a timeout, a cancellation, a step no worker started."""
        return cls(
            ok=False,
            error_type=error_type,
            message=message,
            error_types=(error_type,),
            non_retryable=non_retryable,
        )
