"""Who may see or change what: the one door to any patient's records. It decides and fetches.

- A patient: their own everything.
- A clinician in the patient's care team: every infusion, check-in (with notes) and revision,
  the patient's flags and thresholds.
- A caregiver in the patient's care team: only the check-ins the patient shared, with their
  infusion; never a note marked private, never the safety answer, never revisions or flags.
- Anyone else: 404, exactly like something that does not exist, so nobody learns it is there.
Diary writes are only ever the patient's own. Every look at a diary by someone other than the
patient leaves an audit row, refused looks included.

A reader is the signed-in person: id, role, time_zone, and the request's address and path for the
audit trail.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from werkzeug.exceptions import NotFound

from .rules import catalogue, clock
from .rules import flags as flag_rules
from .rules.schedule import InfusionWindow
from .rules.tokens import token_hash
from .store import accounts as account_store
from .store import audit
from .store import care_team as care
from .store import entries as store
from .store import flags as flag_store

HIDDEN_FROM_CAREGIVERS = ("safety",)
TOKEN_MAX_LENGTH = 100


@dataclass(frozen=True)
class Scope:
    """What one reader may see of one patient's diary."""

    reader_id: int
    patient_id: int
    relation: str  # "own", "clinician" or "caregiver"
    address: str | None = None
    path: str | None = None

    @property
    def is_own(self) -> bool:
        return self.relation == "own"

    @property
    def is_clinician(self) -> bool:
        return self.relation == "clinician"

    @property
    def shared_only(self) -> bool:
        return self.relation == "caregiver"


class DiaryClosed(Exception):
    """The infusion's diary no longer takes changes (48 hours after its 24 hours ended)."""

    def __init__(self, infusion_id: int):
        super().__init__(infusion_id)
        self.infusion_id = infusion_id


class Refusal(Exception):
    """An invitation that cannot be used; `reason` says why in words for the person holding it."""

    def __init__(self, reason: str, outcome: str):
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome


def _address(reader) -> str | None:
    return getattr(reader, "address", None)


def scope_for(reader, patient_id: int) -> Scope | None:
    where = dict(address=_address(reader), path=getattr(reader, "path", None))
    if reader.role == "patient":
        return Scope(reader.id, patient_id, "own", **where) if reader.id == patient_id else None
    membership = care.active_membership(patient_id, reader.id)
    if membership is None or membership["role"] != reader.role:
        return None
    return Scope(reader.id, patient_id, reader.role, **where)


def require_scope(reader, patient_id: int, audit_view: bool = True) -> Scope:
    """The reader's scope for this patient, or 404; looks by others are audited either way.

    A view that still has to check a record inside the diary passes audit_view=False and calls
    record_view(scope) once that record is found readable.
    """
    scope = scope_for(reader, patient_id)
    if scope is None:
        _refuse(reader.id, _address(reader), f"patient:{patient_id}")
    if audit_view:
        record_view(scope)
    return scope


def record_view(scope: Scope) -> None:
    if not scope.is_own:
        audit.record("view_diary", "ok", at=clock.db_now(), actor_id=scope.reader_id,
                     patient_id=scope.patient_id, subject=scope.path, address=scope.address)


def _refuse(actor_id: int, address: str | None, subject: str, action: str = "view_diary"):
    """404 for what may not be read, with an audit row that names no patient."""
    audit.record(action, "denied", at=clock.db_now(), actor_id=actor_id, subject=subject,
                 address=address)
    raise NotFound()


def require_clinician(reader, patient_id: int, action: str) -> Scope:
    """A clinician in this patient's care team, about to act (acknowledge, set a threshold)."""
    scope = scope_for(reader, patient_id)
    if scope is None or not scope.is_clinician:
        _refuse(reader.id, _address(reader), f"patient:{patient_id}", action)
    return scope


def patient(scope: Scope):
    """The patient's account row (name, time zone), for whoever may read their diary."""
    return account_store.user_by_id(scope.patient_id)


# The diary


def own_infusion(reader, infusion_id: int):
    """An infusion the signed-in patient owns; anyone else's answers 404."""
    row = store.infusion(infusion_id, reader.id) if reader.role == "patient" else None
    if row is None:
        raise NotFound()
    return row


