"""A patient's diary as a clinician or caregiver reads it: what they see is the access module's call."""

from dataclasses import replace

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from .. import access
from ..rules import catalogue, clock
from ..services import flags as flagging
from . import timeline
from .forms import EmptyForm, ThresholdForm, pressed, show_error
from .guards import role_required

bp = Blueprint("reader", __name__, url_prefix="/patients")


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
    flag_rows, events = access.flags(scope)
    return render_template("reader/patient.html", patient=access.patient(scope), scope=scope,
                           infusions=infusions, form=EmptyForm(),
                           flags_by_infusion=timeline.by_infusion(flag_rows, events),
                           chart=timeline.chart_for_scope(scope, infusions[0]) if infusions else None)


@bp.route("/<int:patient_id>/infusions/<int:infusion_id>")
@role_required("clinician", "caregiver")
def infusion(patient_id, infusion_id):
    scope = access.require_scope(current_user, patient_id, audit_view=False)
    row = access.infusion(scope, infusion_id)
    access.record_view(scope)
    view = timeline.infusion_view(row, access.checkins(scope, row),
                                  current_user.time_zone, clock.now())
    return render_template("reader/infusion.html", patient=access.patient(scope), scope=scope,
                           infusion=view, revisions=access.revisions(scope, row),
                           chart=timeline.chart_for_scope(scope, view))


@bp.route("/<int:patient_id>/check-ins/<int:checkin_id>")
@role_required("clinician", "caregiver")
def checkin(patient_id, checkin_id):
    scope = access.require_scope(current_user, patient_id, audit_view=False)
    row, severities = access.checkin(scope, checkin_id)
    infusion_row = access.infusion(scope, row["infusion_id"])
    access.record_view(scope)
    # From every check-in this reader may see, so the first one reads "since the infusion".
    whole = timeline.infusion_view(infusion_row, access.checkins(scope, infusion_row),
                                   current_user.time_zone, clock.now())
    view = replace(whole, checkins=tuple(c for c in whole.checkins if c.id == row["id"]))
    return render_template("reader/checkin.html", patient=access.patient(scope), scope=scope,
                           infusion=view, checkin=view.checkins[0])


def _thresholds_page(scope, form, status=200):
    access.record_view(scope)
    overrides = {row["symptom"]: row for row in access.thresholds(scope)}
    return render_template("reader/thresholds.html", patient=access.patient(scope), form=form,
                           symptoms=catalogue.SYMPTOMS, overrides=overrides,
                           reset_form=EmptyForm()), status


@bp.route("/<int:patient_id>/thresholds", methods=["GET", "POST"])
@role_required("clinician")
def thresholds(patient_id):
    scope = access.require_clinician(current_user, patient_id, "threshold_set")
    form = ThresholdForm()
    if form.validate_on_submit():
        try:
            flagging.set_threshold(current_user.id, patient_id, form.symptom.data, form.hours.data)
        except flagging.FlagError as error:
            show_error(form, error)
        else:
            flash("Threshold saved. Flags are updated.", "success")
            return redirect(url_for("reader.thresholds", patient_id=patient_id))
    return _thresholds_page(scope, form, 400 if form.errors else 200)


@bp.route("/<int:patient_id>/thresholds/<symptom>/reset", methods=["POST"])
@role_required("clinician")
def reset_threshold(patient_id, symptom):
    access.require_clinician(current_user, patient_id, "threshold_reset")
    if not catalogue.is_symptom(symptom):
        abort(404)
    if pressed():
        flagging.reset_threshold(current_user.id, patient_id, symptom)
        flash("Back to the default threshold.", "success")
    return redirect(url_for("reader.thresholds", patient_id=patient_id))
