"""What a clinician sees of the patients in their care."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from . import access, clock, flagging, timeline
from .forms import AcknowledgeForm, EmptyForm
from .safety import role_required
from .store import care as store
from .store import flags as flag_store

bp = Blueprint("clinician", __name__, url_prefix="/clinic")


def care_list(member, shared_only: bool):
    return timeline.patient_rows(
        store.patients_of_member(member.id),
        store.latest_infusions_in_care(member.id, shared_only),
        store.checkin_times_of_latest_infusions(member.id, shared_only),
        store.last_checkins_in_care(member.id, shared_only), member.time_zone, clock.now(),
    )


@bp.route("/patients")
@role_required("clinician")
def patients():
    counts = {row["patient_id"]: row for row in flag_store.open_counts_in_care(current_user.id)}
    rows = sorted(care_list(current_user, shared_only=False),
                  key=lambda row: (-(counts[row.id]["urgent"] if row.id in counts else 0),
                                   -(counts[row.id]["total"] if row.id in counts else 0)))
    return render_template(
        "clinician/patients.html", patients=rows, flag_counts=counts,
        pending=store.pending_invitations(current_user.id, clock.to_db(clock.now())),
        form=EmptyForm(), zone=current_user.time_zone,
    )


FLAGS_PER_PAGE = 25


def _queue_page(form, failed_flag=None):
    items = flagging.queue(flag_store.open_flags_in_care(current_user.id))
    shown = max(1, request.args.get("show", FLAGS_PER_PAGE, type=int))
    page = items[:shown]
    page += [item for item in items[shown:] if item["row"]["id"] == failed_flag]
    return render_template("clinician/flags.html", items=page, total=len(items),
                           more=min(len(items), shown + FLAGS_PER_PAGE), form=form,
                           failed_flag=failed_flag)


@bp.route("/flags")
@role_required("clinician")
def flags():
    return _queue_page(AcknowledgeForm())


@bp.route("/flags/<int:flag_id>/acknowledge", methods=["POST"])
@role_required("clinician")
def acknowledge(flag_id):
    row = flag_store.flag(flag_id)
    if row is None:
        abort(404)
    access.require_clinician(current_user, row["patient_id"], "flag_acknowledged")
    form = AcknowledgeForm()
    if form.validate_on_submit():
        if flagging.acknowledge(current_user.id, row, form.note.data or ""):
            flash("Flag acknowledged.", "success")
        return redirect(url_for("clinician.flags"))
    return _queue_page(form, failed_flag=flag_id), 400