def own_checkin(reader, checkin_id: int):
    """A check-in the signed-in patient owns, with its infusion; anyone else's answers 404."""
    row = store.checkin(checkin_id, reader.id) if reader.role == "patient" else None
    if row is None:
        raise NotFound()
    return row, own_infusion(reader, row["infusion_id"])


def changeable_infusion(reader, infusion_id: int):
    """The patient's own infusion while its diary still takes changes; DiaryClosed afterwards."""
    return _require_open(own_infusion(reader, infusion_id))


def changeable_checkin(reader, checkin_id: int):
    row, infusion_row = own_checkin(reader, checkin_id)
    return row, _require_open(infusion_row)


def _require_open(infusion_row):
    if not InfusionWindow.of(infusion_row).is_editable(clock.now()):
        raise DiaryClosed(infusion_row["id"])
    return infusion_row


def infusions(scope: Scope):
    """The patient's infusions this scope may see; a caregiver sees those with a shared check-in."""
    return store.infusions_of_patient(scope.patient_id, shared_only=scope.shared_only)


def infusion(scope: Scope, infusion_id: int):
    row = store.infusion(infusion_id, scope.patient_id)
    if row is None or (scope.shared_only and not store.has_shared_checkin(infusion_id)):
        _refuse(scope.reader_id, scope.address, f"infusion:{infusion_id}")
    return row


def _redacted(scope: Scope, row) -> dict:
    checkin = dict(row)
    if scope.shared_only:
        for column in HIDDEN_FROM_CAREGIVERS:
            checkin.pop(column, None)
        if checkin["note_private"]:
            checkin["note"] = None
    return checkin


def checkins(scope: Scope, infusion):
    """(check-in, severities) pairs of an infusion from infusion() or own_infusion(), newest first."""
    if infusion["patient_id"] != scope.patient_id:
        raise NotFound()
    rows = store.checkins_of_infusion(infusion["id"], shared_only=scope.shared_only)
    severities = store.symptoms_of_infusion(infusion["id"])
    return [(_redacted(scope, row), severities.get(row["id"], {})) for row in rows]


def checkins_by_infusion(scope: Scope) -> dict[int, list]:
    """Every readable check-in of the patient, grouped by infusion, in two queries."""
    rows = store.checkins_of_patient(scope.patient_id, shared_only=scope.shared_only)
    severities = store.symptoms_of_patient(scope.patient_id)
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row["infusion_id"], []).append(
            (_redacted(scope, row), severities.get(row["id"], {}))
        )
    return grouped


def checkin(scope: Scope, checkin_id: int):
    """One check-in with its severities, or 404 when this scope may not read it."""
    row = store.checkin(checkin_id, scope.patient_id)
    if row is None or (scope.shared_only and not row["shared"]):
        _refuse(scope.reader_id, scope.address, f"checkin:{checkin_id}")
    return _redacted(scope, row), store.symptoms_of_checkin(checkin_id)


def revisions(scope: Scope, infusion):
    """Earlier versions of changed check-ins: for the patient and clinicians, never caregivers."""
    if scope.shared_only or infusion["patient_id"] != scope.patient_id:
        return []
    return store.revisions_of_infusion(infusion["id"])


# Flags and thresholds


def chart_thresholds(scope: Scope) -> dict[str, int] | None:
    """The patient's own thresholds for their charts; None for a caregiver, whose chart shows the
    usual times only, with no flags."""
    if scope.shared_only:
        return None
    return flag_rules.thresholds_by_symptom(flag_store.thresholds_of_patient(scope.patient_id))


def thresholds(scope: Scope):
    """The patient's own thresholds with who set them: for the patient's clinicians."""
    return flag_store.thresholds_of_patient(scope.patient_id) if scope.is_clinician else []


def flags(scope: Scope):
    """A patient's flags and their history: for the patient's clinicians only."""
    if not scope.is_clinician:
        return [], []
    return flag_store.flags_of_patient(scope.patient_id), flag_store.events_of_patient(scope.patient_id)


def flag_to_act_on(reader, flag_id: int, action: str):
    """A flag of a patient in this clinician's care, about to be acknowledged or reopened;
    anyone else's answers 404, with an audit row of the refused `action`."""
    row = flag_store.flag(flag_id)
    if row is None:
        raise NotFound()
    require_clinician(reader, row["patient_id"], action)
    return row


