"""Labels are bounded strings, stored as one sorted JSON object."""

from __future__ import annotations

import pytest

from legato.client.labels import MAX_LABELS, decode_labels, encode_labels, label_problems
from legato.errors import ConfigurationError


def test_labels_are_stored_sorted_and_read_back() -> None:
    text = encode_labels({"tier": "gold", "customer": "acme"})
    assert text == '{"customer":"acme","tier":"gold"}'
    assert decode_labels(text) == {"customer": "acme", "tier": "gold"}
    assert encode_labels({}) is None and encode_labels(None) is None
    assert decode_labels(None) == {}


def test_bad_labels_say_what_is_wrong() -> None:
    assert label_problems({"": "x"}) == ["label key '': 1 to 64 characters"]
    assert label_problems({"k": "v" * 300}) == [
        "label 'k': its value is longer than 256 characters"
    ]
    assert label_problems({"k": 1}) == [
        "label 'k': keys and values must be strings, not str and int"
    ]
    too_many = {str(i): "v" for i in range(MAX_LABELS + 1)}
    assert label_problems(too_many) == [f"at most {MAX_LABELS} labels, not {MAX_LABELS + 1}"]
    with pytest.raises(ConfigurationError, match="invalid labels: label key ''"):
        encode_labels({"": "x"})
