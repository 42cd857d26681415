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

SEARCH_MAX_LENGTH = 100


@bp.route("/patients")
@role_required("clinician")
def patients():
    search = (request.args.get("q") or "").strip()[:SEARCH_MAX_LENGTH]
    totals = access.patients_in_care_totals(current_user, search)
    page = timeline.Page.of(request.args.get("page", type=int), timeline.PATIENTS_PER_PAGE,
                            totals["patients"])
    return render_template(
        "clinician/patients.html", patients=timeline.patients_in_care(current_user, search, page),
        page=page, search=search, totals=totals,
        form=EmptyForm(), zone=current_user.time_zone,
        pending=access.pending_invitations(current_user),
    )


def _queue_page(form, failed_flag=None):
    totals = access.open_flag_totals(current_user)
    page = timeline.Page.of(request.args.get("page", type=int), timeline.FLAGS_PER_PAGE, totals["total"])
    rows = access.open_flags(current_user, limit=page.size, offset=page.offset)
    if failed_flag is not None and all(row["id"] != failed_flag for row in rows):
        rows += [row for row in [access.open_flag(current_user, failed_flag)] if row]
    return render_template("clinician/flags.html", items=timeline.queue(rows), page=page,
                           totals=totals, form=form, failed_flag=failed_flag)


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
