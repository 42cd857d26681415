"""Outbound alerts as pure functions: the settings read plainly, what an alert says (and leaves
out), how a webhook body is signed, and when a failed delivery is tried again.

An alert carries the minimum: that a patient in the clinician's care has a new urgent (or lasting)
flag, the patient's name only when the clinic turns on ALERTS_INCLUDE_NAME, and a link to the
flags. Never a symptom, a severity, a mood, a note or a safety answer: the functions here are not
even given them.
"""

import hashlib
import hmac
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

EMAIL, WEBHOOK = "email", "webhook"
CHANNELS = (EMAIL, WEBHOOK)

URGENT_FLAG, LASTING_FLAG, PASSWORD_RESET = "urgent_flag", "lasting_flag", "password_reset"
CAREGIVER_NOTICE = "caregiver_notice"
KINDS = (URGENT_FLAG, LASTING_FLAG, PASSWORD_RESET, CAREGIVER_NOTICE)
FLAG_KINDS = frozenset({URGENT_FLAG, LASTING_FLAG})
SCRUBBED_AFTER_DELIVERY = frozenset({PASSWORD_RESET})
"""Kinds whose payload holds a secret (a reset link): emptied once the row is finished."""

RAISED, REOPENED = "raised", "reopened"
ALERTING_EVENTS = frozenset({RAISED, REOPENED})
"""The flag events that reach a person; "updated" (more of the same evidence) does not."""

URGENT_SUBJECT = "Urgent flag in the infusion diary"
DIGEST_SUBJECT = "Lasting flags in the infusion diary"
PASSWORD_RESET_SUBJECT = "Set a new password for the infusion diary"
CAREGIVER_SUBJECT = "Please check in with someone you care for"
CAREGIVER_SETTING_WORDS = "Tell my caregivers when my care team is alerted"
FLAGS_PATH = "/clinic/flags"
SETTING_WORDS = "E-mail me about flags"

SIGNATURE_HEADER = "X-Diary-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
"""A receiver refuses a signature older (or newer) than this: a replayed body stops working."""

NETWORK_TIMEOUT_SECONDS = 10
"""Each SMTP or HTTP step gives up after this, so a server that hangs is a failed attempt."""
LEASE_SECONDS = 120
"""A claimed row is someone's for this long; a sender killed mid-delivery frees it by expiring.
Longer than any one delivery (a few steps of NETWORK_TIMEOUT_SECONDS each)."""
POLL_SECONDS = 2
RETRY_WAITS = (timedelta(seconds=10), timedelta(seconds=30), timedelta(minutes=1),
               timedelta(minutes=2), timedelta(minutes=5))
"""The wait after the 1st, 2nd ... failed attempt; every later wait is the last one."""
GIVE_UP_AFTER = timedelta(days=7)
"""A row still undelivered this long after it was queued stops being tried (and says so)."""
ERROR_MAX_LENGTH = 500
LINE_WIDTH = 72
DIGEST_MINUTES_RANGE = (1, 24 * 60)


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    use_tls: bool
    use_ssl: bool
    username: str | None
    password: str | None
    sender: str


@dataclass(frozen=True)
class AlertSettings:
    """The alert settings of one app, checked: a channel that is off is None, with the reason in
    `problems` (one line each) when it is off because a value is wrong."""

    mail: MailSettings | None
    webhook_url: str | None
    webhook_secret: str | None
    include_name: bool
    digest_minutes: int
    base_url: str
    problems: tuple[str, ...] = ()
    timeout: float = NETWORK_TIMEOUT_SECONDS

    @property
    def email_on(self) -> bool:
        return self.mail is not None

    @property
    def webhook_on(self) -> bool:
        return self.webhook_url is not None

    def delivers(self, channel: str) -> bool:
        return self.email_on if channel == EMAIL else channel == WEBHOOK and self.webhook_on

    @property
    def flags_link(self) -> str:
        return self.base_url.rstrip("/") + FLAGS_PATH


