"""Command-line tasks for the clinic's administrator."""

import signal
import sys
import threading
import time

import click
from flask import current_app
from flask.cli import with_appcontext

from ..rules import alerts as alert_rules
from ..rules import clock
from ..services import accounts, alerts
from ..store import db

STOP_PATIENCE_SECONDS = 15
"""How long a stopping sender waits for the delivery under way (one network timeout or so)."""


def _read_password() -> str:
    if not sys.stdin.isatty():
        lines = sys.stdin.read().splitlines()
        if len(lines) >= 2 and lines[0] != lines[1]:
            raise click.ClickException("The two passwords are not the same.")
        if not lines:
            raise click.ClickException("No password given on standard input.")
        return lines[0]
    return click.prompt("Password", hide_input=True, confirmation_prompt="Confirm password")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), default="clinician", show_default=True)
@click.option("--name", required=True, help="The name other users see.")
@click.option("--time-zone", default=None, help="IANA name; the clinic's default when left out.")
@with_appcontext
def create_user_command(email, role, name, time_zone):
    """Create an account; the password is asked twice (or read from standard input)."""
    password = _read_password()
    try:
        accounts.create_user(
            email=email, name=name, role=role, password=password,
            time_zone=time_zone or current_app.config["DEFAULT_TIME_ZONE"],
        )
    except accounts.AccountError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Created {role} account for {email}.")


@click.command("reset-password")
@click.argument("email")
@with_appcontext
def reset_password_command(email):
    """Print a one-time link, valid for an hour, through which the user sets a new password."""
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    try:
        token = accounts.create_password_reset(email, minutes)
    except accounts.AccountError as error:
        raise click.ClickException(error.message) from None
    base = current_app.config["BASE_URL"].rstrip("/")
    click.echo(f"Give this link to {email}; it works once, for {minutes} minutes:")
    click.echo(f"{base}/reset/{token}")


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create the database or bring it up to the latest schema; existing rows are kept."""
    path = current_app.config["DATABASE"]
    version = db.migrate_database(path)
    click.echo(f"Database {path} is at schema version {version}.")


@click.command("send-notifications")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--id", "notification_id", type=int, default=None,
              help="Deliver this one notification now, whatever its wait, then exit.")
@click.option("--poll-seconds", type=click.FloatRange(0.1, 60), show_default=True,
              default=alert_rules.POLL_SECONDS, help="How often to look for due alerts.")
@click.option("--lease-seconds", type=click.IntRange(1, 3600), show_default=True,
              default=alert_rules.LEASE_SECONDS,
              help="How long a claimed alert is this sender's; if it dies, others wait this long.")
@with_appcontext
def send_notifications_command(once, notification_id, poll_seconds, lease_seconds):
    """Deliver queued alerts (e-mail, webhook) until stopped, retrying with growing waits."""
    config = alerts.settings()
    for problem in config.problems:
        _log(problem, err=True)
    channels = [channel for channel in alert_rules.CHANNELS if config.delivers(channel)]
    if notification_id is not None:
        delivery = alerts.deliver_one(config, notification_id, lease_seconds)
        _log(delivery.line() if delivery else
             f"notification {notification_id} is not waiting to be sent (unknown, already "
             "delivered, being sent now, or its channel is not configured); nothing done.")
        return
    if not channels:
        _log("no mail server (MAIL_SERVER) and no webhook (ALERT_WEBHOOK_URL) configured: "
             "nothing to deliver.", err=True)
        if once:
            return
    else:
        _log(f"delivering {' and '.join(_describe(config, c) for c in channels)}"
             + ("." if once else f", looking every {poll_seconds:g} s; Ctrl-C stops."))
    stop = threading.Event()
    app = current_app._get_current_object()
    workers = [threading.Thread(target=_deliver_loop, name=f"send-{channel}", daemon=True,
                                args=(app, config, channel, once, poll_seconds, lease_seconds,
                                      stop))
               for channel in channels]
    for worker in workers:
        worker.start()
    if once:
        for worker in workers:
            worker.join()
        return
    _stop_on_signals(stop)
    while not stop.wait(0.5):
        pass
    deadline = time.monotonic() + STOP_PATIENCE_SECONDS
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))


def _deliver_loop(app, config, channel, once, poll_seconds, lease_seconds, stop) -> None:
    """One channel's deliveries, so a hanging mail server never holds up the webhook."""
    with app.app_context():
        while not stop.is_set():
            try:
                for delivery in alerts.deliver_due(config, channels=[channel],
                                                   lease_seconds=lease_seconds):
                    _log(delivery.line(), err=delivery.outcome != "sent")
            except Exception as error:  # noqa: BLE001 - the sender keeps going; rows are safe
                _log(f"{channel}: {alert_rules.error_text(error)}; trying again.", err=True)
            if once or stop.wait(poll_seconds):
                return


def _describe(config, channel) -> str:
    if channel == alert_rules.EMAIL:
        return f"e-mail through {config.mail.server}:{config.mail.port}"
    return "the webhook"


def _stop_on_signals(stop: threading.Event) -> None:
    """Ctrl-C or SIGTERM: finish the delivery under way (up to STOP_PATIENCE_SECONDS), then stop.

    Set explicitly, because a command started with `&` in a script begins with Ctrl-C ignored.
    A delivery cut short is safe: its lease runs out and the alert is sent again, not lost."""
    def handle(_signum, _frame):
        stop.set()
    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)


def _log(line: str, err: bool = False) -> None:
    click.echo(f"[send-notifications {clock.db_now()}] {line}", err=err)


def init_app(app) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(reset_password_command)
    app.cli.add_command(send_notifications_command)
