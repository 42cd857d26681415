"""What a caregiver sees: the patients who added them, and the check-ins those patients shared."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from .. import access
from . import timeline
from .guards import role_required

bp = Blueprint("caregiver", __name__, url_prefix="/shared")


@bp.route("/")
@role_required("caregiver")
def shared():
    totals = access.patients_in_care_totals(current_user)
    page = timeline.Page.of(request.args.get("page", type=int), timeline.PATIENTS_PER_PAGE,
                            totals["patients"])
    return render_template("caregiver/shared.html", page=page,
                           patients=timeline.patients_in_care(current_user, "", page))