def settings_from(config: Mapping) -> AlertSettings:
    """Read the MAIL_*, ALERT_* and DIGEST_MINUTES settings as the app has them (defaults,
    config.py, DIARY_* variables read as JSON when they parse)."""
    problems: list[str] = []
    base_url = _text(config.get("BASE_URL")) or "http://127.0.0.1:5000"
    mail = _mail_settings(config, base_url, problems)
    url, secret = _webhook_settings(config, problems)
    minutes = config.get("DIGEST_MINUTES", 60)
    low, high = DIGEST_MINUTES_RANGE
    if not _is_int(minutes) or not low <= int(minutes) <= high:
        problems.append(f"DIGEST_MINUTES must be a whole number of minutes from {low} to {high}, "
                        f"not {minutes!r}; using 60.")
        minutes = 60
    return AlertSettings(mail=mail, webhook_url=url, webhook_secret=secret,
                         include_name=_flag(config.get("ALERTS_INCLUDE_NAME")),
                         digest_minutes=int(minutes), base_url=base_url, problems=tuple(problems))


def webhook_url_problem(url: str) -> str | None:
    """Why this is not a webhook address we post to (only http and https are), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (f"ALERT_WEBHOOK_URL must be an http:// or https:// address, not {url!r}; "
                "webhook alerts are off.")
    return None


def _mail_settings(config, base_url, problems) -> MailSettings | None:
    server = _text(config.get("MAIL_SERVER"))
    if not server:
        return None
    use_tls, use_ssl = _flag(config.get("MAIL_USE_TLS")), _flag(config.get("MAIL_USE_SSL"))
    if use_tls and use_ssl:
        problems.append("Set only one of MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL (TLS from the "
                        "start); e-mail alerts are off.")
        return None
    port = config.get("MAIL_PORT")
    if port in (None, ""):
        port = 465 if use_ssl else 587 if use_tls else 25
    if not _is_int(port) or not 0 < int(port) < 65536:
        problems.append(f"MAIL_PORT must be a port number, not {port!r}; e-mail alerts are off.")
        return None
    username = _text(config.get("MAIL_USERNAME")) or None
    sender = _text(config.get("MAIL_DEFAULT_SENDER")) or _default_sender(username, base_url)
    if "\n" in sender or "\r" in sender:
        problems.append("MAIL_DEFAULT_SENDER must be one line; e-mail alerts are off.")
        return None
    return MailSettings(server=server, port=int(port), use_tls=use_tls, use_ssl=use_ssl,
                        username=username, password=_text(config.get("MAIL_PASSWORD")) or None,
                        sender=sender)


def _default_sender(username, base_url) -> str:
    if username and "@" in username:
        return f"Infusion diary <{username}>"
    host = urlsplit(base_url).hostname or "localhost"
    if host.replace(".", "").isdigit() or ":" in host:
        host = "localhost"
    return f"Infusion diary <diary@{host}>"


def _webhook_settings(config, problems) -> tuple[str | None, str | None]:
    url = _text(config.get("ALERT_WEBHOOK_URL"))
    if not url:
        return None, None
    problem = webhook_url_problem(url)
    if problem:
        problems.append(problem)
        return None, None
    secret = _text(config.get("ALERT_WEBHOOK_SECRET"))
    if not secret:
        problems.append("ALERT_WEBHOOK_SECRET is empty: the receiver could not tell our alerts "
                        "from forged ones; webhook alerts are off.")
        return None, None
    return url, secret


def _text(value) -> str:
    return "" if value is None or value is False else str(value).strip()


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _is_int(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().isdigit()


# What the alerts say


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


@dataclass(frozen=True)
class DigestItem:
    """One lasting flag event in a digest: whose (the name only shown when allowed)."""

    patient_id: int
    patient_name: str


def plain_name(name: str | None) -> str:
    """A name as one short line of text: no control characters, no line breaks."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in (name or ""))
    return " ".join(cleaned.split())[:100]


