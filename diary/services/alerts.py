"""Alerts that reach a person outside the app: queued in the outbox with the flag (or event) that
causes them, then delivered by the sender as e-mail over SMTP or a signed webhook, and tried again
with growing waits until the server takes them.

Queueing (queue_flag_alerts, queue_password_reset) joins the caller's write transaction and never
touches the network, so the web app never waits on a mail server, and a flag is never saved
without its alerts. Delivery (deliver_due, deliver_one) is the one use case here that is not one
transaction, on purpose: it claims rows in a short write, talks to the server with no transaction
open (a hanging server must not hold the database's write lock), then records the outcome with its
audit row in a second write. A row is marked delivered only after the server took it, and a claim
is a lease that runs out: a sender killed mid-way costs at most one duplicate, never a loss.
"""

import json
import os
import smtplib
import socket
import ssl
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from ..rules import alerts as rules
from ..rules import clock
from ..store import audit
from ..store import outbox as store
from ..store.db import get_db, write

CLAIM_LIMIT = 1
"""Lead rows per claim (each brings the rows that share its e-mail): one delivery per claim, so a
lease only ever has to outlast one delivery, a few network time-outs at most."""


def settings(config=None) -> rules.AlertSettings:
    """The app's alert settings, checked (its `problems` say what is off and why)."""
    return rules.settings_from(current_app.config if config is None else config)


def mail_configured() -> bool:
    """Whether e-mail can be sent at all, e.g. to offer "Forgot your password?"."""
    return settings().email_on


# Queueing: inside the caller's transaction


def queue_flag_alerts(tx, *, flag_id: int, patient_id: int, urgent: bool, event: str,
                      at: str) -> int:
    """Queue the alerts for one flag event (raised or reopened), in the flag's own transaction.

    Every clinician in the patient's care team with "E-mail me about flags" on gets an e-mail
    row: urgent at once, lasting in their next digest. One webhook row goes per event. A patient
    with no clinician alerts nobody. Returns how many rows were queued; the unique key per event
    and recipient makes queueing the same event again a no-op.
    """
    if event not in rules.ALERTING_EVENTS:
        return 0
    config = settings()
    if not (config.email_on or config.webhook_on):
        return 0
    clinicians = store.clinicians_of_patient(tx, patient_id)
    if not clinicians:
        return 0
    event_id = store.latest_flag_event_id(tx, flag_id)
    common = dict(kind=rules.URGENT_FLAG if urgent else rules.LASTING_FLAG,
                  patient_id=patient_id, flag_id=flag_id, flag_event_id=event_id,
                  payload={"event": event}, created_at=at)
    queued = 0
    if config.email_on:
        for clinician in clinicians:
            if not clinician["email_flags"]:
                continue
            due, next_at = ((at, at) if urgent
                            else _digest_times(tx, clinician["id"], at, config.digest_minutes))
            queued += store.enqueue(
                tx, dedupe_key=f"flag-event:{event_id}:email:{clinician['id']}",
                channel=rules.EMAIL, recipient_id=clinician["id"], due_at=due,
                next_attempt_at=next_at, **common) is not None
    if config.webhook_on:
        queued += store.enqueue(tx, dedupe_key=f"flag-event:{event_id}:webhook",
                                channel=rules.WEBHOOK, due_at=at, next_attempt_at=at,
                                **common) is not None
    if config.email_on and urgent:
        queued += _queue_caregiver_notices(tx, patient_id, flag_id, event_id, at)
    return queued


def _queue_caregiver_notices(tx, patient_id: int, flag_id: int, event_id: int, at: str) -> int:
    """"Tell my caregivers when my care team is alerted": only if the patient turned it on."""
    queued = 0
    for caregiver in store.caregivers_to_tell(tx, patient_id):
        queued += store.enqueue(
            tx, dedupe_key=f"flag-event:{event_id}:caregiver:{caregiver['id']}",
            channel=rules.EMAIL, kind=rules.CAREGIVER_NOTICE, recipient_id=caregiver["id"],
            patient_id=patient_id, flag_id=flag_id, flag_event_id=event_id, payload={},
            created_at=at, due_at=at, next_attempt_at=at) is not None
    return queued


