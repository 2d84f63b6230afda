"""``legato run FILE --mock-config PATH --test-case NAME``: the run's mocked Task states
(``--test-case`` alone: another test case of the configuration the ``--app`` uses).

Mocks are applied by the engine that runs the execution, so a mocked run always runs in this
process (as ``--wait`` does) and never on ``--server`` (a server's executions use its own app's
mocks, ``App.use_mocks``). The run's name: ``--name``, else the file's name if the
configuration has a state machine of that name, else the one state machine that has the test
case; the test case is checked against the file's Task states first.
"""

from __future__ import annotations

from pathlib import Path

from legato.client import App
from legato.core.asl.mock_config import MockConfig
from legato.core.events import JSON
from legato.engine.statemachine.mocking import load_mock_config, mock_setting, mocked_machine
from legato.errors import LegatoError


def check_mock_options(mock_config: Path | None, test_case: str | None, server: str | None) -> bool:
    """Whether the run is mocked; an error for options that do not go together."""
    if mock_config is None and test_case is None:
        return False
    if test_case is None:
        raise LegatoError(
            "--mock-config needs --test-case: the test case of the mock configuration to run"
        )
    if server:
        raise LegatoError(
            "--mock-config runs the execution here; with --server the server runs it with its "
            "own app's mocks (App.use_mocks)"
        )
    return True


def use_mocks(
    app: App,
    definition: dict[str, JSON],
    name: str | None,
    file_name: str,
    mock_config: Path | None,
    test_case: str,
) -> str:
    """Set ``app``'s mocks: ``--mock-config``'s file, or without it the configuration the
    app uses already (``App.use_mocks`` in ``--app``) with another test case. The name the
    file runs under."""
    if mock_config is not None:
        mocks: MockConfig = load_mock_config(mock_config)
    elif app.machines.mocks is not None:
        mocks = app.machines.mocks.config
    else:
        raise LegatoError(
            "--test-case needs a mock configuration: --mock-config FILE, or an --app that "
            "calls app.use_mocks(...)"
        )
    setting = mock_setting(mocks, test_case)
    assert setting is not None
    machine = mocked_machine(setting, definition, name, file_name)
    app.use_mocks(setting.config, test_case)
    return machine
