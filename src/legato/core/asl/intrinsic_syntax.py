"""The syntax of intrinsic function calls: a small parser and its typed AST.

Implements the ASL specification, "Intrinsic Functions", and the developer guide's "Intrinsic
functions for JSONPath states": a call is ``States.Name(arg, ...)`` whose arguments are string
literals in single quotes, numbers, ``true``/``false``/``null``, Paths (``$...``, ``$$...``,
``$var...``) and nested calls. In a string literal the reserved characters ``' { } \\`` are
escaped with a backslash ("Reserved characters in intrinsic functions"); any other backslash is
an error. At most 10 intrinsic functions may be nested within a field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, TypeAlias

from legato.core.events import JSON

#: Developer guide, "Intrinsic functions": "You can nest up to 10 intrinsic functions within a
#: field" (their nine-function example counts every call).
MAX_CALLS: Final = 10

_NAME: Final = re.compile(r"States\.([A-Za-z][A-Za-z0-9]*)\s*\(")
_NUMBER: Final = re.compile(r"-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")
_KEYWORDS: Final[dict[str, JSON]] = {"true": True, "false": False, "null": None}
_ESCAPABLE: Final = frozenset("'{}\\")


class IntrinsicSyntaxError(ValueError):
    """An intrinsic function call that does not parse; the message says where and what."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.position = position


@dataclass(frozen=True, slots=True)
class Constant:
    """A number, ``true``, ``false`` or ``null`` argument."""

    value: JSON


@dataclass(frozen=True, slots=True)
class StringLiteral:
    """A quoted string argument: its value, and the source text between the quotes.

    ``raw`` keeps the escapes so that ``States.Format`` can tell an escaped ``\\{\\}`` (literal
    braces) from a ``{}`` placeholder.
    """

    value: str
    raw: str


@dataclass(frozen=True, slots=True)
class PathArg:
    """A Path argument, evaluated against the data, the Context object or a variable."""

    path: str
    position: int


@dataclass(frozen=True, slots=True)
class Call:
    """``States.<name>(args)``; ``name`` is without the ``States.`` prefix."""

    name: str
    args: tuple[Arg, ...]
    position: int

    @property
    def qualified_name(self) -> str:
        return f"States.{self.name}"


Arg: TypeAlias = Constant | StringLiteral | PathArg | Call


def is_intrinsic(text: str) -> bool:
    """True if ``text`` looks like an intrinsic function call (``States.Name(...)``)."""
    stripped = text.strip()
    return _NAME.match(stripped) is not None and stripped.endswith(")")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.calls = 0

    def fail(self, message: str, position: int | None = None) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(message, self.pos if position is None else position)

    def skip_blanks(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def call(self) -> Call:
        start = self.pos
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected an intrinsic function call 'States.<Name>('")
        self.calls += 1
        if self.calls > MAX_CALLS:
            raise self.fail(f"more than {MAX_CALLS} intrinsic functions in one field", start)
        self.pos = match.end()
        args: list[Arg] = []
        self.skip_blanks()
        if self.peek() == ")":
            self.pos += 1
            return Call(match.group(1), (), start)
        while True:
            self.skip_blanks()
            args.append(self.argument())
            self.skip_blanks()
            char = self.peek()
            if char == ",":
                self.pos += 1
            elif char == ")":
                self.pos += 1
                return Call(match.group(1), tuple(args), start)
            elif char == "":
                raise self.fail(f"unterminated call to States.{match.group(1)}: expected ')'")
            else:
                raise self.fail(f"expected ',' or ')' but found {char!r}")

    def argument(self) -> Arg:
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call()
        number = _NUMBER.match(self.text, self.pos)
        if number is not None:
            self.pos = number.end()
            is_float = number.group(1) is not None or number.group(2) is not None
            return Constant(float(number.group()) if is_float else int(number.group()))
        for word, value in _KEYWORDS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Constant(value)
        if char in ("", ")", ","):
            raise self.fail("expected an argument")
        raise self.fail(
            f"unexpected {char!r}: expected a string, number, boolean, null, "
            "Path or intrinsic function"
        )

    def string(self) -> StringLiteral:
        start = self.pos
        self.pos += 1
        value: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in _ESCAPABLE or escaped == "":
                    raise self.fail("open escape backslash: only \\' \\{ \\} and \\\\ are allowed")
                value.append(escaped)
                self.pos += 2
            elif char == "'":
                self.pos += 1
                return StringLiteral("".join(value), self.text[start + 1 : self.pos - 1])
            else:
                value.append(char)
                self.pos += 1
        raise self.fail("unterminated string literal", start)

    def path(self) -> PathArg:
        start = self.pos
        depth = 0
        quote = ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif char in "'\"":
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.pos += 1
        if quote:
            raise self.fail("unterminated quoted name in Path", start)
        return PathArg(self.text[start : self.pos].rstrip(), start)


def parse(text: str) -> Call:
    """Parse an intrinsic function call; raise ``IntrinsicSyntaxError`` saying where and what."""
    parser = _Parser(text)
    parser.skip_blanks()
    call = parser.call()
    parser.skip_blanks()
    if parser.pos != len(text):
        raise parser.fail(f"unexpected {text[parser.pos]!r} after the call")
    return call