def _digest_times(tx, recipient_id: int, at: str, minutes: int) -> tuple[str, str]:
    row = store.last_digest_slot(tx, recipient_id, at)
    last = None
    if row is not None:
        last = rules.DigestSlot(
            due_at=clock.from_db(row["due_at"]), open=not (row["finished"] or row["leased"]),
            finished_at=clock.from_db(row["finished_at"]) if row["finished_at"] else None,
            next_attempt_at=clock.from_db(row["next_attempt_at"]))
    due, next_at = rules.digest_times(clock.from_db(at), last, minutes)
    return clock.to_db(due), clock.to_db(next_at)


def queue_password_reset(user_id: int, token_hash: str, link: str, minutes: int,
                         conn=None) -> bool:
    """Queue a reset link by e-mail (joining the caller's transaction, e.g. the one that made the
    token); False, and nothing queued, when no mail server is configured. The link is emptied
    from the outbox once the row is finished."""
    if not settings().email_on:
        return False
    now = clock.db_now()
    with write(conn) as tx:
        store.enqueue(tx, dedupe_key=f"password-reset:{token_hash}", channel=rules.EMAIL,
                      kind=rules.PASSWORD_RESET, recipient_id=user_id,
                      payload={"link": link, "minutes": minutes}, created_at=now, due_at=now,
                      next_attempt_at=now)
    return True


# "E-mail me about flags"


def set_flag_emails(user_id: int, on: bool) -> bool:
    """Turn a clinician's flag e-mails on or off, with its audit row; False for an unknown user.
    E-mails already queued are checked again when they are sent, so "off" takes effect at once."""
    with write() as tx:
        if not store.set_email_flags(tx, user_id, on):
            return False
        audit.record("flag_emails_set", "on" if on else "off", at=clock.db_now(),
                     actor_id=user_id, subject=f"user:{user_id}", conn=tx)
    return True


def flag_emails_on(user_id: int) -> bool:
    return bool(store.email_flags(user_id))


# Delivery: the sender


@dataclass(frozen=True)
class Delivery:
    """What became of one delivery (one e-mail, a digest of several rows, or one webhook call)."""

    ids: tuple[int, ...]
    channel: str
    kind: str
    outcome: str  # sent, failed, cancelled, gave_up
    attempt: int
    error: str | None = None
    next_attempt_at: datetime | None = None

    def line(self) -> str:
        """One line for the sender's log: row ids, outcome, error; never a patient's name."""
        rows = ",".join(str(i) for i in self.ids)
        text = f"{self.channel} {self.kind} #{rows} attempt {self.attempt}: {self.outcome}"
        if self.error:
            text += f" ({self.error})"
        if self.outcome == "failed" and self.next_attempt_at:
            text += f"; next try at {clock.to_db(self.next_attempt_at)} UTC"
        return text


