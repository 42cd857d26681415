"""Outbound alerts against real servers on loopback: an SMTP server (aiosmtpd) and an HTTP receiver.

A flag and its alerts are one transaction; the sender delivers, retries with growing waits, never
sends a row twice from two senders, loses nothing to a kill -9, and an alert carries no health
detail. Times are the fake clock's, except where a real `flask send-notifications` runs.
"""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from diary import create_app
from diary.rules import alerts as rules
from diary.rules import clock
from diary.rules.tokens import token_hash
from diary.services import accounts, alerts
from diary.services import flags as flagging
from diary.store import outbox as store
from diary.store.db import write

from tests.helpers import check_in, join_care_team, query, record_infusion

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a webhook secret for the tests"
BASE = "https://diary.example"
SENDER = "Infusion diary <alerts@diary.example>"
NOTE = "Frightened by the ceiling tonight"
HEALTH_WORDS = ("headache", "nausea", "sick", "stomach", "mood", "0 of 10", "frightened",
                "ceiling", "safety", "harming", "moderate", "mild", "severe", "dizz", "blurr",
                "vision", "hour")


@pytest.fixture
def app(app_config, smtp_server, webhook_receiver):
    """This module's app: mail to the loopback SMTP server, webhooks to the loopback receiver."""
    app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                      MAIL_DEFAULT_SENDER=SENDER, ALERT_WEBHOOK_URL=webhook_receiver.url,
                      ALERT_WEBHOOK_SECRET=SECRET, BASE_URL=BASE)
    return create_app(app_config)


def clinic(app, users, clinicians=2, name="Pat Lee"):
    """A patient and their clinicians, all in one care team."""
    patient = users.create("patient", name=name)
    doctors = [users.create("clinician", name=f"Dr Number {i}") for i in range(clinicians)]
    with app.app_context():
        for doctor in doctors:
            join_care_team(patient["id"], doctor["id"])
    return patient, doctors


def infusion(app, patient, ended_hours_ago=0.5):
    """An infusion of 40 minutes that ended this long ago (by the clock in force)."""
    start = clock.now() - timedelta(hours=ended_hours_ago, minutes=40)
    with app.app_context():
        return record_infusion(patient["id"], start)


def checkin(app, patient, row, **fields):
    with app.app_context():
        return check_in(patient["id"], row, clock.now(), **fields)


def deliver(app, settings=None, **options):
    with app.app_context():
        return alerts.deliver_due(settings or alerts.settings(), **options)


def outbox(app, where="1"):
    return query(app, f"SELECT * FROM outbox WHERE {where} ORDER BY id")


def attempts(app, outbox_id):
    return query(app, "SELECT * FROM outbox_attempts WHERE outbox_id = ? ORDER BY id",
                 (outbox_id,))


def body_of(message) -> str:
    return message.get_content()


def assert_no_health_detail(text: str) -> None:
    lowered = text.lower()
    found = [word for word in HEALTH_WORDS if word in lowered]
    assert not found, (found, text)


# An urgent check-in