def open_flags(reader, *, limit: int, offset: int) -> list:
    """One page of the clinician's queue of open flags; the patients shown are audited."""
    rows = flag_store.open_flags_page(
        reader.id, kinds_in_order=_in_order(flag_rules.KINDS),
        symptoms_in_order=_in_order(catalogue.CODES), limit=limit, offset=offset)
    _record_list_view(reader, [row["patient_id"] for row in rows])
    return rows


def open_flag(reader, flag_id: int):
    """One open flag of the clinician's queue, or None; its patient is audited when shown."""
    row = flag_store.open_flag(flag_id, reader.id)
    if row is not None:
        _record_list_view(reader, [row["patient_id"]])
    return row


def open_flag_totals(reader):
    """The queue's size and its urgent part, counted in SQL: for the clinician's pages."""
    return flag_store.open_flag_totals(reader.id)


def _in_order(names) -> str:
    return "," + ",".join(names) + ","


# Care teams


class CareList(NamedTuple):
    """One page of a clinician's or caregiver's patients, with what their rows need."""

    patients: list
    latest_infusions: list
    checkin_times: list
    latest_checkins: tuple | list = ()
    """A caregiver's list only: each patient's latest shared check-in (mood, time, its
    infusion's end), for "hour 4, mood 6"."""


def patients_in_care(reader, *, search: str, limit: int, offset: int) -> CareList:
    """A page of the reader's patients, urgent first; a caregiver's counts only what was shared
    and shows no flags. The patients shown are audited, and only they."""
    shared_only = reader.role == "caregiver"
    patients = care.patients_in_care_page(reader.id, search=search, limit=limit, offset=offset)
    ids = [row["id"] for row in patients]
    latest = care.latest_infusions_of(ids, shared_only)
    found = CareList(patients, latest, care.checkin_times_of([row["id"] for row in latest],
                                                              shared_only),
                     care.latest_shared_checkins_of(ids) if shared_only and ids else [])
    _record_list_view(reader, ids)
    return found


def patients_in_care_totals(reader, search: str = ""):
    """How many patients the reader's list holds (with this search) and how many are urgent."""
    return care.patients_in_care_totals(reader.id, search=search)


def _record_list_view(reader, patient_ids) -> None:
    if patient_ids:
        audit.record_views(reader.id, patient_ids, getattr(reader, "path", None),
                           _address(reader), clock.db_now())


def care_team(reader):
    """The patient's own care team: its members."""
    return care.members_of_patient(reader.id) if reader.role == "patient" else []


def has_clinician(scope: Scope) -> bool:
    return care.has_clinician(scope.patient_id)


def has_caregiver(scope: Scope) -> bool:
    """Whether anyone could see what the patient shares: sharing words mean nothing without."""
    return care.has_caregiver(scope.patient_id)


def pending_invitations(reader):
    """Invitations this person made that nobody has used yet."""
    return care.pending_invitations(reader.id, clock.db_now())


def own_invitation(reader, invitation_id: int):
    """An invitation this person made; anyone else's answers 404."""
    row = care.invitation_of_creator(invitation_id, reader.id)
    if row is None:
        raise NotFound()
    return row


def own_membership(reader, membership_id: int):
    """A live membership of the signed-in patient's care team; anyone else's answers 404."""
    row = care.membership_of_patient(membership_id, reader.id)
    if row is None:
        raise NotFound()
    return row


def membership_as_member(reader, patient_id: int):
    """The reader's own live place in this patient's care team, or 404."""
    row = care.active_membership(patient_id, reader.id)
    if row is None:
        raise NotFound()
    return row


INVITATION_REFUSALS = {
    "unknown": "This invitation link is not valid. Please check that you copied all of it.",
    "revoked": "This invitation was withdrawn by the person who sent it.",
    "used": "This invitation has already been used. Each link works once.",
    "expired": "This invitation has expired. Invitations work for 7 days; please ask for a new one.",
}
ROLE_FOR_KIND = {"caregiver": "caregiver", "clinician": "clinician", "enrolment": "patient"}


def invitation_state(row) -> str:
    if row["revoked_at"]:
        return "revoked"
    if row["accepted_at"]:
        return "used"
    if clock.from_db(row["expires_at"]) <= clock.now():
        return "expired"
    return "valid"


