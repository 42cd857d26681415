"""Passkeys (WebAuthn) through the `webauthn` library: the relying party named by BASE_URL,
the options a browser is given, and the checks of what it sends back. No CBOR or signature is
read here by hand; every check is the library's.

Everything here is pure: the caller keeps the challenge and the stored keys.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import webauthn
from webauthn.helpers import (base64url_to_bytes, bytes_to_base64url,
                              parse_authentication_credential_json)
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria,
                                      PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)

RP_NAME = "Infusion diary"
CHALLENGE_TIME = timedelta(minutes=5)
CEREMONY_TIMEOUT_MS = 120_000
MAX_RESPONSE_LENGTH = 16_000
LOOPBACK = ("127.0.0.1", "::1", "[::1]")


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str


def relying_party(base_url: str) -> RelyingParty:
    """The id is BASE_URL's host; a loopback address (make run's default) becomes "localhost",
    because browsers refuse passkeys for an IP address but treat http://localhost as secure."""
    parts = urlsplit(base_url)
    scheme = parts.scheme or "https"
    host = (parts.hostname or "localhost").lower()
    if host in LOOPBACK:
        host = "localhost"
    default_port = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return RelyingParty(id=host, origin=f"{scheme}://{host}{port}")


class Refused(Exception):
    """A WebAuthn response that does not pass; `reason` is for the audit row only."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Pending:
    """A challenge given to one browser, kept (signed) in its session until answered."""
    purpose: str  # "register" or "sign_in"
    challenge: str  # base64url
    issued_at: datetime
    user_id: int | None = None
    user_handle: str | None = None  # base64url, for "register"

    def as_dict(self) -> dict:
        return {"purpose": self.purpose, "challenge": self.challenge,
                "issued_at": self.issued_at.isoformat(), "user_id": self.user_id,
                "user_handle": self.user_handle}

    @classmethod
    def from_dict(cls, value) -> "Pending | None":
        try:
            return cls(purpose=str(value["purpose"]), challenge=str(value["challenge"]),
                       issued_at=datetime.fromisoformat(value["issued_at"]),
                       user_id=value.get("user_id"), user_handle=value.get("user_handle"))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def check_pending(pending: "Pending | None", purpose: str, now: datetime,
                  user_id: int | None = None) -> bytes:
    """The challenge bytes this browser was given for this purpose, or Refused."""
    if pending is None:
        raise Refused("no_challenge")
    if pending.purpose != purpose:
        raise Refused("wrong_challenge")
    if user_id is not None and pending.user_id != user_id:
        raise Refused("another_account")
    if not timedelta(0) <= now - pending.issued_at <= CHALLENGE_TIME:
        raise Refused("challenge_expired")
    try:
        return base64url_to_bytes(pending.challenge)
    except (ValueError, TypeError) as error:
        raise Refused("wrong_challenge") from error


def new_user_handle() -> str:
    from webauthn.helpers import generate_user_handle
    return bytes_to_base64url(generate_user_handle())


def registration_options(rp: RelyingParty, *, user_handle: str, email: str, name: str,
                         existing: list[str]) -> tuple[str, str]:
    """(options as JSON for the browser, the challenge as base64url)."""
    options = webauthn.generate_registration_options(
        rp_id=rp.id, rp_name=RP_NAME, user_id=base64url_to_bytes(user_handle),
        user_name=email, user_display_name=name or email, timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(credential))
                             for credential in existing],
    )
    return webauthn.options_to_json(options), bytes_to_base64url(options.challenge)


def authentication_options(rp: RelyingParty) -> tuple[str, str]:
    """Options that name no account: the phone offers the passkeys it holds for this site."""
    options = webauthn.generate_authentication_options(
        rp_id=rp.id, timeout=CEREMONY_TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return webauthn.options_to_json(options), bytes_to_base64url(options.challenge)


@dataclass(frozen=True)
class NewPasskey:
    credential_id: str
    public_key: bytes
    sign_count: int
    transports: str


def _plain_json(response: str) -> dict:
    if not isinstance(response, str) or not response or len(response) > MAX_RESPONSE_LENGTH:
        raise Refused("malformed")
    try:
        value = json.loads(response)
    except ValueError as error:
        raise Refused("malformed") from error
    if not isinstance(value, dict):
        raise Refused("malformed")
    return value


def verify_registration(rp: RelyingParty, response: str, challenge: bytes) -> NewPasskey:
    value = _plain_json(response)
    try:
        verified = webauthn.verify_registration_response(
            credential=value, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, require_user_verification=True,
        )
    except Exception as error:  # untrusted input: every way it can fail is a refusal
        raise Refused("registration_not_verified") from error
    transports = value.get("response", {}).get("transports") if isinstance(
        value.get("response"), dict) else None
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        transports = []
    return NewPasskey(credential_id=bytes_to_base64url(verified.credential_id),
                      public_key=verified.credential_public_key,
                      sign_count=verified.sign_count,
                      transports=json.dumps(transports[:8]))


@dataclass(frozen=True)
class Assertion:
    """Who a sign-in response says it is, read before it is checked."""
    credential_id: str
    user_handle: str | None
    value: dict


def read_assertion(response: str) -> Assertion:
    value = _plain_json(response)
    try:
        parsed = parse_authentication_credential_json(value)
    except Exception as error:
        raise Refused("malformed") from error
    handle = parsed.response.user_handle
    return Assertion(credential_id=bytes_to_base64url(parsed.raw_id),
                     user_handle=bytes_to_base64url(handle) if handle else None, value=value)


def verify_assertion(rp: RelyingParty, assertion: Assertion, challenge: bytes, *,
                     public_key: bytes, sign_count: int) -> int:
    """The authenticator's new signature counter, or Refused."""
    try:
        verified = webauthn.verify_authentication_response(
            credential=assertion.value, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=public_key,
            credential_current_sign_count=sign_count, require_user_verification=True,
        )
    except Exception as error:
        raise Refused("assertion_not_verified") from error
    return verified.new_sign_count