def test_an_urgent_checkin_sends_one_email_per_clinician_and_one_signed_webhook(
        app, users, fake_clock, smtp_server, webhook_receiver):
    patient, doctors = clinic(app, users)
    row = infusion(app, patient)
    checkin(app, patient, row, mood=0, severities={"headache": 2, "nausea": 3}, note=NOTE)
    assert [flag["kind"] for flag in query(app, "SELECT kind FROM flags")] == ["low_mood"]
    queued = outbox(app)
    assert sorted((r["channel"], r["recipient_id"]) for r in queued) == sorted(
        [("email", d["id"]) for d in doctors] + [("webhook", None)])

    done = deliver(app)

    assert sorted(d.outcome for d in done) == ["sent"] * 3
    assert len(smtp_server.messages) == 2
    for doctor in doctors:
        [message] = smtp_server.to(doctor["email"])
        assert message["Subject"] == "Urgent flag in the infusion diary"
        assert message["From"] == SENDER
        assert message["Content-Transfer-Encoding"] == "7bit"
        text = body_of(message)
        assert text.startswith("A patient in your care has a new urgent flag in the infusion "
                               "diary.")
        assert f"{BASE}/clinic/flags" in text
        assert "Pat" not in text and "Lee" not in text
        assert_no_health_detail(text + message["Subject"])
    [(headers, body)] = webhook_receiver.requests
    now = int(fake_clock().timestamp())
    assert rules.verify_signature(SECRET, headers["X-Diary-Signature"], body, now)
    assert not rules.verify_signature(SECRET, headers["X-Diary-Signature"], body + b" ", now)
    assert not rules.verify_signature("another secret", headers["X-Diary-Signature"], body, now)
    assert not rules.verify_signature(SECRET, headers["X-Diary-Signature"], body, now + 3600)
    payload = json.loads(body)
    assert payload["type"] == "flag.raised" and payload["urgent"] is True
    assert payload["link"] == f"{BASE}/clinic/flags" and "patient_name" not in payload
    assert_no_health_detail(body.decode())
    assert {r["state"] for r in outbox(app)} == {"delivered"}
    assert len(query(app, "SELECT * FROM audit WHERE action = 'alert_sent'")) == 3

    assert deliver(app) == []
    assert len(smtp_server.messages) == 2 and len(webhook_receiver.requests) == 1


def test_the_patient_is_named_only_when_the_clinic_turns_it_on(
        app, users, fake_clock, smtp_server, webhook_receiver):
    app.config["ALERTS_INCLUDE_NAME"] = True
    patient, [doctor] = clinic(app, users, clinicians=1, name="Pat\nLee")
    checkin(app, patient, infusion(app, patient), mood=7, safety="yes", note=NOTE)
    deliver(app)
    [message] = smtp_server.messages
    assert body_of(message).startswith("A patient in your care, Pat Lee, has a new urgent flag")
    assert_no_health_detail(body_of(message))
    [(_, body)] = webhook_receiver.requests
    assert json.loads(body)["patient_name"] == "Pat Lee"


def test_several_urgent_flags_of_one_checkin_make_one_email_per_clinician(
        app, users, fake_clock, smtp_server, webhook_receiver):
    patient, doctors = clinic(app, users)
    checkin(app, patient, infusion(app, patient), mood=0, safety="yes",
            severities={"headache": 4})
    assert len(query(app, "SELECT * FROM flags WHERE urgent = 1")) == 3
    deliver(app)
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(d["email"] for d in doctors)
    assert "has 3 new urgent flags" in body_of(smtp_server.messages[0])
    assert len(webhook_receiver.requests) == 3  # one per flag event


def test_a_flag_and_its_alerts_are_saved_together_and_queued_once(app, users, fake_clock):
    patient, doctors = clinic(app, users)
    row = infusion(app, patient)
    with app.app_context(), pytest.raises(RuntimeError):
        with write():
            check_in(patient["id"], row, clock.now(), mood=0)
            raise RuntimeError("the request failed after the check-in")
    assert query(app, "SELECT * FROM flags") == [] and outbox(app) == []

    checkin(app, patient, row, mood=0)
    [flag] = query(app, "SELECT * FROM flags")
    before = len(outbox(app))
    with app.app_context(), write() as tx:
        again = alerts.queue_flag_alerts(tx, flag_id=flag["id"], patient_id=patient["id"],
                                         urgent=True, event="raised", at=clock.db_now())
    assert again == 0 and len(outbox(app)) == before == 3


def test_a_reopened_urgent_flag_alerts_again(app, users, fake_clock, smtp_server):
    patient, [doctor] = clinic(app, users, clinicians=1)
    row = infusion(app, patient)
    checkin(app, patient, row, mood=0)
    deliver(app)
    [flag] = query(app, "SELECT * FROM flags")
    with app.app_context():
        assert flagging.acknowledge(doctor["id"], flag, "called her")
    fake_clock.advance(minutes=20)
    checkin(app, patient, row, mood=1)
    deliver(app)
    assert [m["Subject"] for m in smtp_server.messages] == [rules.URGENT_SUBJECT] * 2
    assert "has an urgent flag open again" in body_of(smtp_server.messages[1])