UNKNOWN_LINKS_AUDITED_EVERY = timedelta(hours=1)


def usable_invitation(token: str, actor_id=None, address: str | None = None):
    """The invitation behind a link, or Refusal (recorded in the audit trail) saying why not.

    A made-up link from someone not signed in is recorded once an hour per address, so an
    anonymous stream of them cannot grow the audit trail without bound; every other refusal is
    recorded each time."""
    row = care.invitation_by_token(token_hash(token)) if len(token) <= TOKEN_MAX_LENGTH else None
    if row is None:
        if actor_id is not None or not _unknown_link_recorded_lately(address):
            _audit_refusal(None, "unknown", actor_id, address)
        raise Refusal(INVITATION_REFUSALS["unknown"], "unknown")
    state = invitation_state(row)
    if state != "valid":
        _refuse_invitation(row, state, actor_id, address=address)
    return row


def _unknown_link_recorded_lately(address: str | None) -> bool:
    since = clock.to_db(clock.now() - UNKNOWN_LINKS_AUDITED_EVERY)
    return audit.recorded_since("invitation_refused", "unknown", address, since)


def _audit_refusal(row, outcome: str, actor_id, address=None) -> None:
    audit.record("invitation_refused", outcome, at=clock.db_now(), actor_id=actor_id,
                 patient_id=row["patient_id"] if row else None,
                 subject=f"invitation:{row['id']}" if row else None, address=address)


def _refuse_invitation(row, outcome: str, actor_id, reason: str | None = None, address=None):
    _audit_refusal(row, outcome, actor_id, address)
    raise Refusal(reason or INVITATION_REFUSALS[outcome], outcome)


def check_acceptor(row, user) -> None:
    """Only the role the invitation was made for may accept it, and never its own creator."""
    if user.id == row["created_by"]:
        _refuse_invitation(row, "own_invitation", user.id,
                           "This is your own invitation. Send the link to the person you want in "
                           "your care team.")
    if user.role != ROLE_FOR_KIND[row["kind"]]:
        wanted = {"caregiver": "a caregiver", "clinician": "a clinician",
                  "enrolment": "a new patient"}[row["kind"]]
        _refuse_invitation(row, "wrong_role", user.id,
                           f"This invitation is for {wanted}. You are signed in as a {user.role}, "
                           "so it cannot be used with this account.")
    patient_id, member_id = ((user.id, row["created_by"]) if row["kind"] == "enrolment"
                             else (row["patient_id"], user.id))
    if care.active_membership(patient_id, member_id):
        _refuse_invitation(row, "already_member", user.id, "You are already in this care team.")


def who_has_seen(reader):
    """Who other than the patient looked at their diary: for the patient only."""
    return audit.for_patient_views(reader.id) if reader.role == "patient" else []


# The clinic on every help screen, and the loop closed for the patient


def clinic_contacts(reader) -> list:
    """The signed-in patient's clinicians with the phone they give patients; [] for others."""
    return care.clinic_contacts(reader.id) if reader.role == "patient" else []


def own_flags(scope: Scope) -> list:
    """The patient's own flags with who acknowledged them, for the state words on their diary.
    The clinician's note only when they chose to show it; a declined safety answer stays
    between the patient and the clinic's follow-up, so it is left out here."""
    if not scope.is_own:
        return []
    shown = []
    for row in flag_store.flags_of_patient(scope.patient_id):
        if row["kind"] in flag_rules.KINDS_KEPT_FROM_PATIENT or row["state"] == "withdrawn":
            continue
        flag = dict(row)
        if not flag["note_for_patient"]:
            flag["acknowledged_note"] = None
        shown.append(flag)
    return shown


def looked_since_flag(reader, flag_row) -> bool:
    """Whether this clinician opened the patient's diary since the flag last changed."""
    return audit.viewed_since(reader.id, flag_row["patient_id"], flag_row["updated_at"])


def recently_acknowledged(reader, limit: int) -> list:
    """Flags of the clinician's patients acknowledged in the last 24 hours, which may be reopened."""
    since = clock.to_db(clock.now() - flag_rules.REOPEN_WITHIN)
    return flag_store.recently_acknowledged(reader.id, since, limit)



# The course of infusions, and records that leave the app

