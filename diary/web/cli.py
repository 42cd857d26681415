"""Command-line tasks for the clinic's administrator."""

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from ..services import accounts
from ..store import db


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


def init_app(app) -> None:
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(reset_password_command)