def test_a_patient_without_a_clinician_alerts_nobody(app, users, fake_clock):
    patient = users.create("patient")
    checkin(app, patient, infusion(app, patient), mood=0)
    assert len(query(app, "SELECT * FROM flags")) == 1 and outbox(app) == []


# Servers that are down, refuse, hang or hang up


def test_mail_server_down_for_hours_then_back_delivers_once(
        app, users, fake_clock, smtp_server, webhook_receiver):
    patient, doctors = clinic(app, users)
    smtp_server.stop()
    checkin(app, patient, infusion(app, patient), mood=0)
    start = clock.now()
    first = deliver(app)
    assert sorted(d.outcome for d in first) == ["failed", "failed", "sent"]  # the webhook went
    assert len(webhook_receiver.requests) == 1

    waits = []
    while clock.now() - start < timedelta(hours=5):
        [planned] = {r["next_attempt_at"] for r in outbox(app, "channel = 'email'")}
        waits.append(clock.from_db(planned) - clock.now())
        fake_clock.set(clock.from_db(planned))
        assert {d.outcome for d in deliver(app)} == {"failed"}
    assert waits[:5] == list(rules.RETRY_WAITS) and set(waits[5:]) == {rules.RETRY_WAITS[-1]}
    email_rows = outbox(app, "channel = 'email'")
    for row in email_rows:
        tries = attempts(app, row["id"])
        assert len(tries) == row["attempts"] > 50
        assert {t["outcome"] for t in tries} == {"failed"}
        assert "ConnectionRefusedError" in tries[0]["error"] and tries[-1]["finished_at"]

    smtp_server.start()  # back, on the same port
    fake_clock.advance(minutes=5)
    assert {d.outcome for d in deliver(app)} == {"sent"}
    fake_clock.advance(hours=1)
    assert deliver(app) == []
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(d["email"] for d in doctors)
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 2
    assert {r["state"] for r in outbox(app)} == {"delivered"}


def test_a_mail_server_that_answers_5xx_is_retried(app, users, fake_clock, smtp_server):
    patient, [doctor] = clinic(app, users, clinicians=1)
    smtp_server.reply = "554 5.7.1 Not today"
    checkin(app, patient, infusion(app, patient), mood=0)
    [failed] = deliver(app, channels=["email"])
    assert failed.outcome == "failed" and "554" in failed.error
    [row] = outbox(app, "channel = 'email'")
    assert row["state"] == "pending" and "554 5.7.1 Not today" in row["last_error"]
    smtp_server.reply = "250 OK"
    assert deliver(app, channels=["email"]) == []  # not before its wait
    fake_clock.advance(seconds=10)
    assert [d.outcome for d in deliver(app, channels=["email"])] == ["sent"]
    assert len(smtp_server.messages) == 1
    assert [t["outcome"] for t in attempts(app, row["id"])] == ["failed", "sent"]


@pytest.mark.parametrize("broken_mail_server", ["hangs", "closes"], indirect=True)
def test_a_mail_server_that_hangs_or_hangs_up_is_an_attempt_and_the_app_never_waits(
        app, users, fake_clock, smtp_server, broken_mail_server):
    patient, [doctor] = clinic(app, users, clinicians=1)
    app.config["MAIL_PORT"] = broken_mail_server.port
    row = infusion(app, patient)
    began = time.monotonic()
    checkin(app, patient, row, mood=0)
    assert time.monotonic() - began < 1  # the check-in only wrote rows
    with app.app_context():
        settings = dataclasses.replace(alerts.settings(), timeout=1)
    began = time.monotonic()
    [failed] = deliver(app, settings, channels=["email"])
    assert time.monotonic() - began < 5
    assert failed.outcome == "failed"
    assert ("timed out" in failed.error if broken_mail_server.close_at_once is False
            else "SMTPServerDisconnected" in failed.error), failed.error
    app.config["MAIL_PORT"] = smtp_server.port
    fake_clock.advance(seconds=10)
    assert [d.outcome for d in deliver(app, channels=["email"])] == ["sent"]
    assert len(smtp_server.messages) == 1


