"""scrypt hashes: self-describing, salted, constant-time checked, and upgradeable."""

from __future__ import annotations

import hashlib
import logging

import pytest

from isthmus.identity import hashing
from isthmus.identity.hashing import DEFAULT_PARAMS, ScryptParams, hash_secret, needs_rehash, verify_secret
from tests.identity.conftest import FAST_KDF


def test_a_hash_records_its_parameters_and_a_random_salt() -> None:
    first, second = hash_secret("s3cret-password", FAST_KDF), hash_secret("s3cret-password", FAST_KDF)
    assert first.startswith("$scrypt$ln=10,r=8,p=1$")
    assert first != second  # a fresh salt each time
    assert "s3cret-password" not in first
    _, _, _, salt, key = first.split("$")
    assert hashing._unb64(salt) != hashing._unb64(second.split("$")[3])
    assert len(hashing._unb64(key)) == 32
    assert hashing.parameters_of(first) == FAST_KDF


def test_the_default_parameters_are_memory_hard_and_what_the_hash_says() -> None:
    assert DEFAULT_PARAMS.n >= 2**15 and DEFAULT_PARAMS.r >= 8
    stored = hash_secret("another password")
    assert stored.startswith("$scrypt$ln=15,r=8,p=1$")
    assert verify_secret("another password", stored)


def test_verification_checks_the_secret_exactly() -> None:
    stored = hash_secret("Tr0ub4dor&3", FAST_KDF)
    assert verify_secret("Tr0ub4dor&3", stored)
    for wrong in ("tr0ub4dor&3", "Tr0ub4dor&3 ", "", "Tr0ub4dor&", "x" * 2000):
        assert not verify_secret(wrong, stored)


def test_the_hash_is_scrypt_of_the_recorded_salt() -> None:
    stored = hash_secret("pa55word!", FAST_KDF)
    _, _, _, salt, key = stored.split("$")
    expected = hashlib.scrypt(b"pa55word!", salt=hashing._unb64(salt), n=2**10, r=8, p=1, dklen=32)
    assert hashing._unb64(key) == expected


def test_weaker_hashes_still_verify_and_ask_to_be_rehashed() -> None:
    weak = hash_secret("password-1", ScryptParams(ln=9))
    assert verify_secret("password-1", weak)
    assert needs_rehash(weak, FAST_KDF)
    assert not needs_rehash(hash_secret("password-1", FAST_KDF), FAST_KDF)
    assert not needs_rehash(hash_secret("password-1", ScryptParams(ln=11)), FAST_KDF)


@pytest.mark.parametrize("stored", [
    "", "plain-text-password", "$bcrypt$ln=10,r=8,p=1$AAAA$BBBB", "$scrypt$ln=10$AAAA$BBBB",
    "$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43,  # absurd cost: refused, not computed
    "$scrypt$ln=10,r=8,p=1$!!!$???",
])
def test_a_malformed_stored_hash_never_matches(stored: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert not verify_secret("plain-text-password", stored)
    assert needs_rehash(stored)
