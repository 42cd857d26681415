"""The patient's own diary."""

from flask import Blueprint, render_template

from .safety import role_required

bp = Blueprint("patient", __name__)


@bp.route("/diary")
@role_required("patient")
def diary():
    return render_template("patient/diary.html")