def test_a_webhook_that_answers_500_is_retried(app, users, fake_clock, webhook_receiver):
    patient, _ = clinic(app, users, clinicians=1)
    webhook_receiver.status = 500
    checkin(app, patient, infusion(app, patient), mood=0)
    [failed] = deliver(app, channels=["webhook"])
    assert failed.outcome == "failed" and "500" in failed.error
    webhook_receiver.status = 200
    fake_clock.advance(seconds=10)
    assert [d.outcome for d in deliver(app, channels=["webhook"])] == ["sent"]
    bodies = [body for _, body in webhook_receiver.requests]
    assert len(bodies) == 2 and bodies[0] == bodies[1]  # the same event, signed afresh


def test_a_row_never_delivered_is_given_up_after_a_week_and_says_so(
        app, users, fake_clock, smtp_server):
    patient, _ = clinic(app, users, clinicians=1)
    smtp_server.stop()
    checkin(app, patient, infusion(app, patient), mood=0)
    deliver(app, channels=["email"])
    fake_clock.advance(days=7)
    [gave_up] = deliver(app, channels=["email"])
    assert gave_up.outcome == "gave_up"
    [row] = outbox(app, "channel = 'email'")
    assert row["state"] == "gave_up" and "ConnectionRefusedError" in row["last_error"]
    fake_clock.advance(days=1)
    assert deliver(app, channels=["email"]) == []


# Digests


def test_a_digest_batches_lasting_flags_at_most_every_digest_minutes(
        app, users, fake_clock, smtp_server, webhook_receiver):
    first, doctors = clinic(app, users, name="Pat Lee")
    second = users.create("patient", name="Sam Rivera")
    with app.app_context():
        for doctor in doctors:
            join_care_team(second["id"], doctor["id"])
    first_infusion = infusion(app, first, ended_hours_ago=7)
    second_infusion = infusion(app, second, ended_hours_ago=7)
    checkin(app, first, first_infusion, mood=6,
            severities={"nausea": 1, "dizziness": 1, "vision": 2}, note=NOTE)
    assert len(query(app, "SELECT * FROM flags WHERE kind = 'lasting'")) == 3
    start = clock.now()
    deliver(app)
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(d["email"] for d in doctors)
    for message in smtp_server.messages:
        assert message["Subject"] == "Lasting flags in the infusion diary"
        assert body_of(message).startswith("A patient in your care has 3 new non-urgent flags")
        assert_no_health_detail(body_of(message))
    assert len(webhook_receiver.requests) == 3  # the webhook is per event, at once

    fake_clock.advance(minutes=10)
    checkin(app, second, second_infusion, mood=6, severities={"coordination": 1})
    fake_clock.advance(minutes=10)
    checkin(app, first, first_infusion, mood=6,
            severities={"nausea": 1, "dizziness": 1, "vision": 2, "anxiety": 1})
    deliver(app)
    assert len(smtp_server.messages) == 2 and len(webhook_receiver.requests) == 5
    fake_clock.set(start + timedelta(minutes=59))
    assert deliver(app) == []

    fake_clock.set(start + timedelta(minutes=60))
    deliver(app)
    later = smtp_server.messages[2:]
    assert sorted(m["To"] for m in later) == sorted(d["email"] for d in doctors)
    for message in later:
        text = body_of(message)
        assert text.startswith("2 patients in your care have 2 new non-urgent flags")
        assert "Rivera" not in text and "Lee" not in text
        assert_no_health_detail(text)
    assert {r["state"] for r in outbox(app)} == {"delivered"}


