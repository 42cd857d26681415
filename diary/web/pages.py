"""Pages for everyone: the front door, the crisis page, and each role's landing page."""

from flask import Blueprint, g, redirect, render_template, url_for
from flask_login import current_user

from .. import access
from ..rules import catalogue, chart, clock, contact, flags
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
        if current_user.is_clinician and access.open_flag_totals(current_user)["total"]:
            return redirect(url_for("clinician.flags"))
        return redirect(url_for(LANDING[current_user.role]))
    return render_template("pages/welcome.html")


@bp.route("/help")
def crisis():
    clinic = access.clinic_contacts(current_user) if current_user.is_authenticated else []
    return render_template("pages/crisis.html", clinic=clinic)


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


NAV = {
    "patient": (("patient.diary", "My diary"), ("course.mine", "My course"), ("team.care_team", "My care team"),
                ("patient.settings", "Settings")),
    "clinician": (("clinician.patients", "My patients"), ("clinician.flags", "Flags"),
                  ("clinician.settings", "Settings")),
    "caregiver": (("caregiver.shared", "Shared with me"), ("auth.change_password", "Password")),
}


@bp.record_once
def template_globals(state):
    """Words that imported macros need too, which do not see the request's context."""
    state.app.jinja_env.globals["safety_labels"] = flags.SAFETY_LABELS
    state.app.jinja_env.filters["n"] = chart.svg_number
    state.app.jinja_env.filters["whole_time"] = timeline.whole_time
    state.app.jinja_env.filters["tel"] = contact.tel_link


@bp.app_context_processor
def shared_template_values():
    from .forms import ShareForm
    return {
        "nav_links": lambda role: NAV.get(role, ()),
        "open_flag_count": _open_flag_count,
        "share_form": ShareForm,
        "mood_hint": catalogue.MOOD_HINT,
    }


def _open_flag_count() -> int:
    """For the clinician's menu: how many flags are open, from the counts the lists keep."""
    if g.get("error_page") or not (current_user.is_authenticated and current_user.is_clinician):
        return 0
    return access.open_flag_totals(current_user)["total"]


@bp.app_template_filter("revision_summary")
def revision_summary(previous: str) -> str:
    return timeline.revision_summary(previous)


@bp.app_template_filter("local_time")
def local_time(stored: str, zone: str) -> str:
    """A UTC time from the database, as the reader's own clock shows it."""
    return clock.format_local(clock.from_db(stored), zone)