def new_claim() -> str:
    """A name for one claim: which host and process took the rows, and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def deliver_due(config: rules.AlertSettings, *, channels=rules.CHANNELS, limit=CLAIM_LIMIT,
                lease_seconds: float = rules.LEASE_SECONDS) -> list[Delivery]:
    """Deliver every row that is due on these channels (those configured), urgent first."""
    channels = [channel for channel in channels if config.delivers(channel)]
    done: list[Delivery] = []
    while channels:
        now = clock.now()
        if not store.anything_due(get_db(), channels, clock.to_db(now)):
            break
        claim = new_claim()
        with write() as tx:
            rows = store.claim_due(tx, channels=channels, now=clock.to_db(now),
                                   lease_until=_lease_until(now, lease_seconds), claim=claim,
                                   limit=limit)
        if not rows:
            break
        for batch in _batches(rows):
            done.append(_deliver(config, batch, claim))
    return done


def deliver_one(config: rules.AlertSettings, outbox_id,
                lease_seconds: float = rules.LEASE_SECONDS) -> Delivery | None:
    """Deliver this row now, whatever its wait. None, a no-op, when there is no such row, it is
    finished (delivered once already), someone is sending it, or its channel is not configured."""
    if not isinstance(outbox_id, int) or isinstance(outbox_id, bool) or not 0 < outbox_id < 2**63:
        return None
    now = clock.now()
    claim = new_claim()
    with write() as tx:
        row = store.notification(tx, outbox_id)
        if row is None or row["state"] != "pending" or not config.delivers(row["channel"]):
            return None
        row = store.claim_one(tx, outbox_id, now=clock.to_db(now),
                              lease_until=_lease_until(now, lease_seconds), claim=claim)
    return None if row is None else _deliver(config, [row], claim)


def _lease_until(now: datetime, seconds: float) -> str:
    return clock.to_db(now + timedelta(seconds=max(1, round(seconds))))


def _batches(rows) -> list[list]:
    """One e-mail per clinician for a patient's urgent flags, one digest per clinician for lasting
    flags (as claim_due gathered them); one webhook call per row."""
    groups: dict[tuple, list] = {}
    batches: list[list] = []
    for row in rows:
        if row["channel"] == rules.EMAIL and row["kind"] in rules.FLAG_KINDS:
            key = (row["kind"], row["recipient_id"],
                   row["patient_id"] if row["kind"] == rules.URGENT_FLAG else None)
            if key not in groups:
                groups[key] = []
                batches.append(groups[key])
            groups[key].append(row)
        else:
            batches.append([row])
    return batches


def _deliver(config: rules.AlertSettings, batch: list, claim: str) -> Delivery:
    first = batch[0]
    attempt = max(row["attempts"] for row in batch)
    try:
        if first["channel"] == rules.EMAIL:
            wanted = _still_wanted(batch, claim)
            if not wanted:
                return Delivery(tuple(row["id"] for row in batch), first["channel"],
                                first["kind"], "cancelled", attempt, "no longer wanted")
            batch = wanted
            _send_email(config, batch)
        else:
            _post_webhook(config, first)
    except Exception as error:  # noqa: BLE001 - any failure is an attempt recorded and retried
        return _failed(batch, claim, rules.error_text(error), attempt)
    now = clock.db_now()
    with write() as tx:
        delivered = store.mark_delivered(
            tx, [row["id"] for row in batch], claim=claim, at=now,
            scrub=first["kind"] in rules.SCRUBBED_AFTER_DELIVERY)
        for row in batch:
            if row["id"] in delivered:
                audit.record("alert_sent", "ok", at=now, patient_id=row["patient_id"],
                             subject=f"outbox:{row['id']}:{row['channel']}:{row['kind']}",
                             conn=tx)
    return Delivery(tuple(row["id"] for row in batch), first["channel"], first["kind"], "sent",
                    attempt)


def _failed(batch: list, claim: str, error: str, attempt: int) -> Delivery:
    now = clock.now()
    give_up = rules.gives_up(min(clock.from_db(row["created_at"]) for row in batch), now)
    next_at = now + rules.retry_wait(attempt)
    with write() as tx:
        store.mark_failed(tx, [row["id"] for row in batch], claim=claim, at=clock.to_db(now),
                          error=error, next_attempt_at=clock.to_db(next_at), give_up=give_up,
                          scrub=batch[0]["kind"] in rules.SCRUBBED_AFTER_DELIVERY)
    return Delivery(tuple(row["id"] for row in batch), batch[0]["channel"], batch[0]["kind"],
                    "gave_up" if give_up else "failed", attempt, error,
                    None if give_up else next_at)


def _still_wanted(batch: list, claim: str) -> list:
    """The e-mail rows still worth sending; the others are cancelled, with the reason.

    A flag e-mail goes only to someone who is still a clinician in the patient's care team, with
    "E-mail me about flags" on, about a flag nobody has acknowledged yet."""
    conn = get_db()
    people = {row["id"]: row for row in store.recipients(conn, [r["recipient_id"] for r in batch])}
    flagged = [row for row in batch if row["kind"] in rules.FLAG_KINDS]
    in_care = store.active_clinician_pairs(
        conn, [(row["patient_id"], row["recipient_id"]) for row in flagged])
    states = store.flag_states(conn, [row["flag_id"] for row in flagged])
    keep, dropped = [], {}
    for row in batch:
        person = people.get(row["recipient_id"])
        if person is None:
            reason = "no such user"
        elif row["kind"] not in rules.FLAG_KINDS:
            reason = None
        elif (row["patient_id"], row["recipient_id"]) not in in_care:
            reason = "no longer in the patient's care team"
        elif not person["email_flags"]:
            reason = "flag e-mails turned off"
        elif states.get(row["flag_id"]) != "open":
            reason = "flag no longer open"
        else:
            reason = None
        if reason:
            dropped.setdefault(reason, []).append(row["id"])
        else:
            keep.append(row)
    if dropped:
        with write() as tx:
            for reason, ids in dropped.items():
                store.mark_cancelled(tx, ids, claim=claim, at=clock.db_now(), reason=reason)
    return keep


def _send_email(config: rules.AlertSettings, batch: list) -> None:
    first = batch[0]
    mail = config.mail
    to = store.recipients(get_db(), [first["recipient_id"]])[0]["email"]
    message = _compose(config, batch)
    email = rules.email_message(
        sender=mail.sender, to=to, message=message,
        message_id=rules.message_id([row["id"] for row in batch], mail.sender), at=clock.now())
    context = ssl.create_default_context()
    if mail.use_ssl:
        server = smtplib.SMTP_SSL(mail.server, mail.port, timeout=config.timeout,
                                  context=context)
    else:
        server = smtplib.SMTP(mail.server, mail.port, timeout=config.timeout)
    try:
        if mail.use_tls:
            server.starttls(context=context)
        if mail.username:
            server.login(mail.username, mail.password or "")
        server.send_message(email)
    except BaseException:
        server.close()
        raise
    try:  # the server has the message: a failed goodbye is not a failed delivery
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()


def _compose(config: rules.AlertSettings, batch: list) -> rules.Message:
    first = batch[0]
    if first["kind"] == rules.PASSWORD_RESET:
        payload = json.loads(first["payload"])
        return rules.password_reset_message(payload["link"], payload["minutes"])
    if first["kind"] == rules.CAREGIVER_NOTICE:
        name = store.patient_names(get_db(), [first["patient_id"]]).get(first["patient_id"])
        return rules.caregiver_message(name)
    names = (store.patient_names(get_db(), [row["patient_id"] for row in batch])
             if config.include_name else {})
    if first["kind"] == rules.URGENT_FLAG:
        events = [json.loads(row["payload"]).get("event", rules.RAISED) for row in batch]
        return rules.urgent_message(config, events, names.get(first["patient_id"]))
    return rules.digest_message(config, [
        rules.DigestItem(row["patient_id"], names.get(row["patient_id"], "")) for row in batch])


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed attempt, never a POST turned into a GET somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _post_webhook(config: rules.AlertSettings, row) -> None:
    name = (store.patient_names(get_db(), [row["patient_id"]]).get(row["patient_id"])
            if config.include_name else None)
    body = rules.webhook_body(
        config, notification_id=row["id"], flag_id=row["flag_id"],
        event=json.loads(row["payload"]).get("event", "raised"),
        urgent=row["kind"] == rules.URGENT_FLAG, occurred_at=clock.from_db(row["created_at"]),
        patient_name=name)
    stamp = int(clock.now().timestamp())
    request = urllib.request.Request(config.webhook_url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "infusion-diary-alerts",
        rules.SIGNATURE_HEADER: rules.signature(config.webhook_secret, body, stamp),
        "X-Diary-Notification": str(row["id"]),
    })
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(request, timeout=config.timeout) as response:
        response.read(64 * 1024)
        if not 200 <= response.status < 300:
            raise OSError(f"the webhook answered HTTP {response.status}")
