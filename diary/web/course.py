"""The course of infusions ("My course", and the same on a patient's page for their care team) and
the printable reports ("For my appointment"). Views read the request, call the access module and
render; what the pages say comes from diary.rules.course."""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from .. import access
from ..rules import clock, course
from ..rules import flags as flag_rules
from ..rules.schedule import InfusionWindow
from . import timeline
from .guards import role_required

bp = Blueprint("course", __name__)


# View models


def _flag_note(row, scope: access.Scope, zone: str) -> course.FlagNote:
    label = timeline.KIND_LABELS.get(row["kind"], "Flag")
    try:
        evidence = flag_rules.describe(flag_rules.flag_from_row(row))
    except (KeyError, ValueError):  # a kind this page does not know how to word
        evidence = ""
    state = row["state"]
    when = (course.day(clock.from_db(row["acknowledged_at"]), zone)
            if row.get("acknowledged_at") else "")
    if state == "acknowledged":
        who = row.get("acknowledged_by_name") or "your care team"
        words = (f"Seen by {who} on {when}" if scope.is_own
                 else f"Acknowledged by {who} on {when}")
    elif state == "withdrawn":
        words = "Withdrawn: the check-in that raised it was changed"
    else:
        words = "Not seen by your care team yet" if scope.is_own else "Open"
    return course.FlagNote(label=label, evidence=evidence, state=words)


def _checkins(pairs) -> list[course.Checkin]:
    return [course.Checkin(row["id"], clock.from_db(row["at"]), row["mood"], severities)
            for row, severities in pairs]


def summaries_of(scope, infusions, checkins_by_infusion, flag_rows, zone, now):
    """Course summaries, oldest first, from the access module's rows."""
    flags_by: dict[int, list] = {}
    for row in flag_rows:
        flags_by.setdefault(row["infusion_id"], []).append(_flag_note(row, scope, zone))
    found = []
    for row in sorted(infusions, key=lambda r: r["number"]):
        window = InfusionWindow.of(row)
        found.append(course.summarize(
            infusion_id=row["id"], number=row["number"], start=window.start, end=window.end,
            checkins=_checkins(checkins_by_infusion.get(row["id"], [])), now=now,
            flags=flags_by.get(row["id"], ())))
    return found


def _course_view(scope, page_number, size=course.PER_PAGE) -> tuple[dict, access.CoursePage]:
    zone = current_user.time_zone
    total = access.course_total(scope)
    page = timeline.Page.of(page_number, size, total)
    found = access.course_page(scope, limit=page.size, offset=page.offset)
    summaries = summaries_of(scope, found.infusions, found.checkins, found.flags, zone,
                             clock.now())
    compared = None
    if page.number == 1 and len(summaries) >= 2:
        compared = course.comparison(summaries[-1], summaries[-2],
                                     "your" if scope.is_own else "the")
    notes = {row["id"]: row["note"] for row in found.infusions}
    view = dict(page=page, summaries=summaries, chart=course.build_chart(summaries, zone),
                comparison=compared, notes=notes, zone=zone, scope=scope,
                score_explained=course.SCORE_EXPLAINED, day_and_time=course.day_and_time,
                day=course.day)
    return view, found


def _page_number():
    return request.args.get("page", type=int)


def _links(scope, patient_id=None) -> dict:
    """Where this reader's buttons go: the patient's own URLs, or the patient's under /patients."""
    if scope.is_own:
        return dict(
            course=url_for("course.mine"), report=url_for("course.my_report"),
            infusion=lambda i: url_for("patient.infusion", infusion_id=i),
            infusion_report=lambda i: url_for("course.my_infusion_report", infusion_id=i),
            csv=url_for("exports.my_csv"), fhir=url_for("exports.my_fhir"),
            everything=url_for("exports.everything"), page_endpoint="course.mine",
            report_endpoint="course.my_report", page_args={})
    return dict(
        course=url_for("course.patient_course", patient_id=patient_id),
        report=url_for("course.patient_report", patient_id=patient_id),
        infusion=lambda i: url_for("reader.infusion", patient_id=patient_id, infusion_id=i),
        infusion_report=lambda i: url_for("course.patient_infusion_report",
                                          patient_id=patient_id, infusion_id=i),
        csv=url_for("exports.patient_csv", patient_id=patient_id),
        fhir=url_for("exports.patient_fhir", patient_id=patient_id), everything=None,
        page_endpoint="course.patient_course", report_endpoint="course.patient_report",
        page_args={"patient_id": patient_id})


