"""The patient's own diary: infusions, check-ins, reminders and settings."""

import secrets
from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, redirect,
                   render_template, request, url_for)
from flask_login import current_user

from .. import access
from ..rules import catalogue, clock, flags, reminders as calendar
from ..services import accounts, entries
from ..store.db import StoreBusy
from . import kept_answers, timeline
from .forms import CheckinForm, EmptyForm, InfusionForm, SettingsForm, ShareForm, pressed, show_error
from .guards import role_required

bp = Blueprint("patient", __name__)


def _view(infusion):
    scope = access.require_scope(current_user, infusion["patient_id"])
    return timeline.infusion_view(
        infusion, access.checkins(scope, infusion), current_user.time_zone, clock.now()
    )


def _local_now():
    return clock.local_input_value(clock.now(), current_user.time_zone)


def _utc(form_field):
    return clock.from_local(form_field.data, current_user.time_zone)


@bp.route("/diary")
@role_required("patient")
def diary():
    scope = access.require_scope(current_user, current_user.id)
    rows = access.infusions(scope)
    now = clock.now()
    current = _view(rows[0]) if rows and timeline.is_current(rows[0], now) else None
    earlier = rows[1:] if current else rows
    return render_template(
        "patient/diary.html", current=current, earlier=earlier, zone=current_user.time_zone,
        chart=_chart(current) if current else None, **_care_words(scope),
        has_caregiver=access.has_caregiver(scope),
    )


def _care_words(scope) -> dict:
    """What the patient's pages say about their clinic: who it is, and whether anyone looked."""
    own_flags = access.own_flags(scope)
    return {
        "clinic": access.clinic_contacts(current_user),
        "has_clinician": access.has_clinician(scope),
        "flag_states": timeline.flag_states(own_flags, current_user.time_zone),
        "urgent_help": flags.crisis_help_due(own_flags, clock.now()),
    }


def _chart(view):
    return timeline.chart_for_scope(access.require_scope(current_user, current_user.id), view)


@bp.route("/infusions/<int:infusion_id>")
@role_required("patient")
def infusion(infusion_id):
    row = access.own_infusion(current_user, infusion_id)
    saved = request.args.get("saved", type=int)
    if saved is not None and not 0 < saved < 2**63:
        abort(404)
    view = _view(row)
    scope = access.require_scope(current_user, current_user.id)
    return render_template("patient/infusion.html", infusion=view, chart=_chart(view),
                           alerts=_alerts(row, saved) if saved else None, **_care_words(scope),
                           has_caregiver=access.has_caregiver(scope))


def _alerts(infusion_row, checkin_id):
    """What the check-in just saved says on its own: crisis help first when it is urgent."""
    scope = access.require_scope(current_user, current_user.id)
    checkin, severities = access.checkin(scope, checkin_id)
    if checkin["infusion_id"] != infusion_row["id"]:
        return None
    raised = flags.raised_by(checkin, severities, infusion_row, access.chart_thresholds(scope))
    has_clinician = access.has_clinician(scope)
    return {
        "urgent": [flag for flag in raised if flag.urgent],
        "lasting": [flags.patient_message(flag, has_clinician=has_clinician)
                    for flag in raised if flag.kind == flags.LASTING],
        "has_clinician": has_clinician,
    }


def _infusion_input(form):
    return entries.InfusionInput(_utc(form.started_at), form.length_minutes.data, form.note.data or "")


@bp.route("/infusions/new", methods=["GET", "POST"])
@kept_answers.keeps("infusion", InfusionForm)
@role_required("patient")
def new_infusion():
    form = InfusionForm()
    if request.method == "GET":
        form.started_at.data = _local_now()
        kept_answers.restore(form, "infusion")
    if form.validate_on_submit():
        try:
            infusion_id = kept_answers.saving(
                lambda: entries.record_infusion(current_user.id, _infusion_input(form)))
        except entries.EntryError as error:
            show_error(form, error)
        else:
            flash("Infusion saved. Check in whenever you like; the suggested times are below.",
                  "success")
            return redirect(url_for("patient.infusion", infusion_id=infusion_id))
    return render_template("patient/infusion_form.html", form=form, editing=None)


