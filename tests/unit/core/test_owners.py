"""Owner ids (legato.core.owners): made once per process run, read back for the host, the
process id and the role."""

from __future__ import annotations

import pytest

from legato.core.owners import host_of, owner_id, pid_of, role_of


def test_an_owner_id_names_its_role_host_and_process() -> None:
    owner = owner_id("engine", "box-1.example", 4242, "abcd1234")
    assert owner == "engine:box-1.example:4242:abcd1234"
    assert (role_of(owner), host_of(owner), pid_of(owner)) == ("engine", "box-1.example", 4242)


@pytest.mark.parametrize("other", ["me", "r1", "a:b", "engine:host:pid:nonce:more", ""])
def test_ids_of_another_form_name_no_host_or_process(other: str) -> None:
    assert host_of(other) is None and role_of(other) == "owner"
    assert pid_of(other) is None
