"""Finding the user's ``App`` from ``module``, ``module:attribute``, or a file's path
(``shop.py``, ``./shop.py``, ``apps/shop.py:app``): a path is imported as a module named after
the file, with its folder first on ``sys.path`` (so it imports its neighbours as a script
would)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType

from legato.client import App
from legato.errors import ConfigurationError


def _is_path(name: str) -> bool:
    return name.endswith(".py") or os.sep in name or name.startswith(".")


def load_module(spec: str) -> ModuleType:
    """The module ``spec`` names (before any ``:attribute``), imported once."""
    name = spec.partition(":")[0]
    path: Path | None = None
    if _is_path(name):
        path = Path(name).resolve()
        if not path.is_file():
            raise ConfigurationError(f"no file {name!r} (an app is MODULE, MODULE:NAME or FILE.py)")
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        name = path.stem
    elif os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        if path is None:
            return importlib.import_module(name)
        return _from_file(name, path)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise ConfigurationError(
                f"no module named {name!r} here (in {os.getcwd()}); give its file's path "
                f"(legato dev path/to/{name}.py) or run from the folder that holds it"
            ) from None
        raise ConfigurationError(f"importing {name!r} failed: {exc}") from None
    except Exception as exc:  # the user's code failed: where, in one line
        if isinstance(exc, SyntaxError):
            said = f"{exc.msg} ({Path(exc.filename or '?').name}, line {exc.lineno})"
        else:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            said = f"{exc} ({Path(frame.filename).name}, line {frame.lineno})"
        raise ConfigurationError(
            f"importing {name!r} failed: {type(exc).__name__}: {said}"
        ) from None


def _from_file(name: str, path: Path) -> ModuleType:
    """The file imported as module ``name`` (the file itself, even where a module of that
    name exists elsewhere on the path, the standard library's included)."""
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None) == str(path):
        return loaded
    found = importlib.util.spec_from_file_location(name, path)
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    sys.modules[name] = module  # as an import would: what it imports may import it back
    try:
        found.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_app(spec: str) -> App:
    module = load_module(spec)
    module_name = module.__name__
    attr = spec.rpartition(":")[2] if ":" in spec else ""
    apps = {k: v for k, v in vars(module).items() if isinstance(v, App)}
    if attr:
        if not hasattr(module, attr):
            found = ", ".join(sorted(apps)) or "none"
            raise ConfigurationError(
                f"module {module_name!r} has no attribute {attr!r} (its legato.App objects: "
                f"{found})"
            )
        app = getattr(module, attr)
        if not isinstance(app, App):
            raise ConfigurationError(
                f"{module_name}:{attr} is a {type(app).__name__}, not a legato.App"
            )
        return app
    if len(apps) != 1:
        names = f" ({', '.join(sorted(apps))})" if apps else ""
        raise ConfigurationError(
            f"module {module_name!r} has {len(apps)} legato.App objects{names}; "
            f"name one as {spec}:NAME"
        )
    return next(iter(apps.values()))