def headline(settings: AlertSettings, *, urgent: bool, events, patient_name: str | None) -> str:
    """The first line of an alert: "A patient in your care has a new urgent flag in the ..." """
    kind = "urgent" if urgent else "lasting"
    events = [events] if isinstance(events, str) else list(events)
    count = len(events)
    if count == 1:
        what = (f"has {'an' if urgent else 'a'} {kind} flag open again" if events[0] == REOPENED
                else f"has a new {kind} flag")
    elif all(event == REOPENED for event in events):
        what = f"has {count} {kind} flags open again"
    elif all(event == RAISED for event in events):
        what = f"has {count} new {kind} flags"
    else:
        what = f"has {count} {kind} flags, new or open again"
    return f"{_who(settings, patient_name)} {what} in the infusion diary."


def urgent_message(settings: AlertSettings, events, patient_name: str | None) -> Message:
    """One e-mail for a patient's urgent flags (usually one; several when one check-in raised
    several, e.g. a low mood and a yes to the safety question)."""
    count = 1 if isinstance(events, str) else len(events)
    return Message(URGENT_SUBJECT, _body(
        [headline(settings, urgent=True, events=events, patient_name=patient_name)],
        [f"Please sign in and look at {'it' if count == 1 else 'them'} as soon as you can:",
         settings.flags_link],
        _footer(),
    ))


def digest_message(settings: AlertSettings, items: list[DigestItem]) -> Message:
    patients: dict[int, list[DigestItem]] = {}
    for item in items:
        patients.setdefault(item.patient_id, []).append(item)
    flags_text = _count(len(items), "new non-urgent flag")
    if len(patients) == 1:
        first = items[0]
        opening = f"{_who(settings, first.patient_name)} has {flags_text} in the infusion diary."
    else:
        opening = (f"{len(patients)} patients in your care have {flags_text} in the infusion "
                   "diary.")
    names = [f"- {plain_name(group[0].patient_name)}: {_count(len(group), 'flag')}"
             for group in patients.values()] if settings.include_name and len(patients) > 1 else []
    return Message(DIGEST_SUBJECT, _body(
        [opening],
        names,
        ["A non-urgent flag means something the patient noted is taking longer than usual to "
         "settle, or a question they chose not to answer. Please sign in and look at them:",
         settings.flags_link],
        [f"You get at most one of these e-mails every {_count(settings.digest_minutes, 'minute')}"
         "; urgent flags come at once, in e-mails of their own."],
        _footer(several=len(patients) > 1),
    ))


def password_reset_message(link: str, minutes: int) -> Message:
    return Message(PASSWORD_RESET_SUBJECT, _body(
        ["Someone asked to set a new password for your infusion diary account."],
        [f"This link works once, for {_count(minutes, 'minute')}:", link],
        ["If it was not you, you can ignore this e-mail: your password stays as it is."],
    ))


def caregiver_message(patient_name: str | None) -> Message:
    """To a caregiver the patient chose to tell: that the care team was alerted, nothing more."""
    who = plain_name(patient_name) or "Someone who shares their diary with you"
    return Message(CAREGIVER_SUBJECT, _body(
        [f"{who} wrote something in their infusion diary that alerted their care team. Please "
         "check in with them when you can."],
        ["If you think they are in danger now, call the emergency number."],
        ["This e-mail holds nothing of what they wrote. You get it because they turned on "
         f'"{CAREGIVER_SETTING_WORDS}" in their settings.'],
    ))


def _who(settings: AlertSettings, patient_name: str | None) -> str:
    name = plain_name(patient_name)
    if settings.include_name and name:
        return f"A patient in your care, {name},"
    return "A patient in your care"


def _footer(several: bool = False) -> list[str]:
    team = "these patients' care teams" if several else "this patient's care team"
    return [
        "This e-mail holds no details from the diary: sign in to read them. You get it as a "
        f"clinician in {team}; you can turn these e-mails off in your settings "
        f'("{SETTING_WORDS}").',
    ]


