"""JSONata in JSONata states (AWS Step Functions developer guide).

Implements, from "Transforming data with JSONata in Step Functions": "Writing JSONata
expressions in JSON strings" (``{% %}`` strings, at any depth in objects and arrays, keys
literal); "Reserved variable: $states" (``input``, ``result``, ``errorOutput``, ``context``);
"Handling expression errors" (every failure, and an undefined result, is
``States.QueryEvaluationError``); "JSONata functions provided by Step Functions" (``$partition``,
``$range``, ``$hash``, ``$random``, ``$uuid``, ``$parse``; no ``$eval``; integer parameters
rounded down). From "Passing data between states with variables": "Evaluation order in an assign
field". From "Choice workflow state": "Choice Rules (JSONata)" (``Condition`` is true/false).

The core is pure: ``$random()``, ``$uuid()`` and JSONata's ``$shuffle()`` draw from the ``rng``
argument, ``$now()`` and ``$millis()`` read the state's entry time from ``$states.context``, and
a runaway expression is stopped by a fixed budget of evaluation steps instead of the guide's
one-second timeout.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal, Protocol, overload

import jsonata  # type: ignore[import-untyped]

from legato.core.asl.errors import StatesError
from legato.core.durations import epoch_ms
from legato.core.error_names import QUERY_EVALUATION_ERROR
from legato.core.events import JSON

_NULL: object = jsonata.Utils.NULL_VALUE
#: Evaluation steps (AST nodes visited) one expression may take: a deterministic stand-in for
#: the guide's "Expression evaluation timeout" of one second.
MAX_STEPS = 250_000
#: ``$range`` keeps the limit of ``States.ArrayRange``, the intrinsic it replaces.
MAX_RANGE_ITEMS = 1_000
_HASHES = {
    name: name.replace("-", "").lower()
    for name in ("MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512")
}
_SAFE_INTEGER = 2**53


class _QueryFailure(jsonata.JException):  # type: ignore[misc]
    """A failure of an added function, the step budget or the result, with its message.

    A ``JException``, as the library turns others raised under ``and``/``or`` into "Unexpected".
    """

    def __init__(self, message: str) -> None:
        RuntimeError.__init__(self, message)  # JException's own would look up an error code
        self.error: str | None = None
        self.location, self.current, self.expected, self.extra = 0, None, None, None


def is_expression(value: JSON) -> bool:
    """Whether ``value`` is a JSONata expression ("Writing JSONata expressions in JSON strings").

    The guide: "the string must start with ``{%`` with no leading spaces, and must end with
    ``%}`` with no trailing spaces"; a string with surrounding whitespace is not an expression.
    """
    return isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}"


def check_syntax(expression_text: str) -> str | None:
    """None if ``"{% ... %}"`` is well delimited and compiles, else a message for the validator."""
    if not is_expression(expression_text):
        return "a JSONata expression must start with '{%' and end with '%}', without whitespace"
    try:
        _compile(expression_text[2:-2], threading.get_ident())
    except Exception as exc:  # the parser raises JException, and plain errors on odd input
        return _message(exc)
    return None


def evaluate_template(
    template: JSON,
    states: JSON,
    variables: Mapping[str, JSON],
    *,
    field: str,
    rng: random.Random | None = None,
) -> JSON:
    """Evaluate every ``{% %}`` string in ``template`` (Arguments, Output, Items, ...).

    Objects and arrays are walked (values only, keys are literal), other values are returned as
    they are ("JSON Objects", "Arguments and Output Fields"). ``states`` is bound to ``$states``
    and every variable to ``$name``. ``field`` names the template in error causes; nested values
    extend it (``Arguments.user``, ``Items[1]``). The template is never mutated.
    """
    return _Scope(states, variables, rng).template(template, field)


def evaluate_condition(
    expression: JSON,
    states: JSON,
    variables: Mapping[str, JSON],
    *,
    field: str,
    rng: random.Random | None = None,
) -> bool:
    """A Choice rule's ``Condition`` ("Choice Rules (JSONata)": it evaluates to true/false).

    A literal ``true`` or ``false`` is its own value: AWS accepts a JSON boolean there as well
    as a ``{% %}`` expression (and validation allows it). Any other result, undefined
    included, is ``States.QueryEvaluationError``.
    """
    if isinstance(expression, bool):
        return expression
    if not isinstance(expression, str) or not is_expression(expression):
        raise StatesError(QUERY_EVALUATION_ERROR, f"'{field}' is not a JSONata expression")
    result = _Scope(states, variables, rng).evaluate(expression, field)
    if not isinstance(result, bool):
        raise _error(expression, field, f"returned {_describe(result)}, not a boolean.")
    return result


def evaluate_assign(
    block: JSON,
    states: JSON,
    variables: Mapping[str, JSON],
    *,
    field: str = "Assign",
    rng: random.Random | None = None,
) -> dict[str, JSON]:
    """The new bindings of an ``Assign`` block ("Evaluation order in an assign field").

    "All expressions are evaluated first, then assignments are made": every value is evaluated
    against ``variables`` as given, so one assignment never sees another of the same block.
    """
    result = _Scope(states, variables, rng).template(block, field)
    if not isinstance(result, dict):
        raise StatesError(QUERY_EVALUATION_ERROR, f"'{field}' must be an object of variables")
    return result


def evaluate_on(expression: str, focus: JSON, *, field: str) -> tuple[bool, JSON]:
    """A plain JSONata expression (no ``{% %}``) over ``focus`` as its input (``$``): used by
    event subscriptions, whose filter and transform read the event itself. Returns
    ``(False, None)`` when the result is undefined (a path to nothing), else ``(True, value)``;
    a failure raises ``States.QueryEvaluationError`` naming ``field``. Same functions and step
    budget as a state's expressions; no ``$states``, no random source."""
    scope = getattr(_PLAIN, "scope", None)
    if scope is None:  # its frame of functions is built once per thread, not per event
        scope = _PLAIN.scope = _Scope(None, {}, None)
    return scope.evaluate("{%" + expression + "%}", field, focus, True)