@bp.route("/infusions/<int:infusion_id>/edit", methods=["GET", "POST"])
@kept_answers.keeps("infusion", InfusionForm)
@role_required("patient")
def edit_infusion(infusion_id):
    row = access.changeable_infusion(current_user, infusion_id)
    form = InfusionForm(data=None if request.method == "POST" else {
        "started_at": clock.local_input_value(clock.from_db(row["started_at"]), current_user.time_zone),
        "length_minutes": row["length_minutes"], "note": row["note"],
    })
    if request.method == "GET":
        kept_answers.restore(form, "infusion")
    if form.validate_on_submit():
        try:
            kept_answers.saving(
                lambda: entries.correct_infusion(current_user.id, row, _infusion_input(form)))
        except entries.EntryError as error:
            show_error(form, error)
        else:
            flash("Infusion corrected.", "success")
            return redirect(url_for("patient.infusion", infusion_id=infusion_id))
    return render_template("patient/infusion_form.html", form=form, editing=row)


@bp.route("/infusions/<int:infusion_id>/delete", methods=["GET", "POST"])
@role_required("patient")
def delete_infusion(infusion_id):
    row = access.changeable_infusion(current_user, infusion_id)
    view = _view(row)
    form = EmptyForm()
    if form.validate_on_submit():
        entries.delete_infusion(current_user.id, row)
        flash("Infusion deleted.", "success")
        return redirect(url_for("patient.diary"))
    return render_template("patient/confirm_delete_infusion.html", infusion=view, form=form)


def _checkin_input(form):
    return entries.CheckinInput(
        at=_utc(form.at), mood=form.mood.data, severities=form.severities(),
        note=form.note.data or "", shared=form.shared.data, note_private=form.note_private.data,
        safety=form.safety.data or None, submission_key=form.submission_key.data or None,
    )


@bp.route("/infusions/<int:infusion_id>/check-in", methods=["GET", "POST"])
@kept_answers.keeps("check-in", CheckinForm)
@role_required("patient")
def new_checkin(infusion_id):
    row = access.changeable_infusion(current_user, infusion_id)
    form = CheckinForm()
    if request.method == "GET":
        form.at.data = _local_now()
        form.shared.data = current_user.share_by_default
        form.submission_key.data = secrets.token_hex(16)
        kept_answers.restore(form, "check-in")
    if form.validate_on_submit():
        try:
            checkin_id = kept_answers.saving(
                lambda: entries.save_checkin(current_user.id, row, _checkin_input(form)))
        except (entries.EntryError, StoreBusy) as error:
            show_error(form, error)
        else:
            flash("Check-in saved.", "success")
            return redirect(url_for("patient.infusion", infusion_id=infusion_id, saved=checkin_id))
    view = _view(row)
    _ask_safety(form, first=not view.checkins)
    return render_template("patient/checkin_form.html", form=form, infusion=view,
                           editing=None)


def _ask_safety(form, first: bool) -> None:
    """The first check-in after an infusion asks "Since your infusion, ..."."""
    form.safety.label.text = flags.safety_question(first)


def _changeable_checkin(checkin_id):
    row, infusion_row = access.changeable_checkin(current_user, checkin_id)
    return row, infusion_row, _view(infusion_row)


@bp.app_errorhandler(access.DiaryClosed)
def diary_closed(closed):
    """A diary that no longer takes changes: a plain page that says so, with the way back."""
    return render_template("patient/read_only.html", infusion_id=closed.infusion_id), 403


