"""A patient's diary as a clinician or caregiver reads it: what they see is the access module's call."""

from flask import Blueprint, render_template
from flask_login import current_user

from . import access, clock, timeline
from .forms import EmptyForm
from .safety import role_required
from .store import accounts

bp = Blueprint("reader", __name__, url_prefix="/patients")


def _patient(scope):
    return accounts.user_by_id(scope.patient_id)


@bp.route("/<int:patient_id>")
@role_required("clinician", "caregiver")
def patient(patient_id):
    scope = access.require_scope(current_user, patient_id)
    grouped = access.checkins_by_infusion(scope)
    now, zone = clock.now(), current_user.time_zone
    infusions = [
        timeline.infusion_view(row, grouped.get(row["id"], []), zone, now)
        for row in access.infusions(scope)
    ]
    return render_template("reader/patient.html", patient=_patient(scope), scope=scope,
                           infusions=infusions, form=EmptyForm())


@bp.route("/<int:patient_id>/infusions/<int:infusion_id>")
@role_required("clinician", "caregiver")
def infusion(patient_id, infusion_id):
    scope = access.require_scope(current_user, patient_id)
    row = access.infusion(scope, infusion_id)
    view = timeline.infusion_view(row, access.checkins(scope, infusion_id),
                                  current_user.time_zone, clock.now())
    return render_template("reader/infusion.html", patient=_patient(scope), scope=scope,
                           infusion=view, revisions=access.revisions(scope, infusion_id))


@bp.route("/<int:patient_id>/check-ins/<int:checkin_id>")
@role_required("clinician", "caregiver")
def checkin(patient_id, checkin_id):
    scope = access.require_scope(current_user, patient_id)
    row, severities = access.checkin(scope, checkin_id)
    infusion_row = access.infusion(scope, row["infusion_id"])
    view = timeline.infusion_view(infusion_row, [(row, severities)], current_user.time_zone,
                                  clock.now())
    return render_template("reader/checkin.html", patient=_patient(scope), scope=scope,
                           infusion=view, checkin=view.checkins[0])
