"""Pseudonyms for raw extracts: keyed hashes of personal data, stable for one export key.

A non-admin analyst's extract (exports.raw) hashes e-mail and Cognito ids with
HMAC-SHA256 under a key derived from the server's secret and an export key's
name: extracts made with the same name join on the hashes, another name gives
hashes that cannot be matched, and nobody without the server's secret can hash a
guessed address to find its row. The SQL computes the HMAC itself from the
built-in sha256() (no pgcrypto on production), given the key's two pads.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from db.settings import ConfigError

_PSEUDONYM_LABEL = b"cruddur-dashboard pseudonyms v1"
# What a pseudonymised extract changes, per kind: keyed hashes, and e-mail-like text masked.
PSEUDONYMISED = {"users": ("email", "cognito_user_id"), "activities": ()}
MASKED = {"users": ("display_name", "handle"), "activities": ("author_handle", "message")}
MASK = "[e-mail removed]"
PSEUDONYM_HEX = 32  # hex digits kept of each HMAC: 128 bits
MIN_SECRET_LENGTH = 32  # EXPORT_SIGNING_KEY: shorter is guessable, and so would be every pseudonym


def checked_secret(secret: str) -> str:
    """EXPORT_SIGNING_KEY as given, or ConfigError when it is too short to keep
    pseudonyms (and signed links, web.signing) from being recomputed by a guesser."""
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"EXPORT_SIGNING_KEY must be at least {MIN_SECRET_LENGTH} characters "
            "(for example the output of `openssl rand -hex 32`)."
        )
    return secret


@dataclass(frozen=True)
class Pseudonyms:
    """A named export key: `name` goes into the provenance, `key` (derived from
    a server secret and the name, see pseudonyms_for) never leaves the server."""

    name: str
    key: bytes

    def of(self, value: str) -> str:
        """What the COPY SQL writes for `value` (for tests and for joining by hand)."""
        return hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]

    def pads(self) -> tuple[bytes, bytes]:
        """HMAC's inner and outer keys (RFC 2104: the key XORed with ipad and
        opad), so that the SQL builds HMAC-SHA256 from the built-in sha256()."""
        block = self.key.ljust(64, b"\0")
        return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def pseudonyms_for(secret: str, name: str) -> Pseudonyms:
    """The export key `name` under the server's `secret` (EXPORT_SIGNING_KEY or
    Streamlit's cookie secret): the same pair gives the same hashes, another name
    hashes that cannot be joined, and without the secret no one can hash a guessed
    e-mail address to find its row."""
    if not name.strip() or len(name) > 100:
        raise ValueError("An export key is a name of 1 to 100 characters.")
    base = hmac.new(secret.encode(), _PSEUDONYM_LABEL, hashlib.sha256).digest()
    return Pseudonyms(name, hmac.new(base, name.encode(), hashlib.sha256).digest())
