"""Path spellings found in real Step Functions definitions, read as Step Functions reads them.

Developer guide, "Paths" (https://docs.aws.amazon.com/step-functions/latest/dg/
amazon-states-language-paths.html): "Paths follow JsonPath syntax", the link naming Jayway
JsonPath (https://github.com/json-path/JsonPath), whose ``PathCompiler.compile`` trims the path
and accepts a dot before a bracket and a wildcard straight after a bracket.
"""

from __future__ import annotations

import pytest

from legato.testing import run_state_machine
from tests.statemachine.machines import chain, single


@pytest.mark.parametrize(
    "path",
    ["$$.Execution.Name ", " $$.Execution.Name", "\t$$.Execution.Name \n"],
    ids=["trailing", "leading", "both"],
)
async def test_whitespace_around_a_context_path_is_ignored(path: str) -> None:
    """An aws-samples definition has ``"$$.Execution.Name "`` (a trailing space) in its
    Parameters; on AWS it selects the execution's name, the single node a reference path
    identifies (developer guide, "Paths", "Reference Paths"), not a one-item list: Jayway's
    compiler trims the path before reading it (``CharacterIndex.trim()`` in
    ``PathCompiler.compile``)."""
    r = await run_state_machine(single({"Type": "Pass", "Parameters": {"name.$": path}}), {})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == {"name": r.execution_id}


async def test_whitespace_around_data_paths_is_ignored() -> None:
    """The same trimming for every path field (developer guide, "Paths": InputPath, ItemsPath,
    a Choice rule's Variable, ResultPath and OutputPath all hold JsonPath paths)."""
    definition = chain(
        ("In", {"Type": "Pass", "InputPath": " $.order ", "ResultPath": "$.copy "}),
        (
            "Pick",
            {
                "Type": "Choice",
                "Choices": [{"Variable": " $.copy.total", "NumericGreaterThan": 10, "Next": "Out"}],
                "Default": "Out",
            },
        ),
        ("Out", {"Type": "Pass", "OutputPath": "$.copy.items "}),
    )
    r = await run_state_machine(definition, {"order": {"total": 12, "items": [1, 2]}})
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output == [1, 2]


@pytest.mark.parametrize(
    ("path", "same_as"),
    [
        ("$.allFolders.[*]*", "$.allFolders.[*].*"),
        ("$.allFolders[*]*", "$.allFolders[*].*"),
        ("$.[?(@.OU > 0)]", "$[?(@.OU > 0)]"),
        ("$.['ou'].[0]", "$['ou'][0]"),
    ],
)
async def test_jayway_spellings_validate_and_select(path: str, same_as: str) -> None:
    """``$.allFolders.[*]*`` (in a production definition) and ``$.[?(@.OU > 0)]`` are valid on
    AWS: Jayway's ``readDotToken`` lets a bracket follow a dot and ``readWildCardToken`` reads
    a ``*`` after a bracket, so they mean ``$.allFolders[*].*`` and ``$[?(@.OU > 0)]``.
    Developer guide, "Paths": ``$.jar[?(@.a >= 5)] => [{"a": 5}, {"a": 7}]``, a filter
    selecting the matching array elements."""
    data = {"allFolders": [["f1", "f2"], ["f3"]], "ou": [{"OU": 1}, {"OU": 0}, {"OU": 5}]}
    machine = single({"Type": "Pass", "Parameters": {"a.$": path, "b.$": same_as}})
    given: object = data["ou"] if "OU" in path else data
    r = await run_state_machine(machine, given)
    assert r.status == "COMPLETED", (r.error, r.cause)
    assert r.output["a"] == r.output["b"]
    expected = {
        "$.allFolders.[*]*": ["f1", "f2", "f3"],
        "$.allFolders[*]*": ["f1", "f2", "f3"],
        "$.[?(@.OU > 0)]": [{"OU": 1}, {"OU": 5}],
        "$.['ou'].[0]": {"OU": 1},
    }
    assert r.output["a"] == expected[path]
