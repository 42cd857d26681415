"""Pages for everyone: the front door, the crisis page, and each role's landing page."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from ..rules import catalogue, chart, clock, flags
from . import timeline

bp = Blueprint("pages", __name__)

LANDING = {
    "patient": "patient.diary",
    "clinician": "clinician.patients",
    "caregiver": "caregiver.shared",
}


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for(LANDING[current_user.role]))
    return render_template("pages/welcome.html")


@bp.route("/help")
def crisis():
    return render_template("pages/crisis.html")


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


NAV = {
    "patient": (("patient.diary", "My diary"), ("team.care_team", "My care team"),
                ("patient.settings", "Settings")),
    "clinician": (("clinician.patients", "My patients"), ("clinician.flags", "Flags"),
                  ("auth.change_password", "Password")),
    "caregiver": (("caregiver.shared", "Shared with me"), ("auth.change_password", "Password")),
}


@bp.record_once
def template_globals(state):
    """Words that imported macros need too, which do not see the request's context."""
    state.app.jinja_env.globals["safety_labels"] = flags.SAFETY_LABELS
    state.app.jinja_env.filters["n"] = chart.svg_number


@bp.app_context_processor
def shared_template_values():
    from .forms import ShareForm
    return {
        "nav_links": lambda role: NAV.get(role, ()),
        "share_form": ShareForm,
        "mood_hint": catalogue.MOOD_HINT,
    }


@bp.app_template_filter("revision_summary")
def revision_summary(previous: str) -> str:
    return timeline.revision_summary(previous)


@bp.app_template_filter("local_time")
def local_time(stored: str, zone: str) -> str:
    """A UTC time from the database, as the reader's own clock shows it."""
    return clock.format_local(clock.from_db(stored), zone)
