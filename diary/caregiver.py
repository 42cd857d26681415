"""What a caregiver sees: the check-ins patients chose to share with them."""

from flask import Blueprint, render_template

from .safety import role_required

bp = Blueprint("caregiver", __name__, url_prefix="/shared")


@bp.route("/")
@role_required("caregiver")
def shared():
    return render_template("caregiver/shared.html")
