"""What a caregiver sees: the patients who added them, and the check-ins those patients shared."""

from flask import Blueprint, render_template
from flask_login import current_user

from .clinician import care_list
from .safety import role_required

bp = Blueprint("caregiver", __name__, url_prefix="/shared")


@bp.route("/")
@role_required("caregiver")
def shared():
    return render_template("caregiver/shared.html",
                           patients=care_list(current_user, shared_only=True))
