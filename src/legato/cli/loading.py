"""Finding the user's ``App`` from ``module`` or ``module:attribute``."""

from __future__ import annotations

import importlib
import os
import sys

from legato.client import App
from legato.errors import ConfigurationError


def load_app(spec: str) -> App:
    module_name, _, attr = spec.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"cannot import app module {module_name!r}: {exc}") from exc
    if attr:
        app = getattr(module, attr, None)
        if not isinstance(app, App):
            raise ConfigurationError(f"{spec!r} is not a legato.App")
        return app
    apps = [v for v in vars(module).values() if isinstance(v, App)]
    if len(apps) != 1:
        raise ConfigurationError(
            f"module {module_name!r} has {len(apps)} legato.App objects; "
            f"name one as {module_name}:NAME"
        )
    return apps[0]
