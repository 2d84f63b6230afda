"""State machine definitions read from files (``.json``, ``.yaml``, ``.yml``).

The core parses and validates text; reading the file is the shell's job, so it lives here.
"""

from __future__ import annotations

from pathlib import Path

from legato.core.asl.definition import JSON, parse_definition
from legato.core.asl.validate import Problem
from legato.errors import InvalidDefinitionError


def load_definition(path: Path) -> dict[str, JSON]:
    """The definition in the file at ``path``; :class:`InvalidDefinitionError` when the file
    cannot be read or does not hold a JSON/YAML object."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _unreadable(path, "no such file") from None
    except IsADirectoryError:
        raise _unreadable(path, "is a directory, not a definition file") from None
    except UnicodeDecodeError as exc:
        raise _unreadable(path, f"is not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise _unreadable(path, f"cannot be read: {exc.strerror or exc}") from None
    return parse_definition(text, str(path))


def _unreadable(path: Path, why: str) -> InvalidDefinitionError:
    return InvalidDefinitionError([Problem("$", f"{path}: {why}")], str(path))