_PLAIN = threading.local()


class _Compiled(Protocol):
    """The part of ``jsonata.Jsonata`` used here: the parsed tree and its evaluator."""

    ast: object

    def eval(self, expr: object, input: object, environment: object) -> object: ...


@functools.lru_cache(maxsize=4096)
def _compile(text: str, thread: int) -> _Compiled:
    """The parsed expression; one per thread, as the library keeps evaluation state on it."""
    previous = getattr(jsonata.Jsonata.CURRENT, "jsonata", None)
    try:  # the constructor makes itself the thread's current instance; keep the old one
        compiled: _Compiled = jsonata.Jsonata(text)
        return compiled
    finally:
        if previous is not None:
            jsonata.Jsonata.CURRENT.jsonata = previous


class _Scope:
    """One evaluate_* call: ``$states``, the variables and the per-call functions.

    The frame is built on the first expression, so a template without one costs nothing; each
    expression then gets a child frame of its own (for its ``:=`` bindings and step budget).
    """

    def __init__(
        self, states: JSON, variables: Mapping[str, JSON], rng: random.Random | None
    ) -> None:
        self._states = states
        self._variables = variables
        self._rng = rng
        self._frame: object = None

    def template(self, value: JSON, field: str) -> JSON:
        if isinstance(value, str):
            return self.evaluate(value, field) if is_expression(value) else value
        if isinstance(value, dict):
            # nested fields as Step Functions names them: 'Assign/result'
            return {key: self.template(item, f"{field}/{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [self.template(item, f"{field}[{i}]") for i, item in enumerate(value)]
        return value

    @overload
    def evaluate(self, expression: str, field: str) -> JSON: ...

    @overload
    def evaluate(
        self, expression: str, field: str, focus: JSON, undefined_ok: Literal[True]
    ) -> tuple[bool, JSON]: ...

    def evaluate(
        self, expression: str, field: str, focus: JSON = None, undefined_ok: bool = False
    ) -> JSON | tuple[bool, JSON]:
        current = jsonata.Jsonata.CURRENT
        previous = getattr(current, "jsonata", None)
        try:
            runner = _compile(expression[2:-2], threading.get_ident())
            current.jsonata = runner  # the library evaluates on the thread's current instance
            frame = jsonata.Jsonata.Frame(self._shared())
            # the library looks both hooks up at every step; a None here ends the search early
            frame.bindings.update(__evaluate_entry=_Budget(), __evaluate_exit=None)
            given = _from_json(focus)
            if focus is not None:
                frame.bindings["$"] = given
            raw: object = runner.eval(runner.ast, None if focus is None else given, frame)
            if undefined_ok:
                return (False, None) if raw is None else (True, _to_json(raw))
            if raw is None:
                raise _error(expression, field, "returned nothing (undefined).")
            return _to_json(raw)
        except StatesError:
            raise
        except Exception as exc:  # the library raises JException and plain Python errors
            raise _error(expression, field, f"could not be evaluated: {_message(exc)}") from exc
        finally:
            if previous is not None:
                current.jsonata = previous

    def _shared(self) -> object:
        if self._frame is None:
            frame = jsonata.Jsonata.Frame(jsonata.Jsonata.static_frame)
            bindings = frame.bindings
            bindings.update(_BUILTINS)
            for name in ("random", "uuid", "shuffle", "now", "millis"):  # need this call's data
                bindings[name] = jsonata.Jsonata.JLambda(getattr(self, f"_{name}"))
            for name, value in self._variables.items():  # variables shadow functions
                bindings[name] = _NULL if value is None else value
            bindings["states"] = _NULL if self._states is None else self._states
            self._frame = frame
        return self._frame

    def _source(self, function: str) -> random.Random:
        if self._rng is None:
            raise _QueryFailure(f"{function} needs a random source, and none was given")
        return self._rng

    def _random(self, seed: object = None) -> float:
        """``$random([seed])``: 0 <= n < 1; "with the same seed value, an identical number"."""
        if seed is None or seed is _NULL:
            return self._source("$random()").random()
        return random.Random(_integer(seed, "$random: the seed")).random()

    def _uuid(self) -> str:
        """``$uuid()``: a version 4 UUID, drawn from the deterministic source."""
        return str(uuid.UUID(int=self._source("$uuid()").getrandbits(128), version=4))

    def _shuffle(self, array: object = None) -> object:
        """JSONata's ``$shuffle``, drawing from the deterministic source."""
        if array is None:
            return None
        items = [item for item in array] if isinstance(array, list) else [array]
        self._source("$shuffle()").shuffle(items)
        return items

    def _millis(self) -> int:
        """``$millis()``: the state's entry time (or the execution's start) in epoch ms."""
        context = self._states.get("context") if isinstance(self._states, dict) else None
        for section, key in (("State", "EnteredTime"), ("Execution", "StartTime")):
            part = context.get(section) if isinstance(context, dict) else None
            stamp = part.get(key) if isinstance(part, dict) else None
            if isinstance(stamp, str):
                try:
                    moment = datetime.fromisoformat(stamp)
                except ValueError:
                    raise _QueryFailure(
                        f"$states.context.{section}.{key} is not ISO 8601: {stamp!r}"
                    ) from None
                moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                return epoch_ms(moment)
        raise _QueryFailure("$now() and $millis() need $states.context.State.EnteredTime")

    def _now(self, picture: object = None, timezone: object = None) -> str:
        """``$now([picture [, timezone]])``: ``$millis()`` formatted as JSONata's ``$now``."""
        options = (value if isinstance(value, str) else None for value in (picture, timezone))
        text: str = jsonata.Functions.datetime_from_millis(self._millis(), *options)
        return text


class _Budget:
    """The library's entry hook, called once per AST node visited: counts the steps."""

    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_STEPS

    def __call__(self, expr: object, focus: object, environment: object) -> None:
        self.left -= 1
        if self.left < 0:
            raise _QueryFailure(f"Expression evaluation timeout (more than {MAX_STEPS} steps)")


def _integer(value: object, what: str) -> int:
    """An integer parameter: "non-integer numbers provided" are rounded down (guide note)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _QueryFailure(f"{what} must be a number, not {_describe(value)}")
    return math.floor(value)


def _partition(array: object = None, size: object = None) -> list[list[object]]:
    """``$partition(array, size)``, as ``States.ArrayPartition``: chunks of ``size`` items."""
    if not isinstance(array, list):
        raise _QueryFailure(
            f"$partition: the first argument must be an array, not {_describe(array)}"
        )
    chunk = _integer(size, "$partition: the chunk size")
    if chunk < 1:
        raise _QueryFailure(f"$partition: the chunk size must be positive, not {chunk}")
    items = [item for item in array]  # iterate: the library's RangeList misreports its length
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def _range(start: object = None, end: object = None, step: object = None) -> list[object]:
    """``$range(start, end, step)``, as ``States.ArrayRange``: start to end (inclusive).

    The result is a JSONata sequence, not an array: as JSONata's processing model says ("A
    singleton sequence ... is considered equivalent to that value itself"; "An empty sequence
    ... is considered to be 'nothing'"), ``$range(1, 9, 9)`` is ``1`` and ``[$range(1, 9, 9)]``
    is ``[1]``, as on AWS."""
    first = _integer(start, "$range: the start")
    last = _integer(end, "$range: the end")
    delta = _integer(step, "$range: the step")
    if delta == 0:
        raise _QueryFailure("$range: the step must not be 0")
    values = range(first, last + (1 if delta > 0 else -1), delta)
    if len(values) > MAX_RANGE_ITEMS:
        raise _QueryFailure(f"$range: more than {MAX_RANGE_ITEMS} items ({len(values)})")
    sequence: list[object] = jsonata.utils.Utils.create_sequence()
    sequence.extend(values)
    return sequence


def _hash(data: object = None, algorithm: object = None) -> str:
    """``$hash(data, algorithm)``, as ``States.Hash``: the hex digest of a string."""
    if not isinstance(data, str):
        raise _QueryFailure(f"$hash: the data must be a string, not {_describe(data)}")
    name = _HASHES.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        raise _QueryFailure(
            f"$hash: the algorithm must be one of {', '.join(_HASHES)}, not {_describe(algorithm)}"
        )
    return hashlib.new(name, data.encode()).hexdigest()


def _parse(text: object = None) -> object:
    """``$parse(jsonString)``: the JSON value a string holds (the supported ``$eval``)."""
    if not isinstance(text, str):
        raise _QueryFailure(f"$parse: the argument must be a string, not {_describe(text)}")
    try:
        value: object = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise _QueryFailure(f"$parse: not valid JSON: {exc}") from None
    return _NULL if value is None else value


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _no_eval(*_: object) -> object:
    raise _QueryFailure("$eval is not supported in Step Functions; use $parse")


_FUNCTIONS = dict(partition=_partition, range=_range, hash=_hash, parse=_parse, eval=_no_eval)
_BUILTINS = {name: jsonata.Jsonata.JLambda(function) for name, function in _FUNCTIONS.items()}


def _from_json(value: JSON) -> object:
    """A JSON value as the library's input: a JSON null is its null, not undefined."""
    if value is None:
        return _NULL
    if isinstance(value, dict):
        return {key: _from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value


def _to_json(value: object) -> JSON:
    """A library value as plain JSON; whole floats become ints, as JSON numbers print in JS."""
    if value is None or value is _NULL:
        return None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < _SAFE_INTEGER else value
    if isinstance(value, dict):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]  # iterate (see _partition), never index
    raise _QueryFailure("the result is a function, not a JSON value")


def _error(expression: str, field: str, what: str) -> StatesError:
    text = expression[2:-2].strip()
    return StatesError(
        QUERY_EVALUATION_ERROR,
        f"The JSONata expression '{text}' specified for the field '{field}' {what}",
    )


def _message(exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:  # the library may have wrapped it (see _QueryFailure)
        if isinstance(cause, RecursionError):
            return "Stack overflow error"
        cause = cause.__context__
    code = getattr(exc, "error", None)
    text = str(exc) or type(exc).__name__
    return f"{code}: {text}" if isinstance(code, str) and not text.startswith(code) else text


def _describe(value: object) -> str:
    """A value for a message: its JSON text, shortened."""
    if value is None:
        return "undefined"
    try:
        return json.dumps(_to_json(value), ensure_ascii=False)[:80]
    except _QueryFailure:
        return "a function"
