"""The care team: the patient's members and invitations, the invitation link, and leaving."""

import functools
import io

import segno
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, session, url_for)
from flask_login import current_user

from .. import access
from ..services import care_team as care
from . import timeline
from .auth import register_with
from .forms import EmptyForm, RegisterForm, pressed
from .guards import role_required

bp = Blueprint("team", __name__)

LINKS_KEY = "invitation_links"


def _remember_link(invitation_id: int, token: str) -> None:
    """The database keeps only a hash; the creator's signed session cookie keeps the link itself,
    so it can be shown again on that device until sign-out."""
    links = dict(session.get(LINKS_KEY, {}))
    links[str(invitation_id)] = token
    session[LINKS_KEY] = dict(list(links.items())[-10:])


def _link_for(invitation_id: int) -> str | None:
    token = session.get(LINKS_KEY, {}).get(str(invitation_id))
    return url_for("team.invitation_link", token=token, _external=True) if token else None


@bp.route("/care-team")
@role_required("patient")
def care_team():
    return render_template(
        "team/care_team.html",
        members=access.care_team(current_user), pending=access.pending_invitations(current_user),
        form=EmptyForm(), zone=current_user.time_zone,
    )


@bp.route("/care-team/invite/<any(caregiver, clinician):kind>", methods=["POST"])
@role_required("patient")
def invite(kind):
    return _create_invitation(kind, failure=url_for("team.care_team"))


def _create_invitation(kind, failure):
    if not pressed():
        return redirect(failure)
    invitation_id, token = care.create_invitation(current_user, kind)
    _remember_link(invitation_id, token)
    return redirect(url_for("team.invitation", invitation_id=invitation_id))


@bp.route("/clinic/enrol", methods=["POST"])
@role_required("clinician")
def enrol():
    return _create_invitation("enrolment", failure=url_for("clinician.patients"))


@bp.route("/care-team/invitations/<int:invitation_id>")
@role_required("patient", "clinician")
def invitation(invitation_id):
    row = access.own_invitation(current_user, invitation_id)
    return render_template(
        "team/invitation.html", invitation=row, state=access.invitation_state(row),
        link=_link_for(invitation_id), form=EmptyForm(), zone=current_user.time_zone,
    )


@bp.route("/care-team/invitations/<int:invitation_id>/qr.svg")
@role_required("patient", "clinician")
def invitation_qr(invitation_id):
    row = access.own_invitation(current_user, invitation_id)
    link = _link_for(invitation_id)
    if link is None or access.invitation_state(row) != "valid":
        abort(404)
    svg = io.BytesIO()
    segno.make(link, error="m").save(svg, kind="svg", scale=6, border=2, dark="#000",
                                     light="#fff", xmldecl=False, svgns=True,
                                     title="QR code of the invitation link")
    return Response(svg.getvalue(), mimetype="image/svg+xml")


@bp.route("/care-team/invitations/<int:invitation_id>/revoke", methods=["POST"])
@role_required("patient", "clinician")
def revoke_invitation(invitation_id):
    row = access.own_invitation(current_user, invitation_id)
    if pressed():
        care.revoke_invitation(current_user, row)
        flash("The invitation is withdrawn. The link no longer works.", "success")
    return redirect(url_for("team.care_team") if current_user.is_patient
                    else url_for("clinician.patients"))


@bp.route("/care-team/members/<int:membership_id>/revoke", methods=["GET", "POST"])
@role_required("patient")
def revoke_member(membership_id):
    """GET asks first, on a page that says what will happen; the button there POSTs."""
    row = access.own_membership(current_user, membership_id)
    if request.method == "GET":
        member = next(m for m in access.care_team(current_user) if m["id"] == row["id"])
        return render_template("team/confirm_revoke.html", member=member, form=EmptyForm())
    if pressed():
        care.remove_member(current_user, row)
        flash("Removed from your care team. They can no longer see your diary.", "success")
    return redirect(url_for("team.care_team"))


@bp.route("/care-team/leave/<int:patient_id>", methods=["GET", "POST"])
@role_required("clinician", "caregiver")
def leave(patient_id):
    """GET asks first, on a page that says what will happen; the button there POSTs."""
    row = access.membership_as_member(current_user, patient_id)
    if request.method == "GET":
        patient = access.patient(access.scope_for(current_user, patient_id))
        return render_template("team/confirm_leave.html", patient=patient, form=EmptyForm())
    if pressed():
        care.leave(current_user, row)
        flash("You have left this care team.", "success")
    return redirect(url_for("pages.home"))


@bp.route("/care-team/seen")
@role_required("patient")
def seen():
    return render_template("team/seen.html", groups=timeline.seen_groups(
        access.who_has_seen(current_user), current_user.time_zone))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invitation_link(token):
    actor_id = current_user.id if current_user.is_authenticated else None
    try:
        row = access.usable_invitation(token, actor_id, request.remote_addr)
        if current_user.is_authenticated:
            return _accept_signed_in(row)
        return _register_through_link(row, token)
    except access.Refusal as refusal:
        status = 404 if refusal.outcome == "unknown" else 403
        return render_template("team/refused.html", reason=refusal.reason), status


def _accept_signed_in(row):
    access.check_acceptor(row, current_user)
    form = EmptyForm()
    if form.validate_on_submit():
        care.accept(row, current_user.id, current_user.role)
        flash("You are now in the care team.", "success")
        return redirect(url_for("pages.home"))
    return render_template("team/accept.html", invitation=row, form=form)


def _register_through_link(row, token):
    if row["kind"] == "clinician":
        return render_template("team/sign_in_to_accept.html", invitation=row, token=token)
    form = RegisterForm()
    form.offer_time_zones(current_app.config["DEFAULT_TIME_ZONE"])
    if form.validate_on_submit() and register_with(
            form, functools.partial(care.register_and_accept, row),
            "Your account is ready, and you are in the care team."):
        return redirect(url_for("pages.home"))
    return render_template("team/register.html", form=form, invitation=row, token=token)