# The course


@bp.route("/course")
@role_required("patient")
def mine():
    scope = access.require_scope(current_user, current_user.id)
    return render_template("course/course.html", patient=access.patient(scope),
                           links=_links(scope), **_course_view(scope, _page_number())[0])


@bp.route("/patients/<int:patient_id>/course")
@role_required("clinician", "caregiver")
def patient_course(patient_id):
    scope = access.require_scope(current_user, patient_id)
    return render_template("course/course.html", patient=access.patient(scope),
                           links=_links(scope, patient_id),
                           **_course_view(scope, _page_number())[0])


# Printable reports


def _report(scope, patient_id=None):
    view, found = _course_view(scope, _page_number(), course.REPORT_PER_PAGE)
    zone = view["zone"]
    return render_template(
        "course/report.html", patient=access.patient(scope), links=_links(scope, patient_id),
        single=None, checkins=_report_checkins(found, zone), printed=course.day(clock.now(), zone),
        covers=_covers(view["summaries"], zone), **view)


def _covers(summaries, zone) -> str:
    if not summaries:
        return "no infusions yet"
    return course.date_range(summaries[0].start, summaries[-1].start, zone)


def _report_checkins(found: access.CoursePage, zone) -> dict:
    """Each infusion's check-ins, oldest first, as the diary's pages show them."""
    return {
        row["id"]: [timeline.checkin_view(checkin, severities, InfusionWindow.of(row), zone)
                    for checkin, severities in found.checkins.get(row["id"], [])]
        for row in found.infusions}


@bp.route("/course/report")
@role_required("patient")
def my_report():
    return _report(access.require_scope(current_user, current_user.id))


@bp.route("/patients/<int:patient_id>/course/report")
@role_required("clinician", "caregiver")
def patient_report(patient_id):
    return _report(access.require_scope(current_user, patient_id), patient_id)


def _infusion_report(scope, infusion_id, patient_id=None):
    zone, now = current_user.time_zone, clock.now()
    row = access.course_infusion(current_user, scope, infusion_id)
    pairs = access.checkins(scope, row)
    number = _number_of(scope, row)
    flag_rows = access.course_flags(scope, [row["id"]])
    summary = summaries_of(scope, [dict(row, number=number)], {row["id"]: pairs}, flag_rows,
                           zone, now)[0]
    view = timeline.infusion_view(row, pairs, zone, now)
    return render_template(
        "course/report.html", patient=access.patient(scope), links=_links(scope, patient_id),
        scope=scope, single=summary, infusion=view, summaries=[summary],
        chart=timeline.chart_for_scope(scope, view), zone=zone,
        checkins={summary.id: list(reversed(view.checkins))}, notes={row["id"]: row["note"]},
        covers=course.day(summary.start, zone), printed=course.day(now, zone),
        day_and_time=course.day_and_time, day=course.day, comparison=None, page=None,
        score_explained=course.SCORE_EXPLAINED)


def _number_of(scope, row) -> int:
    """The infusion's place in the course this reader sees."""
    return sum(1 for other in access.infusions(scope)
               if (other["started_at"], other["id"]) <= (row["started_at"], row["id"]))


@bp.route("/infusions/<int:infusion_id>/report")
@role_required("patient")
def my_infusion_report(infusion_id):
    return _infusion_report(access.require_scope(current_user, current_user.id), infusion_id)


@bp.route("/patients/<int:patient_id>/infusions/<int:infusion_id>/report")
@role_required("clinician", "caregiver")
def patient_infusion_report(patient_id, infusion_id):
    scope = access.require_scope(current_user, patient_id, audit_view=False)
    return _infusion_report(scope, infusion_id, patient_id)