def test_a_digest_names_the_patients_when_allowed(app, users, fake_clock, smtp_server):
    app.config["ALERTS_INCLUDE_NAME"] = True
    app.config["DIGEST_MINUTES"] = 30
    first, [doctor] = clinic(app, users, clinicians=1, name="Pat Lee")
    second = users.create("patient", name="Sam Rivera")
    with app.app_context():
        join_care_team(second["id"], doctor["id"])
    checkin(app, first, infusion(app, first, 7), mood=6, severities={"nausea": 1, "vision": 1})
    checkin(app, second, infusion(app, second, 7), mood=6, severities={"coordination": 1})
    deliver(app)
    [message] = smtp_server.messages
    text = body_of(message)
    assert "- Pat Lee: 2 flags" in text and "- Sam Rivera: 1 flag" in text
    assert "at most one of these e-mails every 30 minutes" in " ".join(text.split())


# Who gets what


def test_no_mail_server_queues_no_email(app, users, fake_clock, runner):
    app.config["MAIL_SERVER"] = None
    patient, _ = clinic(app, users)
    checkin(app, patient, infusion(app, patient), mood=0)
    assert [r["channel"] for r in outbox(app)] == ["webhook"]
    app.config["ALERT_WEBHOOK_URL"] = ""
    other, _ = clinic(app, users)
    checkin(app, other, infusion(app, other), mood=0)
    assert len(outbox(app)) == 1
    result = runner.invoke(args=["send-notifications", "--once"])
    assert result.exit_code == 0 and "nothing to deliver" in result.output
    with app.app_context():
        assert not alerts.mail_configured()
        assert not alerts.queue_password_reset(patient["id"], "hash", f"{BASE}/reset/x", 60)


def test_a_clinician_who_turns_flag_emails_off_gets_none(app, users, fake_clock, smtp_server):
    patient, (keen, quiet) = clinic(app, users)
    with app.app_context():
        assert alerts.flag_emails_on(quiet["id"])
        assert alerts.set_flag_emails(quiet["id"], False)
        assert not alerts.flag_emails_on(quiet["id"])
        assert not alerts.set_flag_emails(987654, False)
    [audit] = query(app, "SELECT * FROM audit WHERE action = 'flag_emails_set'")
    assert (audit["actor_id"], audit["outcome"]) == (quiet["id"], "off")
    row = infusion(app, patient)
    checkin(app, patient, row, mood=0)
    assert [r["recipient_id"] for r in outbox(app, "channel = 'email'")] == [keen["id"]]

    # turned off after the e-mail was queued, before it went: not sent either
    fake_clock.advance(minutes=5)
    checkin(app, patient, row, mood=6, safety="yes")
    with app.app_context():
        alerts.set_flag_emails(keen["id"], False)
    deliver(app)
    assert smtp_server.messages == []
    assert {r["state"] for r in outbox(app, "channel = 'email'")} == {"cancelled"}
    [cancelled] = attempts(app, outbox(app, "channel = 'email'")[0]["id"])
    assert (cancelled["outcome"], cancelled["error"]) == ("cancelled", "flag e-mails turned off")


def test_a_clinician_who_left_the_care_team_is_not_told(app, users, fake_clock, smtp_server):
    patient, [doctor] = clinic(app, users, clinicians=1)
    checkin(app, patient, infusion(app, patient), mood=0)
    with app.app_context(), write() as tx:
        tx.execute("UPDATE care_team SET ended_at = ?, ended_by = ?",
                   (clock.db_now(), patient["id"]))
    deliver(app, channels=["email"])
    assert smtp_server.messages == []
    assert outbox(app, "channel = 'email'")[0]["last_error"] == (
        "no longer in the patient's care team")


def test_a_password_reset_email_can_be_queued_with_its_token(app, users, fake_clock, smtp_server):
    person = users.create("clinician")
    with app.app_context():
        with write() as tx:
            token = accounts.create_password_reset(person["email"], 60)
            assert alerts.queue_password_reset(person["id"], token_hash(token),
                                               f"{BASE}/reset/{token}", 60, conn=tx)
        alerts.deliver_due(alerts.settings())
    [message] = smtp_server.messages
    assert message["To"] == person["email"]
    assert f"{BASE}/reset/{token}" in body_of(message) and "60 minutes" in body_of(message)
    [row] = outbox(app)
    assert row["state"] == "delivered" and token not in row["payload"]


