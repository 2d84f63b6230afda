"""The intrinsic functions themselves, each a function of already evaluated arguments.

Implements the developer guide's "Intrinsic functions for JSONPath states" (arrays, encoding and
decoding, hash, JSON manipulation, math, string, UUID and generic operations) and the ASL
specification's "Intrinsic Functions". Bad arguments raise ``StatesError(States.IntrinsicFailure)``
with a cause naming the function and the problem. Randomness comes only from the ``rng``
argument (or, for ``States.MathRandom`` with a seed, from a generator made from that seed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from legato.core.asl.errors import StatesError
from legato.core.asl.selection import json_type
from legato.core.error_names import INTRINSIC_FAILURE
from legato.core.events import JSON

#: Developer guide: Base64Encode/Base64Decode/Hash take "up to 10,000 characters".
MAX_STRING_INPUT: Final = 10_000
#: Developer guide, States.ArrayRange: "The new array can contain up to 1000 elements."
MAX_RANGE_ITEMS: Final = 1000
#: Developer guide, States.MathAdd: "integer values in the range of -2147483648 and 2147483647".
INT32_MIN: Final = -2_147_483_648
INT32_MAX: Final = 2_147_483_647
HASH_ALGORITHMS: Final = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}

#: A placeholder in a States.Format template, as opposed to literal text.
PLACEHOLDER: Final = None
FormatPiece = str | None


def fail(function: str, problem: str) -> StatesError:
    """The error every intrinsic function raises for bad arguments."""
    return StatesError(INTRINSIC_FAILURE, f"{function}: {problem}")


def json_text(value: JSON) -> str:
    """Compact JSON text, as States.JsonToString produces it (and States.Format for a scalar)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _canonical(value: JSON) -> str:
    """A key equal for equal JSON values (1 == 1.0, but true != 1)."""

    def normal(item: JSON) -> JSON:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, list):
            return [normal(x) for x in item]
        if isinstance(item, dict):
            return {k: normal(v) for k, v in item.items()}
        return item

    return json.dumps(normal(value), sort_keys=True, separators=(",", ":"))


def _number(function: str, index: int, value: JSON) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(function, f"argument {index} must be a number, got {json_type(value)} {value!r}")
    return value


def _rounded(function: str, index: int, value: JSON) -> int:
    """Developer guide: "If you specify a non-integer value ... Step Functions will round it off
    to the nearest integer" (halves round up)."""
    number = _number(function, index, value)
    return number if isinstance(number, int) else math.floor(number + 0.5)


def _string(function: str, index: int, value: JSON) -> str:
    if not isinstance(value, str):
        raise fail(function, f"argument {index} must be a string, got {json_type(value)}")
    return value


def _array(function: str, index: int, value: JSON) -> list[JSON]:
    if not isinstance(value, list):
        raise fail(function, f"argument {index} must be an array, got {json_type(value)}")
    return value


def _object(function: str, index: int, value: JSON) -> dict[str, JSON]:
    if not isinstance(value, dict):
        raise fail(function, f"argument {index} must be an object, got {json_type(value)}")
    return value


def _limited(function: str, text: str) -> str:
    if len(text) > MAX_STRING_INPUT:
        raise fail(function, f"input is {len(text)} characters, more than {MAX_STRING_INPUT}")
    return text