from .store import course as course_store  # noqa: E402  (this section's own SQL)


def course_total(scope: Scope) -> int:
    """How many infusions the reader's course holds: a caregiver's, those with a shared check-in."""
    return course_store.count_infusions(scope.patient_id, scope.shared_only)


class CoursePage(NamedTuple):
    """One page of the course: infusions newest first (with `number` and `checkin_count`), their
    readable check-ins by infusion (oldest first, as (check-in, severities) pairs), and the
    flags this reader may see."""

    infusions: list
    checkins: dict
    flags: list


def course_page(scope: Scope, *, limit: int, offset: int) -> CoursePage:
    """Three statements for any number of infusions: the page, its check-ins, its flags."""
    rows = course_store.infusions_page(scope.patient_id, scope.shared_only, limit=limit,
                                       offset=offset)
    ids = [row["id"] for row in rows]
    return CoursePage([_infusion_for(scope, row) for row in rows],
                      _checkins_by_infusion(scope, ids), course_flags(scope, ids))


def _infusion_for(scope: Scope, row) -> dict:
    """An infusion as this reader may see it: a caregiver never gets its note."""
    found = dict(row)
    if scope.shared_only:
        found["note"] = ""
    return found


def _checkins_by_infusion(scope: Scope, infusion_ids) -> dict[int, list]:
    grouped: dict[int, list] = {infusion_id: [] for infusion_id in infusion_ids}
    if not infusion_ids:
        return grouped
    for row in course_store.checkins_of_infusions(scope.patient_id, infusion_ids,
                                                  scope.shared_only):
        grouped[row["infusion_id"]].append((_redacted(scope, row), course_store.severities_of(row)))
    return grouped


def course_flags(scope: Scope, infusion_ids) -> list:
    """Flags of these infusions: the patient sees their own as their diary shows them
    (own_flags), a clinician every one, a caregiver none."""
    if scope.shared_only or not infusion_ids:
        return []
    if scope.is_own:
        wanted = set(infusion_ids)
        return [row for row in own_flags(scope) if row["infusion_id"] in wanted]
    return [dict(row) for row in course_store.flags_of_infusions(scope.patient_id, infusion_ids)]


def course_infusion(reader, scope: Scope, infusion_id: int):
    """One infusion for its printed report: the patient's own, or one the reader may read
    (refusals audited, 404); the reader's look is then audited once."""
    if scope.is_own:
        row = own_infusion(reader, infusion_id)
    else:
        row = infusion(scope, infusion_id)
        record_view(scope)
    return _infusion_for(scope, row)


class DiaryRecords(NamedTuple):
    """Everything of the diary this reader may export: infusions oldest first (with `number`),
    (check-in, severities) pairs oldest first, and flags."""

    infusions: list
    checkins: list
    flags: list


def diary_records(scope: Scope) -> DiaryRecords:
    """The whole diary as this scope may see it, in three statements plus one for flags."""
    rows = [_infusion_for(scope, row)
            for row in course_store.numbered_infusions(scope.patient_id, scope.shared_only)]
    grouped = _checkins_by_infusion(scope, [row["id"] for row in rows])
    checkins = [pair for row in rows for pair in grouped[row["id"]]]
    return DiaryRecords(rows, checkins, course_flags(scope, [row["id"] for row in rows]))


def export_scope(reader, patient_id: int) -> Scope:
    """The reader's scope for exporting this patient's diary, or 404 (audited as refused)."""
    return require_scope(reader, patient_id, audit_view=False)


def record_export(scope: Scope) -> None:
    """Every export leaves an audit row naming its address: "view_export" when someone other
    than the patient takes it (a look, shown under "Who has seen my diary"), "export" when the
    patient takes their own."""
    audit.record("export" if scope.is_own else "view_export", "ok", at=clock.db_now(),
                 actor_id=scope.reader_id, patient_id=scope.patient_id, subject=scope.path,
                 address=scope.address)


def care_team_history(reader) -> list:
    """Everyone who has been in the patient's own care team, from when and until when."""
    return course_store.care_team_history(reader.id) if reader.role == "patient" else []


def every_look_at_my_diary(reader) -> list:
    """Every look at the patient's own diary by someone else, oldest first: for the patient only."""
    return course_store.views_of_patient(reader.id) if reader.role == "patient" else []
