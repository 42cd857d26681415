"""What a clinician sees of the patients in their care: the list, and the flags to work through."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import access
from ..rules import clock
from ..services import flags as flagging
from . import timeline
from .forms import AcknowledgeForm, EmptyForm
from .guards import role_required

bp = Blueprint("clinician", __name__, url_prefix="/clinic")

FLAGS_PER_PAGE = 25


@bp.route("/patients")
@role_required("clinician")
def patients():
    counts = access.open_flag_counts(current_user)

    def urgency(row):
        found = counts.get(row.id)
        return (-found["urgent"], -found["total"]) if found else (0, 0)

    return render_template(
        "clinician/patients.html", patients=sorted(timeline.patients_in_care(current_user), key=urgency),
        flag_counts=counts, form=EmptyForm(), zone=current_user.time_zone,
        pending=access.pending_invitations(current_user),
    )


def _queue_page(form, failed_flag=None):
    items = timeline.queue(access.open_flags(current_user))
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
    row = access.flag_to_acknowledge(current_user, flag_id)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        if flagging.acknowledge(current_user.id, row, form.note.data or ""):
            flash("Flag acknowledged.", "success")
        return redirect(url_for("clinician.flags"))
    return _queue_page(form, failed_flag=flag_id), 400
