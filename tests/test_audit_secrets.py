"""Secrets at rest (issue 4, section 5, with the audit trail): connection and endpoint secrets encrypted with keys from
``ISTHMUS_SECRET_KEY`` (rotation through a list of keys), clear configuration errors, and secrets that never print —
not in a repr, a log line or a traceback."""

from __future__ import annotations

import copy
import logging
import pickle
import traceback

import pytest

from isthmus.errors import ConfigurationError
from isthmus.secrets import (
    ENV_VAR,
    Redacted,
    RedactingFilter,
    SecretBox,
    SecretDecryptionError,
    reveal,
    scrub,
)

SECRET = "pa55-w0rd!connection"


def test_round_trip_and_tokens_differ() -> None:
    box = SecretBox(SecretBox.generate_key())
    first, second = box.encrypt(SECRET), box.encrypt(Redacted(SECRET))
    assert first != second and SECRET not in first
    assert box.decrypt(first).reveal() == SECRET and box.decrypt(second) == SECRET
    assert box.encrypt("") and box.decrypt(box.encrypt("")).reveal() == ""
    assert box.decrypt(box.encrypt("naïve ✓")).reveal() == "naïve ✓"


def test_key_from_configuration() -> None:
    key = SecretBox.generate_key()
    box = SecretBox.from_environment({ENV_VAR: key})
    assert box.decrypt(SecretBox(key).encrypt(SECRET)).reveal() == SECRET
    assert repr(box) == "SecretBox(keys=1)" and key not in repr(box)


@pytest.mark.parametrize("environ", [{}, {ENV_VAR: ""}, {ENV_VAR: "  ,  "}])
def test_missing_key_says_what_to_set(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        SecretBox.from_environment(environ)
    assert "No secret key is configured" in raised.value.full_message
    assert f"Set {ENV_VAR}" in raised.value.full_message and "generate_key" in raised.value.full_message


def test_malformed_key_is_refused_without_echoing_it() -> None:
    bad = "this-is-not-a-fernet-key-but-looks-secret"
    with pytest.raises(ConfigurationError) as raised:
        SecretBox.from_environment({ENV_VAR: f"{SecretBox.generate_key()},{bad}"})
    message = raised.value.full_message
    assert f"Key 2 of {ENV_VAR} is not a valid secret key" in message and f"Set {ENV_VAR}" in message
    assert bad not in message and bad not in "".join(traceback.format_exception(raised.value))


def test_wrong_key_is_a_clear_error() -> None:
    token = SecretBox(SecretBox.generate_key()).encrypt(SECRET)
    with pytest.raises(SecretDecryptionError) as raised:
        SecretBox(SecretBox.generate_key()).decrypt(token)
    assert "cannot be decrypted with the configured keys" in raised.value.full_message
    assert ENV_VAR in raised.value.full_message and raised.value.__cause__ is None
    with pytest.raises(SecretDecryptionError):
        SecretBox(SecretBox.generate_key()).decrypt("not a token")


def test_rotation_with_a_list_of_keys() -> None:
    old, new = SecretBox.generate_key(), SecretBox.generate_key()
    stored = SecretBox(old).encrypt(SECRET)
    during = SecretBox.from_environment({ENV_VAR: f"{new}, {old}"})  # new key first, old one still decrypts
    assert during.decrypt(stored).reveal() == SECRET and not during.is_current(stored)
    rotated = during.rotate(stored)
    assert during.is_current(rotated)
    after = SecretBox([new])
    assert after.decrypt(rotated).reveal() == SECRET
    with pytest.raises(SecretDecryptionError):
        after.decrypt(stored)
    assert during.rotate_all([stored, rotated]) and during.encrypt(SECRET) and SecretBox([new]).decrypt(during.encrypt("x")) == "x"


def test_redacted_never_prints() -> None:
    secret = Redacted(SECRET)
    assert str(secret) == "***" and repr(secret) == "Redacted('***')" and f"{secret}" == "***" and f"{secret!r:>10}"
    assert "%s" % secret == "***" and "{}".format(secret) == "***"  # noqa: UP031, UP032 - what logging does
    assert repr({"password": secret}) == "{'password': Redacted('***')}"
    assert secret.reveal() == SECRET and reveal(secret) == SECRET and reveal("plain") == "plain" and reveal(None) is None
    assert secret == SECRET and secret == Redacted(SECRET) and secret != "other" and len(secret) == len(SECRET)
    assert copy.deepcopy(secret) is secret and Redacted(secret).reveal() == SECRET
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)
    with pytest.raises(AttributeError):
        secret._value = "changed"  # type: ignore[misc]


def test_secrets_stay_out_of_logs_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    secret = Redacted(SECRET)
    log = logging.getLogger("isthmus.test.secrets")
    with caplog.at_level(logging.INFO, logger="isthmus.test.secrets"):
        log.info("connecting with %s and %r", secret, {"password": secret})
    assert SECRET not in caplog.text and "***" in caplog.text

    def connect(password: Redacted) -> None:
        raise RuntimeError(f"login failed for user sa with password {password}")

    try:
        connect(secret)
    except RuntimeError as exc:
        assert SECRET not in "".join(traceback.format_exception(exc))


def test_redacting_filter_is_a_last_line_of_defence(caplog: pytest.LogCaptureFixture) -> None:
    assert scrub("url=postgresql://app:hunter2@db:5432/erp") == "url=postgresql://app:***@db:5432/erp"
    assert scrub("Authorization: Bearer eyJhbGciOi.abc.def") == "Authorization: Bearer ***"
    assert scrub("client_secret=abc123&grant_type=x") == "client_secret=***&grant_type=x"
    assert scrub('{"password": "hunter2"}') == '{"password": "***"}'
    log = logging.getLogger("isthmus.test.filter")
    filtering = RedactingFilter()
    log.addFilter(filtering)
    try:
        with caplog.at_level(logging.INFO, logger="isthmus.test.filter"):
            log.info("connecting to %s", "postgresql://app:hunter2@db/erp")
            try:
                raise ValueError("token=s3cr3t-token-value rejected")
            except ValueError:
                log.exception("call failed")
    finally:
        log.removeFilter(filtering)
    assert "hunter2" not in caplog.text and "s3cr3t-token-value" not in caplog.text
    assert "postgresql://app:***@db/erp" in caplog.text and "token=***" in caplog.text
