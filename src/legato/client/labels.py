"""Labels: strings an execution is found by (``app.start(..., labels={"customer": "acme"})``).

Bounded so that a label stays an index entry, not a payload: at most ``MAX_LABELS`` of them,
keys of 1 to ``MAX_KEY`` characters, values of at most ``MAX_VALUE``. Stored as one JSON
object with sorted keys, so the same labels are the same text (an idempotent start compares
them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legato.core import codec
from legato.errors import ConfigurationError

MAX_LABELS = 32
MAX_KEY = 64
MAX_VALUE = 256


def label_problems(labels: Mapping[Any, Any]) -> list[str]:
    """What is wrong with ``labels``, one sentence each; empty if they are fine."""
    problems = []
    if len(labels) > MAX_LABELS:
        problems.append(f"at most {MAX_LABELS} labels, not {len(labels)}")
    for key, value in dict(labels).items():
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(
                f"label {key!r}: keys and values must be strings, not "
                f"{type(key).__name__} and {type(value).__name__}"
            )
        elif not 0 < len(key) <= MAX_KEY:
            problems.append(f"label key {key[:MAX_KEY]!r}: 1 to {MAX_KEY} characters")
        elif len(value) > MAX_VALUE:
            problems.append(f"label {key!r}: its value is longer than {MAX_VALUE} characters")
    return problems


def encode_labels(labels: Mapping[str, str] | None) -> str | None:
    """The labels as stored (sorted JSON object), None for none; raises
    ``ConfigurationError`` saying what is wrong."""
    if not labels:
        return None
    problems = label_problems(labels)
    if problems:
        raise ConfigurationError("invalid labels: " + "; ".join(problems))
    return codec.dumps(dict(sorted(labels.items())), "labels")


def decode_labels(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    found = codec.loads(text)
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