# Bad input


def test_an_unknown_id_or_a_second_send_is_a_no_op(app, users, fake_clock, smtp_server, runner):
    patient, [doctor] = clinic(app, users, clinicians=1)
    checkin(app, patient, infusion(app, patient), mood=0)
    [row] = outbox(app, "channel = 'email'")
    with app.app_context():
        settings = alerts.settings()
        for wrong in (987654, -1, 0, 2**70, "1", None, True):
            assert alerts.deliver_one(settings, wrong) is None
        assert alerts.deliver_one(settings, row["id"]).outcome == "sent"
        assert alerts.deliver_one(settings, row["id"]) is None
        assert [d.channel for d in alerts.deliver_due(settings)] == ["webhook"]
    assert len(smtp_server.messages) == 1
    for args in (["--id", "987654"], ["--id", str(row["id"])]):
        result = runner.invoke(args=["send-notifications", *args])
        assert result.exit_code == 0 and "nothing done" in result.output, result.output
    result = runner.invoke(args=["send-notifications", "--id", "abc"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(smtp_server.messages) == 1


def test_a_webhook_url_that_is_not_http_is_refused_plainly(app, users, fake_clock, runner,
                                                           client):
    app.config["ALERT_WEBHOOK_URL"] = "ftp://hooks.example/diary"
    patient, _ = clinic(app, users)
    checkin(app, patient, infusion(app, patient), mood=0)
    assert {r["channel"] for r in outbox(app)} == {"email"}
    result = runner.invoke(args=["send-notifications", "--once"])
    assert result.exit_code == 0
    [line] = [line for line in result.output.splitlines() if "ALERT_WEBHOOK_URL" in line]
    assert "must be an http:// or https:// address" in line
    assert client.get("/").status_code in (200, 302)

    app.config.update(ALERT_WEBHOOK_URL="https://hooks.example/diary", ALERT_WEBHOOK_SECRET="")
    with app.app_context():
        [problem] = alerts.settings().problems
    assert problem.startswith("ALERT_WEBHOOK_SECRET is empty")


# Senders side by side, and a sender killed


def test_two_senders_in_parallel_never_send_a_row_twice(
        app, users, fake_clock, smtp_server, webhook_receiver):
    patients = [clinic(app, users, clinicians=6, name=f"Patient {i}")[0] for i in range(3)]
    for patient in patients:
        checkin(app, patient, infusion(app, patient), mood=0, safety="yes")
    rows = outbox(app)
    assert len(rows) == 3 * (6 * 2 + 2)  # two urgent flags each: per clinician, and webhooks
    start, failures, delivered = threading.Barrier(4), [], []

    def sender():
        try:
            with app.app_context():
                settings = alerts.settings()
                start.wait()
                delivered.append(len(alerts.deliver_due(settings, limit=1)))
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == [] and sum(count > 0 for count in delivered) >= 2, delivered
    assert len(smtp_server.messages) == 18
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 18
    assert len(webhook_receiver.requests) == 6
    assert {r["state"] for r in outbox(app)} == {"delivered"}
    tried = query(app, "SELECT outbox_id, count(*) AS n FROM outbox_attempts GROUP BY outbox_id")
    assert len(tried) == len(rows) and {row["n"] for row in tried} == {1}


def test_a_lease_keeps_a_row_from_others_until_it_runs_out(app, users, fake_clock, smtp_server):
    patient, [doctor] = clinic(app, users, clinicians=1)
    checkin(app, patient, infusion(app, patient), mood=0)
    now = clock.now()
    with app.app_context(), write() as tx:  # a sender that claims and then dies
        [taken] = store.claim_due(tx, channels=["email"], now=clock.to_db(now),
                                  lease_until=clock.to_db(now + timedelta(seconds=120)),
                                  claim="dead-sender", limit=5)
    assert deliver(app, channels=["email"]) == []
    fake_clock.advance(seconds=119)
    assert deliver(app, channels=["email"]) == []
    fake_clock.advance(seconds=1)
    assert [d.outcome for d in deliver(app, channels=["email"])] == ["sent"]
    assert [(t["claim"], t["outcome"]) for t in attempts(app, taken["id"])] == [
        ("dead-sender", None), (attempts(app, taken["id"])[1]["claim"], "sent")]
    assert len(smtp_server.messages) == 1


def sender_command(app, smtp_server, *args):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIARY_")}
    env.update(DIARY_DATABASE=app.config["DATABASE"], DIARY_SECRET_KEY="test-only-secret",
               DIARY_MAIL_SERVER="127.0.0.1", DIARY_MAIL_PORT=str(smtp_server.port),
               DIARY_MAIL_DEFAULT_SENDER=SENDER, DIARY_BASE_URL=BASE, PYTHONUNBUFFERED="1")
    return dict(args=[sys.executable, "-m", "flask", "--app", "diary", "send-notifications",
                      *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True)


def test_kill_9_mid_delivery_then_a_new_sender_delivers_at_least_once_at_most_twice(
        app, users, smtp_server):
    app.config["ALERT_WEBHOOK_URL"] = None
    patient, [doctor] = clinic(app, users, clinicians=1)
    checkin(app, patient, infusion(app, patient), mood=0)
    [row] = outbox(app)
    smtp_server.delay_first = 20  # the server holds its answer: the sender is mid-delivery

    with subprocess.Popen(**sender_command(app, smtp_server, "--once", "--lease-seconds",
                                           "2")) as first:
        assert smtp_server.wait_for(1, timeout=30), first.stdout.read()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    [claimed] = outbox(app)
    assert claimed["state"] == "pending" and claimed["claimed_until"]
    [interrupted] = attempts(app, row["id"])
    assert interrupted["outcome"] is None and interrupted["finished_at"] is None

    time.sleep(3)  # the dead sender's lease runs out
    second = subprocess.run(**sender_command(app, smtp_server, "--once"), timeout=60)
    assert second.returncode == 0, second.stdout
    copies = [m for m in smtp_server.messages if m["To"] == doctor["email"]]
    assert 1 <= len(copies) <= 2 and len({m["Message-ID"] for m in copies}) == 1
    assert outbox(app)[0]["state"] == "delivered"
    assert [t["outcome"] for t in attempts(app, row["id"])] == [None, "sent"]


def test_the_running_sender_emails_an_urgent_flag_within_seconds(
        app, users, smtp_server, record_property, capsys):
    """Three urgent check-ins at different points of the sender's 2-second poll."""
    app.config["ALERT_WEBHOOK_URL"] = None
    people = [clinic(app, users, clinicians=1, name=f"Patient {i}")[0] for i in range(3)]
    diaries = [infusion(app, patient) for patient in people]
    seconds = []
    with subprocess.Popen(**sender_command(app, smtp_server)) as sender:
        try:
            assert "looking every 2 s" in sender.stdout.readline()
            for count, (patient, row) in enumerate(zip(people, diaries), start=1):
                time.sleep(0.7 * count)
                began = time.monotonic()
                checkin(app, patient, row, mood=0, safety="yes")
                assert smtp_server.wait_for(count, timeout=10)
                seconds.append(time.monotonic() - began)
        finally:
            sender.send_signal(signal.SIGTERM)
            assert sender.wait(20) == 0
    assert max(seconds) < 10
    record_property("urgent_email_seconds", [round(s, 2) for s in seconds])
    with capsys.disabled():
        print("\nurgent check-in to e-mail at the SMTP server: "
              + ", ".join(f"{s:.2f} s" for s in seconds))
    assert [m["Subject"] for m in smtp_server.messages] == [rules.URGENT_SUBJECT] * 3


# The pure parts


def test_retry_waits_grow_then_hold():
    waits = [rules.retry_wait(n) for n in range(1, 9)]
    assert waits == sorted(waits) and waits[0] == timedelta(seconds=10)
    assert waits[-1] == waits[-2] == timedelta(minutes=5)


def test_signature_format_and_replay_window():
    body = b'{"a":1}'
    header = rules.signature("s3cret", body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert rules.verify_signature("s3cret", header, body, 1_700_000_000 + 299)
    assert not rules.verify_signature("s3cret", header, body, 1_700_000_000 + 301)
    for broken in (None, "", "t=x,v1=00", "v1=" + header.split("v1=")[1]):
        assert not rules.verify_signature("s3cret", broken, body, 1_700_000_000)


@pytest.mark.parametrize("config, problem", [
    ({"MAIL_SERVER": "mail", "MAIL_USE_TLS": 1, "MAIL_USE_SSL": True}, "Set only one of"),
    ({"MAIL_SERVER": "mail", "MAIL_PORT": "smtp"}, "MAIL_PORT must be a port number"),
    ({"MAIL_SERVER": "mail", "MAIL_PORT": 70000}, "MAIL_PORT must be a port number"),
    ({"ALERT_WEBHOOK_URL": "javascript:alert(1)", "ALERT_WEBHOOK_SECRET": "x"},
     "ALERT_WEBHOOK_URL must be an http"),
    ({"ALERT_WEBHOOK_URL": "https://", "ALERT_WEBHOOK_SECRET": "x"},
     "ALERT_WEBHOOK_URL must be an http"),
    ({"DIGEST_MINUTES": 0}, "DIGEST_MINUTES must be"),
])
def test_wrong_settings_are_one_line_each_and_turn_that_part_off(config, problem):
    settings = rules.settings_from(config)
    [line] = settings.problems
    assert line.startswith(problem) and "\n" not in line
    assert not settings.email_on and not settings.webhook_on


def test_settings_as_environment_variables_give_them():
    settings = rules.settings_from({
        "MAIL_SERVER": "smtp.clinic.example", "MAIL_USE_TLS": 1, "MAIL_USERNAME": "alerts",
        "MAIL_PASSWORD": 12345, "ALERTS_INCLUDE_NAME": "true", "DIGEST_MINUTES": "15",
        "BASE_URL": "https://diary.clinic.example/"})
    assert settings.mail.port == 587 and settings.mail.password == "12345"
    assert settings.mail.sender == "Infusion diary <diary@diary.clinic.example>"
    assert settings.include_name and settings.digest_minutes == 15
    assert settings.flags_link == "https://diary.clinic.example/clinic/flags"
    assert rules.settings_from({"MAIL_SERVER": "m", "MAIL_USE_SSL": True}).mail.port == 465
    assert rules.settings_from({"MAIL_SERVER": "m"}).mail.port == 25


def test_digest_slots():
    now = datetime(2026, 3, 10, 14, 0, tzinfo=timezone.utc)
    assert rules.digest_times(now, None, 60) == (now, now)
    earlier = now - timedelta(minutes=10)
    still_open = rules.DigestSlot(earlier, True, None, earlier + timedelta(seconds=30))
    assert rules.digest_times(now, still_open, 60) == (earlier, earlier + timedelta(seconds=30))
    sent = rules.DigestSlot(earlier, False, earlier + timedelta(minutes=2), earlier)
    assert rules.digest_times(now, sent, 60)[0] == earlier + timedelta(minutes=62)
    long_ago = rules.DigestSlot(now - timedelta(days=1), False, now - timedelta(days=1), now)
    assert rules.digest_times(now, long_ago, 60) == (now, now)


def test_the_urgent_email_in_full():
    settings = rules.settings_from({"MAIL_SERVER": "m", "BASE_URL": BASE})
    message = rules.urgent_message(settings, ["raised"], "Pat Lee")
    assert message.subject == "Urgent flag in the infusion diary"
    assert message.body == (
        "A patient in your care has a new urgent flag in the infusion diary.\n"
        "\n"
        "Please sign in and look at it as soon as you can:\n"
        "https://diary.example/clinic/flags\n"
        "\n"
        "This e-mail holds no details from the diary: sign in to read them. You\n"
        "get it as a clinician in this patient's care team; you can turn these\n"
        'e-mails off in your settings ("E-mail me about flags").\n'
    )
    assert max(len(line) for line in message.body.splitlines()) <= 72
