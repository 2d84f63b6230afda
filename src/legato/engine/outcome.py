"""The outcome of one step attempt, as the worker reports it to the orchestrator."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(slots=True)
class Outcome:
    ok: bool
    result: str | None = None  # JSON text
    error_type: str | None = None
    message: str | None = None
    traceback: str | None = None
    error_types: list[str] = field(default_factory=list)  # the exception's MRO, for non_retryable
    non_retryable: bool = False
    heartbeat_details: str | None = None  # JSON of the last details passed to heartbeat()

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        return cls(**json.loads(text))
