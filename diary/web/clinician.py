"""What a clinician sees of the patients in their care: the list, and the flags to work through."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import access
from ..rules import clock
from ..services import accounts, alerts
from ..services import flags as flagging
from . import timeline
from .forms import AcknowledgeForm, ClinicianSettingsForm, EmptyForm, pressed, show_error
from .guards import role_required

bp = Blueprint("clinician", __name__, url_prefix="/clinic")

SEARCH_MAX_LENGTH = 100
RECENT_SHOWN = 10


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
                           totals=totals, form=form, failed_flag=failed_flag,
                           acknowledged=access.recently_acknowledged(current_user, RECENT_SHOWN),
                           reopen_form=EmptyForm(), kind_labels=timeline.KIND_LABELS)


@bp.route("/flags")
@role_required("clinician")
def flags():
    return _queue_page(AcknowledgeForm())


@bp.route("/flags/<int:flag_id>/acknowledge", methods=["POST"])
@role_required("clinician")
def acknowledge(flag_id):
    row = access.flag_to_act_on(current_user, flag_id, "flag_acknowledged")
    form = AcknowledgeForm()
    if form.validate_on_submit():
        if _needs_a_look_first(row, form):
            return render_template("clinician/confirm_acknowledge.html", form=form, flag=row,
                                   item=timeline.queue([row])[0])
        if flagging.acknowledge(current_user.id, row, form.note.data or "",
                                form.note_for_patient.data):
            flash("Flag acknowledged. You can reopen it for 24 hours, below.", "success")
        return redirect(url_for("clinician.flags"))
    return _queue_page(form, failed_flag=flag_id), 400


def _needs_a_look_first(flag_row, form) -> bool:
    """An urgent flag acknowledged without opening the patient's diary since it changed is
    confirmed on a page of its own first."""
    return (bool(flag_row["urgent"]) and flag_row["state"] == "open" and form.confirmed.data != "yes"
            and not access.looked_since_flag(current_user, flag_row))


@bp.route("/flags/<int:flag_id>/reopen", methods=["POST"])
@role_required("clinician")
def reopen(flag_id):
    row = access.flag_to_act_on(current_user, flag_id, "flag_reopened")
    if pressed():
        if flagging.reopen(current_user.id, row):
            flash("Flag reopened.", "success")
        else:
            flash("That flag can no longer be reopened: acknowledgements can be undone for "
                  "24 hours.", "info")
    return redirect(url_for("clinician.flags"))


@bp.route("/settings", methods=["GET", "POST"])
@role_required("clinician")
def settings():
    form = ClinicianSettingsForm()
    if request.method == "GET":
        form.phone.data = current_user.phone
        form.email_flags.data = current_user.email_flags
    if form.validate_on_submit():
        try:
            accounts.save_clinician_settings(current_user.id, form.phone.data or "",
                                             form.email_flags.data)
        except accounts.AccountError as error:
            show_error(form, error)
        else:
            flash("Settings saved.", "success")
            return redirect(url_for("clinician.settings"))
    return render_template("clinician/settings.html", form=form,
                           mail_on=alerts.mail_configured()), 400 if form.errors else 200