@bp.route("/check-ins/<int:checkin_id>/edit", methods=["GET", "POST"])
@kept_answers.keeps("check-in", CheckinForm)
@role_required("patient")
def edit_checkin(checkin_id):
    row, infusion_row, view = _changeable_checkin(checkin_id)
    form = CheckinForm()
    if request.method == "GET":
        _fill_checkin_form(form, view, checkin_id)
        kept_answers.restore(form, "check-in")
    if form.validate_on_submit():
        try:
            kept_answers.saving(
                lambda: entries.edit_checkin(current_user.id, infusion_row, row, _checkin_input(form)))
        except (entries.EntryError, StoreBusy) as error:
            show_error(form, error)
        else:
            flash("Check-in changed. The earlier answers are kept in its history.", "success")
            return redirect(url_for("patient.infusion", infusion_id=infusion_row["id"],
                                    saved=checkin_id))
    _ask_safety(form, first=any(c.first and c.id == checkin_id for c in view.checkins))
    return render_template("patient/checkin_form.html", form=form, infusion=view, editing=row)


def _fill_checkin_form(form, view, checkin_id):
    checkin = next(c for c in view.checkins if c.id == checkin_id)
    form.at.data = clock.local_input_value(checkin.at, current_user.time_zone)
    form.mood.data = checkin.mood
    form.note.data = checkin.note
    form.shared.data = checkin.shared
    form.note_private.data = checkin.note_private
    form.safety.data = checkin.safety
    for field, code in zip(form.symptom_fields(), catalogue.CODES):
        field.data = checkin.severities.get(code, 0)


@bp.route("/check-ins/<int:checkin_id>/delete", methods=["GET", "POST"])
@role_required("patient")
def delete_checkin(checkin_id):
    row, infusion_row, view = _changeable_checkin(checkin_id)
    form = EmptyForm()
    if form.validate_on_submit():
        entries.delete_checkin(current_user.id, infusion_row, row)
        flash("Check-in deleted. A copy is kept in its history.", "success")
        return redirect(url_for("patient.infusion", infusion_id=infusion_row["id"]))
    checkin = next(c for c in view.checkins if c.id == checkin_id)
    return render_template("patient/confirm_delete_checkin.html", checkin=checkin,
                           infusion=view, form=form)


@bp.route("/check-ins/<int:checkin_id>/sharing", methods=["POST"])
@role_required("patient")
def set_sharing(checkin_id):
    row, infusion_row = access.own_checkin(current_user, checkin_id)
    form = ShareForm()
    if pressed(form):
        entries.set_sharing(current_user.id, row, form.shared.data)
        flash("Shared with your caregivers." if form.shared.data
              else "No longer shared with your caregivers.", "success")
    return redirect(url_for("patient.infusion", infusion_id=infusion_row["id"]))


@bp.route("/infusions/<int:infusion_id>/reminders.ics")
@role_required("patient")
def reminders(infusion_id):
    view = _view(access.own_infusion(current_user, infusion_id))
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "diary"
    check_in_url = current_app.config["BASE_URL"].rstrip("/") + url_for(
        "patient.new_checkin", infusion_id=view.id)
    body = calendar.reminders_ics(infusion_id=view.id, end=view.end, host=host, now=clock.now(),
                                  check_in_url=check_in_url)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="diary-reminders-{view.id}.ics"',
    })


@bp.route("/settings", methods=["GET", "POST"])
@role_required("patient")
def settings():
    form = SettingsForm()
    if request.method == "GET":
        form.time_zone.data = current_user.time_zone
        form.share_by_default.data = current_user.share_by_default
        form.tell_caregivers.data = current_user.tell_caregivers
    form.offer_time_zones(current_app.config["DEFAULT_TIME_ZONE"])
    if form.validate_on_submit():
        accounts.save_settings(current_user.id, form.time_zone.data, form.share_by_default.data,
                               form.tell_caregivers.data)
        flash("Settings saved.", "success")
        return redirect(url_for("patient.settings"))
    return render_template("patient/settings.html", form=form)
