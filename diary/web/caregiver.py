"""What a caregiver sees: the patients who added them, and the check-ins those patients shared."""

from flask import Blueprint, render_template
from flask_login import current_user

from . import timeline
from .guards import role_required

bp = Blueprint("caregiver", __name__, url_prefix="/shared")


@bp.route("/")
@role_required("caregiver")
def shared():
    return render_template("caregiver/shared.html", patients=timeline.patients_in_care(current_user))
