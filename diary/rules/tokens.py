"""Secret tokens for links and sessions: made at random, kept in the database only as hashes."""

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are stored only as hashes, so a copy of the database cannot be used to sign in."""
    return hashlib.sha256(token.encode()).hexdigest()
