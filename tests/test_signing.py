"""Signed links (web/signing.py): exact parameters, expiry, key from the settings."""

import pytest

from db.settings import ConfigError
from web import signing
from web.signing import LinkRefused

KEY = "k" * 40
FIELDS = {
    "kind": "activities",
    "tz": "America/New_York",
    "start": "2026-03-01",
    "end": "2026-03-31",
    "style": "header",
    "cap": "0",
}
NOW = 1_800_000_000


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("EXPORT_SIGNING_KEY", KEY)


def signed(**changes):
    return {**signing.sign("raw", FIELDS, now=NOW), **changes}


def refusal(query, purpose="raw", now=NOW + 1) -> LinkRefused:
    with pytest.raises(LinkRefused) as caught:
        signing.verify(purpose, query, FIELDS, now=now)
    return caught.value


def test_a_signed_link_gives_back_exactly_its_fields():
    assert signing.verify("raw", signed(), FIELDS, now=NOW + 1) == FIELDS
    assert signing.verify("raw", list(signed().items()), FIELDS, now=NOW + signing.TTL_S - 1) == FIELDS


@pytest.mark.parametrize(
    "field, value",
    [
        ("kind", "users"),
        ("tz", "UTC"),
        ("start", "2001-01-01"),
        ("end", "2026-04-01"),
        ("style", "sidecar"),
        ("cap", "1"),
        ("exp", str(NOW + 10**6)),
    ],
)
def test_changing_any_field_breaks_the_signature(field, value):
    refused = refusal(signed(**{field: value}))
    assert refused.status == 403 and "not valid" in str(refused)


def test_a_changed_or_missing_signature_is_refused():
    good = signed()
    flipped = good["sig"][:-1] + ("A" if good["sig"][-1] != "A" else "B")
    assert refusal({**good, "sig": flipped}).status == 403
    assert refusal({**good, "sig": "é"}).status == 403
    unsigned = {k: v for k, v in good.items() if k != "sig"}
    assert refusal(unsigned).status == 403 and "not signed" in str(refusal(unsigned))


def test_a_link_expires():
    refused = refusal(signed(), now=NOW + signing.TTL_S)
    assert refused.status == 403 and "expired" in str(refused) and "Open the page again" in str(refused)


def test_a_link_is_for_one_purpose_only():
    assert refusal(signed(), purpose="something-else").status == 403


def test_extra_missing_or_repeated_parameters_are_bad_requests():
    good = signed()
    assert refusal({**good, "admin": "1"}).status == 400
    assert refusal({k: v for k, v in good.items() if k != "cap"}).status == 400
    assert refusal([*good.items(), ("kind", "users")]).status == 400


def test_another_key_does_not_verify(monkeypatch):
    link = signed()
    monkeypatch.setenv("EXPORT_SIGNING_KEY", "x" * 40)
    assert refusal(link).status == 403


def test_a_short_key_is_a_configuration_error(monkeypatch):
    monkeypatch.setenv("EXPORT_SIGNING_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32 characters"):
        signing.sign("raw", FIELDS)


def test_without_a_setting_the_streamlit_cookie_secret_signs(monkeypatch):
    monkeypatch.delenv("EXPORT_SIGNING_KEY")
    link = signing.sign("raw", FIELDS, now=NOW)
    assert signing.verify("raw", link, FIELDS, now=NOW + 1) == FIELDS
    monkeypatch.setenv("EXPORT_SIGNING_KEY", KEY)
    assert refusal(link).status == 403
