"""Reading definitions from text and files (legato.core.asl.definition, legato.engine.asl_files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.core.asl.definition import parse_definition
from legato.core.asl.validate import Problem
from legato.engine.asl_files import load_definition
from legato.errors import InvalidDefinitionError, LegatoError

EXPECTED = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}

JSON_TEXT = """{
  "StartAt": "Wait",
  "States": {
    "Wait": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "Next": "Done"},
    "Done": {"Type": "Succeed"}
  }
}"""

YAML_TEXT = """\
# YAML is a superset of JSON; timestamps stay strings.
StartAt: Wait
States:
  Wait:
    Type: Wait
    Timestamp: 2016-03-14T01:59:00Z
    Next: Done
  Done:
    Type: Succeed
"""


@pytest.mark.parametrize("text", [JSON_TEXT, YAML_TEXT], ids=["json", "yaml"])
def test_json_and_yaml_give_the_same_definition(text: str) -> None:
    assert parse_definition(text, "machine") == EXPECTED


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ('{\n  "StartAt": "A",\n  "States": {,}\n}', "invalid JSON at line 3, column 14"),
        ('{"StartAt": "A",}', "invalid JSON at line 1, column 17"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ("StartAt: A\nStates: [\n", "invalid YAML at line 3, column 1"),
        ("StartAt: A\n  States: x\n", "invalid YAML at line 2, column 9"),
        ("", "the definition is empty"),
        ("[1, 2]", "must be a JSON object, not list"),
        ("just text", "must be a JSON object, not str"),
        ("a: .nan\n", "nan is not a JSON number"),
        ("1: x\n", "key 1 is not a string"),
        ("a: !!binary aGVsbG8=\n", "a bytes value is not JSON"),
    ],
)
def test_unreadable_text_is_an_invalid_definition(text: str, rule: str) -> None:
    with pytest.raises(InvalidDefinitionError) as raised:
        parse_definition(text, "machine.json")
    assert any(rule in p.rule for p in raised.value.problems), raised.value.problems
    assert "machine.json" in str(raised.value)
    assert isinstance(raised.value, LegatoError)


@pytest.mark.parametrize(("name", "text"), [("m.json", JSON_TEXT), ("m.asl.yaml", YAML_TEXT)])
def test_load_definition_reads_json_and_yaml_files(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert load_definition(path) == EXPECTED


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.yml"
    with pytest.raises(InvalidDefinitionError) as raised:
        load_definition(path)
    assert raised.value.problems == [Problem("$", f"{path}: no such file")]


def test_directory_and_binary_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidDefinitionError, match="is a directory"):
        load_definition(tmp_path)
    binary = tmp_path / "m.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidDefinitionError, match="is not UTF-8 text"):
        load_definition(binary)
