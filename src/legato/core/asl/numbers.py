"""Numeric fields whose value is known only at run time: ``SecondsPath``, ``TimeoutSecondsPath``,
``HeartbeatSecondsPath``, ``MaxConcurrencyPath``, ``ToleratedFailureCountPath``,
``ToleratedFailurePercentagePath``, the ItemBatcher's ``MaxItemsPerBatchPath`` and
``MaxInputBytesPerBatchPath``, and their JSONata forms.

As in Step Functions, a numeric string (``"1"``) is read as its number; a value that is not a
number of the field's kind, or is out of its range, fails the state with ``States.Runtime``,
worded as Step Functions words it (``The MaxConcurrencyPath field refers to value "x" which is
not a valid integer: $.x``; ``ToleratedFailurePercentage must be between 0 and 100.``).
"""

from __future__ import annotations

import json
import math

from legato.core.asl.errors import StatesError
from legato.core.error_names import RUNTIME
from legato.core.events import JSON

#: Fields that take any number (a percentage); every other one takes an integer.
_DECIMAL_FIELDS = frozenset({"ToleratedFailurePercentage"})


def _parse(value: JSON, integer: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed: float = int(text) if integer else float(text)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or (integer and not value.is_integer()):
            return None
        return value
    return None


def _shown(value: JSON) -> str:
    """A value as Step Functions quotes it in a cause: a string as is, else its JSON text."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def runtime_number(key: str, value: JSON, source: str) -> float:
    """The number ``value`` gives field ``key`` (``MaxConcurrency``, ``Seconds``...), read from
    ``source`` (the path of ``<key>Path``, or the JSONata expression); ``States.Runtime`` if it
    is not a non-negative number of the field's kind (a percentage at most 100)."""
    integer = key not in _DECIMAL_FIELDS
    number = _parse(value, integer)
    if number is None:
        kind = "integer" if integer else "float"
        raise StatesError(
            RUNTIME,
            f'The {key}Path field refers to value "{_shown(value)}" which is not a valid '
            f"{kind}: {source}",
        )
    if key == "ToleratedFailurePercentage" and not 0 <= number <= 100:
        raise StatesError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
    if number < 0:
        if key == "ToleratedFailureCount":
            raise StatesError(RUNTIME, "ToleratedFailureCount cannot be negative.")
        if key == "Seconds":
            raise StatesError(
                RUNTIME,
                f"The SecondsPath parameter references a negative value: {source} == "
                f"{_shown(value)}",
            )
        raise StatesError(
            RUNTIME, f"Expected non-negative integer for {key}, got '{_shown(value)}' instead."
        )
    return float(number)
