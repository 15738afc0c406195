"""Collections and keys: names, the OPS_API_KEYS form other tools rely on, public access."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from ops_search.access import ADMIN, Access, check_collection, parse_collections, parse_keys
from ops_search.config import Settings


@pytest.mark.parametrize("name", ["offentlig", "intern", "kkr-sjaelland", "a", "2024_b", "x" * 40])
def test_good_collection_names_pass(name):
    assert check_collection(name) == name


@pytest.mark.parametrize("name", ["", "Intern", "-a", "_a", "a b", "æble", "a/b", "x" * 41])
def test_bad_collection_names_are_refused_saying_what_a_name_is(name):
    with pytest.raises(ValueError, match="not a collection name: use 1 to 40 lowercase"):
        check_collection(name)


def test_keys_carry_their_rights():
    keys = parse_keys(" bare , chef:admin , team:read=offentlig+intern ,, ")
    assert keys == {
        "bare": ADMIN,  # a bare key keeps its old meaning: admin
        "chef": ADMIN,
        "team": Access(collections=frozenset({"offentlig", "intern"})),
    }
    assert keys["team"].allows("intern") and not keys["team"].allows("fortrolig")
    assert not keys["team"].write and keys["bare"].write and keys["bare"].sees_all


def test_a_key_may_hold_a_colon():
    assert parse_keys("a:b:read=offentlig") == {"a:b": Access(frozenset({"offentlig"}))}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("k:raed=offentlig", "entry 1: rights must be 'admin' or 'read=NAME+NAME'"),
        ("a,k:read=", "entry 2: read= names no collection"),
        ("k:read=Intern", "entry 1: 'Intern' is not a collection name"),
        (":admin", "entry 1 has no key"),
        ("k:admin,k:read=offentlig", "entry 2 repeats a key with other rights"),
    ],
)
def test_malformed_keys_are_refused_without_showing_the_key(text, words):
    with pytest.raises(ValueError, match=re.escape(words)) as err:
        parse_keys(text)
    assert "k:" not in str(err.value)


def test_settings_refuse_malformed_keys_and_collections():
    with pytest.raises(ValidationError, match="OPS_API_KEYS: entry 1"):
        Settings(api_keys="k:reader", _env_file=None)
    with pytest.raises(ValidationError, match="OPS_PUBLIC_COLLECTIONS: 'Offentlig'"):
        Settings(public_collections="Offentlig", _env_file=None)


@pytest.mark.parametrize(
    ("changes", "public"),
    [
        ({}, {"offentlig"}),
        ({"public_collections": "offentlig+kkr"}, {"offentlig", "kkr"}),
        ({"public_collections": "offentlig, kkr"}, {"offentlig", "kkr"}),
        ({"public_collections": ""}, set()),
        ({"read_requires_key": True}, set()),  # the old setting closes every collection
    ],
)
def test_anonymous_readers_see_the_public_collections(changes, public):
    access = Settings(_env_file=None, **changes).public_access
    assert access.collections == frozenset(public) and not access.write


def test_visible_is_what_a_reader_asks_for_and_may_see():
    team = Access(frozenset({"offentlig", "intern"}))
    assert team.visible(None) == {"offentlig", "intern"}
    assert team.visible(["intern", "fortrolig"]) == {"intern"}
    assert team.visible(["fortrolig"]) == frozenset()
    assert ADMIN.visible(None) is None and ADMIN.visible(["x"]) == {"x"}
    assert parse_collections("a+b,c") == {"a", "b", "c"}
