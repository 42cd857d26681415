"""What a clinician sees of the patients in their care."""

from flask import Blueprint, render_template
from flask_login import current_user

from . import clock, timeline
from .forms import EmptyForm
from .safety import role_required
from .store import care as store

bp = Blueprint("clinician", __name__, url_prefix="/clinic")


def care_list(member, shared_only: bool):
    return timeline.patient_rows(
        store.patients_of_member(member.id), store.latest_infusions_in_care(member.id),
        store.checkin_times_of_latest_infusions(member.id),
        store.last_checkins_in_care(member.id, shared_only), member.time_zone, clock.now(),
    )


@bp.route("/patients")
@role_required("clinician")
def patients():
    return render_template(
        "clinician/patients.html", patients=care_list(current_user, shared_only=False),
        pending=store.pending_invitations(current_user.id, clock.to_db(clock.now())),
        form=EmptyForm(), zone=current_user.time_zone,
    )
