"""What a clinician sees of the patients in their care."""

from flask import Blueprint, render_template

from .safety import role_required

bp = Blueprint("clinician", __name__, url_prefix="/clinic")


@bp.route("/patients")
@role_required("clinician")
def patients():
    return render_template("clinician/patients.html")
