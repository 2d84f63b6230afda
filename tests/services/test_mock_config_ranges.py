"""The invocation keys of a mocked response, as properties: any set of non-overlapping ranges
reads back as the response of each invocation it covers, and nothing for the others."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from legato.core.asl.mock_config import MockReturn, parse_mock_config
from legato.errors import InvalidMockConfigError


@st.composite
def ranges(draw: st.DrawFn) -> list[tuple[int, int]]:
    """Sorted, non-overlapping ``(first, last)`` spans with gaps between some of them."""
    spans, at = [], draw(st.integers(0, 3))
    for _ in range(draw(st.integers(1, 6))):
        length = draw(st.integers(0, 4))
        spans.append((at, at + length))
        at += length + 1 + draw(st.integers(0, 2))
    return spans


def key_of(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


@given(ranges(), st.randoms())
def test_each_invocation_gets_the_response_of_its_range(
    spans: list[tuple[int, int]], rnd: Any
) -> None:
    entries = [(key_of(a, b), {"Return": i}) for i, (a, b) in enumerate(spans)]
    rnd.shuffle(entries)  # the file's key order does not matter
    config = parse_mock_config(
        {
            "StateMachines": {"M": {"TestCases": {"T": {"S": "R"}}}},
            "MockedResponses": {"R": dict(entries)},
        }
    )
    mocked = config.require_case("M", "T").states["S"]
    for invocation in range(spans[-1][1] + 3):
        owner = [i for i, (a, b) in enumerate(spans) if a <= invocation <= b]
        expected = MockReturn(owner[0]) if owner else None
        assert mocked.at(invocation) == expected
    assert mocked.invocations == spans[-1][1] + 1


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "StateMachines",
                    "MockedResponses",
                    "TestCases",
                    "M",
                    "T",
                    "S",
                    "R",
                    "0",
                    "1-2",
                    "Return",
                    "Throw",
                    "Error",
                    "Cause",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),  # fmt: skip
    max_leaves=20,
)


@given(JSON_VALUES)
def test_any_json_is_read_or_refused_with_problems_never_a_crash(data: Any) -> None:
    try:
        parse_mock_config(data)
    except InvalidMockConfigError as exc:
        assert exc.problems
        assert all(p.path.startswith("$") and p.rule for p in exc.problems)