def _body(*paragraphs: list[str]) -> str:
    """Paragraphs of lines, each line wrapped to LINE_WIDTH except links and list items, so the
    e-mail goes as plain 7-bit text; empty paragraphs are left out."""
    out = []
    for lines in paragraphs:
        if not lines:
            continue
        wrapped = []
        for line in lines:
            if line.startswith(("http://", "https://", "- ")):
                wrapped.append(line)
            else:
                wrapped += textwrap.wrap(line, LINE_WIDTH, break_long_words=False,
                                         break_on_hyphens=False)
        out.append("\n".join(wrapped))
    return "\n\n".join(out) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def email_message(*, sender: str, to: str, message: Message, message_id: str,
                  at: datetime) -> EmailMessage:
    """A plain-text e-mail. The Message-ID is the same for every attempt at one outbox row, so a
    copy sent twice (a sender killed after the server took it) can be recognised as the same."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(at.astimezone(timezone.utc))
    mail["Message-ID"] = message_id
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body)
    return mail


def message_id(row_ids, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<diary-outbox-{'-'.join(str(i) for i in sorted(row_ids))}@{domain}>"


def webhook_body(settings: AlertSettings, *, notification_id: int, flag_id: int, event: str,
                 urgent: bool, occurred_at: datetime, patient_name: str | None) -> bytes:
    """The JSON a webhook receives: no health detail, the name only when the clinic allows."""
    data = {
        "type": f"flag.{event}",
        "notification_id": notification_id,
        "flag_id": flag_id,
        "urgent": bool(urgent),
        "occurred_at": occurred_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "link": settings.flags_link,
        "text": headline(settings, urgent=urgent, events=event, patient_name=patient_name),
    }
    if settings.include_name and plain_name(patient_name):
        data["patient_name"] = plain_name(patient_name)
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


# Signing


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Diary-Signature value: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(secret: str, header: str | None, body: bytes, now: int,
                     tolerance: int = SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the HMAC matches and the timestamp is recent (no replays)."""
    fields = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, value)
    stamp = fields.get("t", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = signature(secret, body, int(stamp)).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


# Retries


def retry_wait(failed_attempts: int) -> timedelta:
    """How long to wait after this many failed attempts before trying again."""
    index = max(failed_attempts, 1) - 1
    return RETRY_WAITS[min(index, len(RETRY_WAITS) - 1)]


def gives_up(created_at: datetime, now: datetime) -> bool:
    return now - created_at >= GIVE_UP_AFTER


def error_text(error: BaseException) -> str:
    """One line for the attempts table, never longer than ERROR_MAX_LENGTH."""
    code = getattr(error, "smtp_code", None)
    detail = getattr(error, "smtp_error", None)
    if code is not None:
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        text = f"{type(error).__name__}: {code} {detail}"
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())[:ERROR_MAX_LENGTH]


# The digest's rhythm


@dataclass(frozen=True)
class DigestSlot:
    """The newest digest slot of one clinician as stored: its time and whether it is still open
    (nothing in it sent, cancelled or being sent now, so a new flag may join it)."""

    due_at: datetime
    open: bool
    finished_at: datetime | None
    next_attempt_at: datetime


def digest_times(now: datetime, last: DigestSlot | None, minutes: int) -> tuple[datetime, datetime]:
    """(due_at, next_attempt_at) for a new lasting flag e-mail to one clinician.

    The first goes at once; while a slot is still open the flag joins it; after a digest went
    (or is going), the next slot is DIGEST_MINUTES after the later of its slot and its sending.
    """
    if last is None:
        return now, now
    if last.open:
        return last.due_at, max(last.next_attempt_at, last.due_at)
    sent = max(last.due_at, last.finished_at or now)
    due = max(now, sent + timedelta(minutes=minutes))
    return due, due
