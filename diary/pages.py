"""Pages for everyone: the front door, the crisis page, and each role's landing page."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

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
    "patient": (("patient.diary", "My diary"),),
    "clinician": (("clinician.patients", "My patients"),),
    "caregiver": (("caregiver.shared", "Shared with me"),),
}


@bp.app_context_processor
def navigation():
    return {"nav_links": lambda role: NAV.get(role, ())}