def format_text(value: JSON) -> str:
    """How States.Format renders one argument. A string is inserted as it is and a scalar as its
    JSON text; an object or array the way AWS renders it (a Java map or list, not JSON): strings
    unquoted, ``key=value`` pairs and items joined by ``", "``, e.g. ``{Arg1=1, Arg2=[]}``
    (recorded AWS executions of ``States.Format`` with ``{"Arg1": 1, "Arg2": []}``, and with
    ``$$.StateMachine``: ``{Id=arn:aws:states:..., Name=...}``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(format_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={format_text(item)}" for key, item in value.items()) + "}"
    return json_text(value)


def format_string(function: str, pieces: Sequence[FormatPiece], args: Sequence[JSON]) -> str:
    """States.Format: each ``{}`` replaced by the positionally corresponding argument, rendered
    by :func:`format_text`."""
    wanted = sum(1 for piece in pieces if piece is PLACEHOLDER)
    if wanted != len(args):
        raise fail(function, f"the template has {wanted} '{{}}' but {len(args)} values follow")
    values = iter(args)
    out: list[str] = []
    for piece in pieces:
        if piece is PLACEHOLDER:
            value = next(values)
            out.append(format_text(value))
        else:
            out.append(piece)
    return "".join(out)


def string_to_json(function: str, args: Sequence[JSON]) -> JSON:
    """States.StringToJson. An empty or blank string gives ``null``, as AWS's parser does
    (recorded AWS executions of ``States.StringToJson`` on ``""`` and ``" "``)."""
    text = _string(function, 1, args[0])
    if not text.strip():
        return None

    def reject(constant: str) -> JSON:
        raise ValueError(f"{constant} is not JSON")

    try:
        parsed: JSON = json.loads(text, parse_constant=reject)
    except ValueError as exc:
        raise fail(function, f"argument 1 is not a JSON text: {exc}") from None
    return parsed


def json_to_string(function: str, args: Sequence[JSON]) -> JSON:
    return json_text(args[0])


def array(function: str, args: Sequence[JSON]) -> JSON:
    return list(args)


def array_partition(function: str, args: Sequence[JSON]) -> JSON:
    items = _array(function, 1, args[0])
    size = _rounded(function, 2, args[1])
    if size <= 0:
        raise fail(function, f"the chunk size must be a positive integer, got {args[1]!r}")
    return [items[i : i + size] for i in range(0, len(items), size)]


def array_contains(function: str, args: Sequence[JSON]) -> JSON:
    items = _array(function, 1, args[0])
    wanted = _canonical(args[1])
    return any(_canonical(item) == wanted for item in items)


def array_range(function: str, args: Sequence[JSON]) -> JSON:
    start, end, step = (_rounded(function, i + 1, arg) for i, arg in enumerate(args))
    if step == 0:
        raise fail(function, "the step (argument 3) must not be zero")
    span = end - start if step > 0 else start - end
    count = span // abs(step) + 1 if span >= 0 else 0
    if count > MAX_RANGE_ITEMS:
        raise fail(function, f"the range has {count} items, more than {MAX_RANGE_ITEMS}")
    result: list[JSON] = [start + i * step for i in range(count)]
    return result


def array_get_item(function: str, args: Sequence[JSON]) -> JSON:
    items = _array(function, 1, args[0])
    index = _number(function, 2, args[1])
    if isinstance(index, float):
        if not index.is_integer():
            raise fail(function, f"the index must be an integer, got {index!r}")
        index = int(index)
    if not 0 <= index < len(items):
        raise fail(function, f"index {index} is out of range for an array of length {len(items)}")
    return items[index]


def array_length(function: str, args: Sequence[JSON]) -> JSON:
    return len(_array(function, 1, args[0]))


def array_unique(function: str, args: Sequence[JSON]) -> JSON:
    seen: set[str] = set()
    out: list[JSON] = []
    for item in _array(function, 1, args[0]):
        key = _canonical(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def base64_encode(function: str, args: Sequence[JSON]) -> JSON:
    text = _limited(function, _string(function, 1, args[0]))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def base64_decode(function: str, args: Sequence[JSON]) -> JSON:
    text = _limited(function, _string(function, 1, args[0]))
    try:
        return base64.b64decode(text.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError) as exc:
        raise fail(function, f"argument 1 is not Base64 of UTF-8 text: {exc}") from None


def hash_(function: str, args: Sequence[JSON]) -> JSON:
    data = _limited(function, _string(function, 1, args[0]))
    algorithm = _string(function, 2, args[1])
    if algorithm not in HASH_ALGORITHMS:
        raise fail(
            function,
            f"unknown algorithm {algorithm!r}: expected one of {', '.join(HASH_ALGORITHMS)}",
        )
    digest = hashlib.new(HASH_ALGORITHMS[algorithm], usedforsecurity=False)
    digest.update(data.encode("utf-8"))
    return digest.hexdigest()


def json_merge(function: str, args: Sequence[JSON]) -> JSON:
    first = _object(function, 1, args[0])
    second = _object(function, 2, args[1])
    deep = args[2]
    if not isinstance(deep, bool):
        raise fail(function, f"argument 3 (deep merge) must be a boolean, got {json_type(deep)}")
    if deep:
        raise fail(function, "deep merging is not supported; argument 3 must be false")
    return {**first, **second}


def math_random(function: str, args: Sequence[JSON], rng: random.Random | None) -> JSON:
    start = _rounded(function, 1, args[0])
    end = _rounded(function, 2, args[1])
    if start >= end:
        raise fail(function, f"the start ({start}) must be less than the end ({end})")
    if len(args) == 3:
        rng = random.Random(_rounded(function, 3, args[2]))
    if rng is None:
        raise fail(function, "needs a random source")
    return rng.randrange(start, end)


def math_add(function: str, args: Sequence[JSON]) -> JSON:
    total = 0
    for index, arg in enumerate(args, start=1):
        value = _rounded(function, index, arg)
        if not INT32_MIN <= value <= INT32_MAX:
            raise fail(function, f"argument {index} ({value}) is outside {INT32_MIN}..{INT32_MAX}")
        total += value
    return total


def string_split(function: str, args: Sequence[JSON]) -> JSON:
    text = _string(function, 1, args[0])
    delimiters = frozenset(_string(function, 2, args[1]))
    tokens: list[JSON] = []
    current: list[str] = []
    for char in text:
        if char in delimiters:
            if current:
                tokens.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def uuid4(function: str, args: Sequence[JSON], rng: random.Random | None) -> JSON:
    if rng is None:
        raise fail(function, "needs a random source")
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


Plain = Callable[[str, Sequence[JSON]], JSON]
RandomFn = Callable[[str, Sequence[JSON], random.Random | None], JSON]


@dataclass(frozen=True, slots=True)
class Signature:
    """How many arguments a function takes, and its implementation."""

    min_args: int
    max_args: int | None
    plain: Plain | None = None
    seeded: RandomFn | None = None


#: Every intrinsic function of the developer guide, keyed by name without ``States.``.
#: ``Format`` is evaluated by the caller (it needs the template's escapes).
FUNCTIONS: Final[dict[str, Signature]] = {
    "Format": Signature(1, None),
    "StringToJson": Signature(1, 1, string_to_json),
    "JsonToString": Signature(1, 1, json_to_string),
    "Array": Signature(0, None, array),
    "ArrayPartition": Signature(2, 2, array_partition),
    "ArrayContains": Signature(2, 2, array_contains),
    "ArrayRange": Signature(3, 3, array_range),
    "ArrayGetItem": Signature(2, 2, array_get_item),
    "ArrayLength": Signature(1, 1, array_length),
    "ArrayUnique": Signature(1, 1, array_unique),
    "Base64Encode": Signature(1, 1, base64_encode),
    "Base64Decode": Signature(1, 1, base64_decode),
    "Hash": Signature(2, 2, hash_),
    "JsonMerge": Signature(3, 3, json_merge),
    "MathRandom": Signature(2, 3, seeded=math_random),
    "MathAdd": Signature(2, 2, math_add),
    "StringSplit": Signature(2, 2, string_split),
    "UUID": Signature(0, 0, seeded=uuid4),
}


def arity_problem(name: str, count: int) -> str | None:
    """What is wrong with calling ``States.<name>`` with ``count`` arguments, if anything."""
    signature = FUNCTIONS[name]
    if signature.max_args is None:
        if count < signature.min_args:
            return f"States.{name} takes at least {signature.min_args} argument(s), got {count}"
        return None
    if not signature.min_args <= count <= signature.max_args:
        wanted = (
            str(signature.min_args)
            if signature.min_args == signature.max_args
            else f"{signature.min_args} to {signature.max_args}"
        )
        return f"States.{name} takes {wanted} argument(s), got {count}"
    return None
