"""The flag rules in diary.flags: tables of clinical scenarios, then properties for Hypothesis."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from diary.rules import catalogue
from diary.rules.flags import (
    KINDS, LASTING, LOW_MOOD, SAFETY, SAFETY_UNANSWERED, SEVERE, AcknowledgedEvidence,
    CheckinFacts, Flag, describe, evaluate, hour_after_end, is_urgent, patient_message,
    queue_order_key, safety_question, should_reopen, thresholds_in_force, urgent_reasons,
)

END = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)


def at(hours=0, minutes=0, seconds=0) -> datetime:
    return END + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def checkin(id, hours, *, minutes=0, seconds=0, mood=5, safety="no", **severities) -> CheckinFacts:
    """A check-in `hours` after the infusion's end; symptoms are given as code=severity."""
    return CheckinFacts(id=id, at=at(hours, minutes, seconds), mood=mood, safety=safety,
                        severities=severities)


def lasting(symptom, **fields):
    return {(LASTING, symptom.code): dict(expected=symptom.settles, source=symptom.source_text,
                                          flag_after_hours=symptom.flag_after_hours, **fields)}


def per_symptom_scenarios():
    for symptom in catalogue.SYMPTOMS:
        code, hours = symptom.code, symptom.flag_after_hours
        yield pytest.param(
            [checkin(1, hours, seconds=-1, **{code: 1})], None, {},
            id=f"{code}: Mild one second before hour {hours} -> nothing")
        yield pytest.param(
            [checkin(1, hours, **{code: 1})], None,
            lasting(symptom, first_checkin_id=1, latest_checkin_id=1, peak_severity=1, hour=hours),
            id=f"{code}: Mild at hour {hours} -> lasting")
        yield pytest.param(
            [checkin(1, hours + 2, **{code: 0})], None, {},
            id=f"{code}: None past hour {hours} -> nothing")


DIZZY = catalogue.symptom("dizziness")

RULE_SCENARIOS = [
    *per_symptom_scenarios(),
    pytest.param(
        [checkin(1, 3, dizziness=3), checkin(2, 6, dizziness=1), checkin(3, 7, dizziness=3),
         checkin(4, 8, dizziness=0), checkin(5, 9, minutes=40, dizziness=2)], None,
        lasting(DIZZY, first_checkin_id=2, latest_checkin_id=5, first_at=at(6),
                latest_at=at(9, 40), peak_severity=3, latest_severity=2, hour=9),
        id="several check-ins extend one lasting flag; before the threshold does not count"),
    pytest.param(
        [checkin(2, 7, dizziness=2), checkin(1, 7, dizziness=1)], None,
        lasting(DIZZY, first_checkin_id=1, latest_checkin_id=2, latest_severity=2),
        id="two check-ins at the same moment: the lower id counts as first"),
    pytest.param(
        [CheckinFacts(id=1, at=at(6).astimezone(ZoneInfo("America/New_York")), mood=5,
                      safety="no", severities={"dizziness": 1})], None,
        lasting(DIZZY, hour=6),
        id="a check-in time in another zone is the same instant"),
    pytest.param(
        [checkin(1, 8, dizziness=2, nausea=1, headache=0)], None,
        {**lasting(DIZZY, peak_severity=2),
         **lasting(catalogue.symptom("nausea"), peak_severity=1)},
        id="one check-in, two lasting symptoms"),
    pytest.param(
        [checkin(1, 2, minutes=30, headache=4)], None,
        {(SEVERE, "headache"): dict(first_checkin_id=1, latest_checkin_id=1, peak_severity=4,
                                    latest_severity=4, hour=2, expected=None, source=None)},
        id="Very severe before its threshold -> severe, not lasting"),
    pytest.param(
        [checkin(1, 7, dizziness=4)], None,
        {(SEVERE, "dizziness"): dict(hour=7), **lasting(DIZZY, peak_severity=4)},
        id="Very severe past its threshold -> severe and lasting"),
    pytest.param(
        [checkin(1, 0, minutes=-20, anxiety=4)], None,
        {(SEVERE, "anxiety"): dict(hour=-1, first_at=at(minutes=-20))},
        id="Very severe during the infusion -> severe"),
    pytest.param(
        [checkin(1, 1, headache=4), checkin(2, 2, headache=3), checkin(3, 4, headache=4)], None,
        {(SEVERE, "headache"): dict(first_checkin_id=1, latest_checkin_id=3, hour=4)},
        id="severe spans the Very severe check-ins only"),
    pytest.param(
        [checkin(1, 3, headache=3)], None, {},
        id="Severe (3) before its threshold -> nothing"),
    pytest.param(
        [checkin(1, 5, mood=1)], None,
        {(LOW_MOOD, None): dict(latest_mood=1, hour=5, peak_severity=None)},
        id="mood 1 -> low_mood"),
    pytest.param(
        [checkin(1, 1, mood=0), checkin(2, 2, mood=3), checkin(3, 4, mood=1)], None,
        {(LOW_MOOD, None): dict(first_checkin_id=1, latest_checkin_id=3, latest_mood=1)},
        id="low_mood spans mood 0 and 1 check-ins"),
    pytest.param([checkin(1, 5, mood=2)], None, {}, id="mood 2 -> nothing"),
    pytest.param(
        [checkin(1, 3, safety="yes")], None,
        {(SAFETY, None): dict(first_checkin_id=1, latest_checkin_id=1, hour=3)},
        id="safety yes -> safety"),
    pytest.param(
        [checkin(1, 1, safety="yes"), checkin(2, 2, safety="no"), checkin(3, 8, safety="yes")],
        None, {(SAFETY, None): dict(first_checkin_id=1, latest_checkin_id=3, hour=8)},
        id="safety spans the yes answers"),
    pytest.param(
        [checkin(1, 1, safety="no"), checkin(2, 3, safety=None)],
        None, {},
        id="safety no, or not asked -> nothing"),
    pytest.param(
        [checkin(1, 1, safety="no"), checkin(2, 2, safety="unsaid"), checkin(3, 3, safety=None),
         checkin(4, 5, safety="unsaid")],
        None, {(SAFETY_UNANSWERED, None): dict(first_checkin_id=2, latest_checkin_id=4, hour=5,
                                               peak_severity=None, latest_mood=None)},
        id="prefer not to say -> safety_unanswered, spanning those answers"),
    pytest.param(
        [checkin(1, 7, mood=0, safety="yes", dizziness=4, nausea=2)], None,
        {(LOW_MOOD, None): {}, (SAFETY, None): {}, (SEVERE, "dizziness"): {},
         **lasting(DIZZY), **lasting(catalogue.symptom("nausea"))},
        id="one check-in raises every kind at once"),
    pytest.param(
        [checkin(1, 3, dizziness=1)], {"dizziness": 2},
        {(LASTING, "dizziness"): dict(flag_after_hours=2, hour=3, expected=DIZZY.settles)},
        id="dizziness set to 2 h for this patient -> lasting at hour 3"),
    pytest.param(
        [checkin(1, 3, dizziness=1)], None, {},
        id="the same report under the default 6 h -> nothing"),
    pytest.param(
        [checkin(1, 7, dizziness=2, nausea=1)], {"dizziness": 12},
        lasting(catalogue.symptom("nausea")),
        id="dizziness raised to 12 h -> only nausea is lasting"),
    pytest.param(
        [checkin(1, 30, fatigue=1)], {"fatigue": 48}, {},
        id="fatigue set to 48 h -> nothing at hour 30"),
    pytest.param(
        [checkin(1, 48, fatigue=1)], {"fatigue": 48},
        {(LASTING, "fatigue"): dict(flag_after_hours=48, hour=48)},
        id="fatigue set to 48 h -> lasting at hour 48"),
    pytest.param([], None, {}, id="no check-ins -> nothing"),
]


@pytest.mark.parametrize("checkins, thresholds, expected", RULE_SCENARIOS)
def test_rule_table(checkins, thresholds, expected):
    flags = evaluate(END, checkins, thresholds)
    assert set(flags) == set(expected)
    for key, fields in expected.items():
        assert flags[key].key == key
        for name, value in fields.items():
            assert getattr(flags[key], name) == value, name


EDITS = [
    pytest.param(
        [checkin(1, 7, dizziness=2)], [checkin(1, 7, dizziness=0)],
        (LASTING, "dizziness"), None,
        id="symptom edited to None -> lasting gone"),
    pytest.param(
        [checkin(1, 7, dizziness=2)], [checkin(1, 5, dizziness=2)],
        (LASTING, "dizziness"), None,
        id="time edited to before the threshold -> lasting gone"),
    pytest.param(
        [checkin(1, 2, headache=4)], [checkin(1, 2, headache=3)],
        (SEVERE, "headache"), None,
        id="Very severe edited to Severe -> severe gone"),
    pytest.param(
        [checkin(1, 5, mood=1)], [checkin(1, 5, mood=4)],
        (LOW_MOOD, None), None,
        id="mood edited up -> low_mood gone"),
    pytest.param(
        [checkin(1, 3, safety="yes")], [checkin(1, 3, safety="unsaid")],
        (SAFETY, None), None,
        id="safety answer edited -> safety gone"),
    pytest.param(
        [checkin(1, 7, dizziness=2), checkin(2, 9, dizziness=3)],
        [checkin(1, 7, dizziness=2), checkin(2, 9, dizziness=0)],
        (LASTING, "dizziness"), dict(latest_checkin_id=1, peak_severity=2, hour=7),
        id="latest evidence edited away -> flag stays on the earlier check-in"),
]


@pytest.mark.parametrize("before, after, key, remaining", EDITS)
def test_editing_a_checkin(before, after, key, remaining):
    assert key in evaluate(END, before)
    flags = evaluate(END, after)
    if remaining is None:
        assert key not in flags
    else:
        assert {name: getattr(flags[key], name) for name in remaining} == remaining


REOPENS = [
    pytest.param([checkin(1, 7, dizziness=2)], [checkin(2, 9, dizziness=3)],
                 (LASTING, "dizziness"), True, id="lasting: later more severe -> reopen"),
    pytest.param([checkin(1, 7, dizziness=2)], [checkin(2, 9, dizziness=2)],
                 (LASTING, "dizziness"), False, id="lasting: later equal -> stays"),
    pytest.param([checkin(1, 7, dizziness=2)], [checkin(2, 9, dizziness=1)],
                 (LASTING, "dizziness"), False, id="lasting: later milder -> stays"),
    pytest.param([checkin(1, 7, dizziness=2)],
                 [checkin(2, 8, dizziness=3), checkin(3, 9, dizziness=1)],
                 (LASTING, "dizziness"), True,
                 id="lasting: later worse, then milder -> reopen"),
    pytest.param([checkin(1, 6, dizziness=3), checkin(2, 7, dizziness=1)],
                 [checkin(3, 9, dizziness=2)],
                 (LASTING, "dizziness"), False,
                 id="lasting: later worse than the last report but not the peak -> stays"),
    pytest.param([checkin(1, 7, dizziness=2)], [checkin(2, 9, dizziness=0)],
                 (LASTING, "dizziness"), False, id="lasting: later None -> stays"),
    pytest.param([checkin(1, 7, dizziness=2)], [],
                 (LASTING, "dizziness"), False, id="lasting: no later check-in -> stays"),
    pytest.param([checkin(1, 7, dizziness=2)], [checkin(2, 7, dizziness=3)],
                 (LASTING, "dizziness"), False,
                 id="lasting: same moment is not later -> stays"),
    pytest.param([checkin(1, 2, headache=4)], [checkin(2, 5, headache=4)],
                 (SEVERE, "headache"), True, id="severe: later repeat -> reopen"),
    pytest.param([checkin(1, 2, headache=4)], [checkin(2, 5, headache=3)],
                 (SEVERE, "headache"), False, id="severe: later Severe only -> stays"),
    pytest.param([checkin(1, 2, headache=4)], [checkin(2, 5, heart=4)],
                 (SEVERE, "headache"), False, id="severe: another symptom -> stays"),
    pytest.param([checkin(1, 2, mood=0)], [checkin(2, 4, mood=1)],
                 (LOW_MOOD, None), True, id="low_mood: later repeat -> reopen"),
    pytest.param([checkin(1, 2, mood=1)], [checkin(2, 4, mood=4)],
                 (LOW_MOOD, None), False, id="low_mood: later better mood -> stays"),
    pytest.param([checkin(1, 2, safety="yes")], [checkin(2, 4, safety="yes")],
                 (SAFETY, None), True, id="safety: later yes -> reopen"),
    pytest.param([checkin(1, 2, safety="yes")], [checkin(2, 4, safety="unsaid")],
                 (SAFETY, None), False, id="safety: later prefer not to say -> stays"),
    pytest.param([checkin(1, 2, safety="yes")], [],
                 (SAFETY, None), False, id="safety: no later check-in -> stays"),
]


@pytest.mark.parametrize("seen, later, key, reopens", REOPENS)
def test_reopen_decision(seen, later, key, reopens):
    acknowledged = seen_evidence(evaluate(END, seen)[key])
    current = evaluate(END, seen + later).get(key)
    assert should_reopen(acknowledged, current) is reopens


def test_a_withdrawn_flag_does_not_reopen():
    acknowledged = AcknowledgedEvidence(latest_at=at(7), peak_severity=2)
    assert should_reopen(acknowledged, None) is False


def test_lasting_without_a_stored_peak_reopens_on_any_later_evidence():
    current = evaluate(END, [checkin(1, 9, dizziness=1)])[(LASTING, "dizziness")]
    assert should_reopen(AcknowledgedEvidence(latest_at=at(7), peak_severity=None), current)


DESCRIPTIONS = [
    pytest.param([checkin(1, 7, minutes=59, dizziness=2)], (LASTING, "dizziness"),
                 "Dizzy or spinning: Moderate at hour 7; usually settles within 2-4 hours",
                 id="lasting"),
    pytest.param([checkin(1, 6, dizziness=3), checkin(2, 9, dizziness=1)],
                 (LASTING, "dizziness"),
                 "Dizzy or spinning: Mild at hour 9 (Severe earlier); "
                 "usually settles within 2-4 hours",
                 id="lasting, worse earlier"),
    pytest.param([checkin(1, 2, headache=4)], (SEVERE, "headache"),
                 "Headache: Very severe at hour 2", id="severe"),
    pytest.param([checkin(1, 0, minutes=-5, headache=4)], (SEVERE, "headache"),
                 "Headache: Very severe during the infusion", id="severe during the infusion"),
    pytest.param([checkin(1, 0, minutes=30, heart=4)], (SEVERE, "heart"),
                 "Heart pounding or racing: Very severe at hour 0", id="severe in the first hour"),
    pytest.param([checkin(1, 5, mood=1)], (LOW_MOOD, None), "Mood 1 of 10 at hour 5",
                 id="low_mood"),
    pytest.param([checkin(1, 3, safety="yes")], (SAFETY, None),
                 "Answered yes to the safety question at hour 3", id="safety"),
    pytest.param([checkin(1, 0, minutes=-1, safety="yes")], (SAFETY, None),
                 "Answered yes to the safety question during the infusion",
                 id="safety during the infusion"),
    pytest.param([checkin(1, 2, minutes=30, safety="unsaid")], (SAFETY_UNANSWERED, None),
                 "Chose not to answer the safety question at hour 2", id="safety_unanswered"),
]


@pytest.mark.parametrize("checkins, key, sentence", DESCRIPTIONS)
def test_describe(checkins, key, sentence):
    assert describe(evaluate(END, checkins)[key]) == sentence


def test_describe_takes_labels_from_the_catalogue_it_is_given():
    labels = SimpleNamespace(symptom=lambda code: SimpleNamespace(label=f"<{code}>"),
                             severity_label=lambda value: f"level {value}")
    flag = evaluate(END, [checkin(1, 2, headache=4)])[(SEVERE, "headache")]
    assert describe(flag, labels=labels) == "<headache>: level 4 at hour 2"


def test_describe_works_on_a_flag_rebuilt_from_stored_columns():
    flag = Flag(kind=LASTING, symptom="vision", first_checkin_id=3, latest_checkin_id=4,
                first_at=at(6), latest_at=at(8), hour=8, peak_severity=2, latest_severity=2,
                expected="usually settles within a few hours")
    assert describe(flag) == ("Blurry or double vision: Moderate at hour 8; "
                              "usually settles within a few hours")


def test_patient_message_for_lasting():
    flag = evaluate(END, [checkin(1, 7, dizziness=2)])[(LASTING, "dizziness")]
    assert patient_message(flag) == (
        "Dizzy or spinning is lasting longer than usual. It usually settles within 2-4 hours. "
        "Your clinic will see this in your diary.")


def test_patient_message_without_a_clinician_says_nobody_at_a_clinic_sees_it():
    flag = evaluate(END, [checkin(1, 7, dizziness=2)])[(LASTING, "dizziness")]
    message = patient_message(flag, has_clinician=False)
    assert "Your clinic will see" not in message
    assert "No clinic sees this diary, so if it worries you, call your own doctor." in message


@pytest.mark.parametrize("key", [(SEVERE, "headache"), (LOW_MOOD, None), (SAFETY, None)])
def test_patient_message_is_only_for_lasting(key):
    flags = evaluate(END, [checkin(1, 2, mood=0, safety="yes", headache=4)])
    with pytest.raises(ValueError):
        patient_message(flags[key])


def test_no_patient_message_for_a_declined_safety_answer():
    """No alarm for the patient: the person who follows up is the clinician."""
    flag = evaluate(END, [checkin(1, 2, safety="unsaid")])[(SAFETY_UNANSWERED, None)]
    assert not flag.urgent
    with pytest.raises(ValueError):
        patient_message(flag)


@pytest.mark.parametrize("kind, urgent", [(SEVERE, True), (LOW_MOOD, True), (SAFETY, True),
                                          (LASTING, False), (SAFETY_UNANSWERED, False)])
def test_is_urgent(kind, urgent):
    assert is_urgent(kind) is urgent


def test_the_first_check_in_asks_since_the_infusion():
    assert safety_question(first=True) == (
        "Since your infusion, have you had thoughts of harming or killing yourself?")
    assert safety_question(first=False) == (
        "Since your last check-in, have you had thoughts of harming or killing yourself?")


def test_urgent_reasons_name_each_urgent_answer():
    assert urgent_reasons(checkin(1, 2, mood=1, safety="yes", headache=4, nausea=3)) == (
        "yes to the safety question", "mood 1", "Headache: Very severe")
    assert urgent_reasons(checkin(1, 2, mood=2, safety="unsaid", headache=3)) == ()


def test_kinds_order_puts_the_declined_answer_before_lasting():
    assert KINDS.index(SAFETY_UNANSWERED) < KINDS.index(LASTING)
    assert set(KINDS) == {SAFETY, SEVERE, LOW_MOOD, SAFETY_UNANSWERED, LASTING}


def test_settle_words_carry_the_number_the_chart_draws():
    """The chart's band, the flag text and the tables use one number per symptom."""
    import re
    for symptom in catalogue.SYMPTOMS:
        numbers = [int(n) for n in re.findall(r"\d+", symptom.settles)]
        if symptom.settles_within_hours is None:
            assert numbers == [], symptom.code
        else:
            assert max(numbers) == symptom.settles_within_hours, symptom.code
            assert symptom.settles_within_hours < symptom.flag_after_hours, symptom.code


def test_is_urgent_rejects_an_unknown_kind():
    with pytest.raises(ValueError):
        is_urgent("Severe")


def test_queue_puts_urgent_first_then_newest_evidence():
    flags = evaluate(END, [
        checkin(1, 1, mood=1),
        checkin(2, 3, headache=4),
        checkin(3, 7, dizziness=2),
        checkin(4, 9, nausea=1),
        checkin(5, 10, safety="yes", anxiety=4),
    ]).values()
    queue = sorted(flags, key=lambda f: queue_order_key(f.kind, f.latest_at, f.symptom))
    assert [f.key for f in queue] == [
        (SAFETY, None), (SEVERE, "anxiety"), (SEVERE, "headache"), (LOW_MOOD, None),
        (LASTING, "anxiety"), (LASTING, "nausea"), (LASTING, "dizziness"),
    ]


def test_thresholds_in_force_keep_defaults_for_symptoms_left_out():
    limits = thresholds_in_force({"dizziness": 2})
    assert limits == {**catalogue.default_thresholds(), "dizziness": 2}


INVALID = [
    pytest.param(lambda: checkin(1, 7, mood=11), id="mood above 10"),
    pytest.param(lambda: checkin(1, 7, mood=True), id="mood a bool"),
    pytest.param(lambda: checkin(1, 7, safety="Yes"), id="safety wording"),
    pytest.param(lambda: checkin(1, 7, dizziness=5), id="severity above 4"),
    pytest.param(lambda: checkin(1, 7, dizziness=-1), id="severity below 0"),
    pytest.param(lambda: checkin(1, 7, dizziness="Mild"), id="severity a label"),
    pytest.param(lambda: checkin(1, 7, giddiness=1), id="unknown symptom code"),
    pytest.param(lambda: CheckinFacts(id=1, at=datetime(2026, 3, 10, 20), mood=5, safety="no",
                                      severities={}), id="naive check-in time"),
    pytest.param(lambda: evaluate(datetime(2026, 3, 10, 15), []), id="naive end"),
    pytest.param(lambda: evaluate(END, [checkin(1, 7), checkin(1, 8)]), id="duplicate id"),
    pytest.param(lambda: evaluate(END, [], {"dizziness": 0}), id="threshold 0 h"),
    pytest.param(lambda: evaluate(END, [], {"dizziness": 49}), id="threshold 49 h"),
    pytest.param(lambda: evaluate(END, [], {"dizziness": 2.5}), id="threshold not whole"),
    pytest.param(lambda: evaluate(END, [], {"giddiness": 6}), id="threshold unknown code"),
]


@pytest.mark.parametrize("make", INVALID)
def test_invalid_input_is_refused(make):
    with pytest.raises(ValueError):
        make()


def test_checkin_severities_cannot_be_changed_after_the_fact():
    severities = {"dizziness": 2}
    facts = CheckinFacts(id=1, at=at(7), mood=5, safety="no", severities=severities)
    severities["dizziness"] = 0
    assert facts.severity("dizziness") == 2
    with pytest.raises(TypeError):
        facts.severities["dizziness"] = 0


# Properties. Times fall on half hours often, so that thresholds and ties are hit exactly.

minutes_after_end = st.one_of(st.integers(-2, 100).map(lambda k: 30 * k), st.integers(-60, 50 * 60))
severities = st.dictionaries(st.sampled_from(catalogue.CODES), st.integers(0, 4), max_size=5)
thresholds = st.dictionaries(st.sampled_from(catalogue.CODES), st.integers(1, 48), max_size=4)


@st.composite
def checkin_facts(draw, id, moods=st.integers(0, 10),
                  safety=st.sampled_from(("no", "yes", "unsaid", None)), severities=severities):
    return CheckinFacts(id=id, at=END + timedelta(minutes=draw(minutes_after_end)),
                        mood=draw(moods), safety=draw(safety), severities=draw(severities))


@st.composite
def diaries(draw, max_size=8):
    ids = draw(st.lists(st.integers(1, 10_000), unique=True, max_size=max_size))
    return [draw(checkin_facts(id)) for id in ids]


def quiet_checkin(id):
    """Check-ins that show nothing: every symptom None, mood 2 or more, no "yes", nothing declined."""
    zeros = st.dictionaries(st.sampled_from(catalogue.CODES), st.just(0))
    return checkin_facts(id, moods=st.integers(2, 10),
                         safety=st.sampled_from(("no", None)), severities=zeros)


def raised_by(facts: CheckinFacts, limits) -> set:
    """The flag keys one check-in shows, straight from the rules as written."""
    keys = set()
    for code, severity in facts.severities.items():
        if severity == 4:
            keys.add((SEVERE, code))
        if severity >= 1 and facts.at >= END + timedelta(hours=limits[code]):
            keys.add((LASTING, code))
    if facts.mood <= 1:
        keys.add((LOW_MOOD, None))
    if facts.safety == "yes":
        keys.add((SAFETY, None))
    if facts.safety == "unsaid":
        keys.add((SAFETY_UNANSWERED, None))
    return keys


@given(diaries(), thresholds)
def test_flags_match_the_rules_check_in_by_check_in(checkins, overrides):
    limits = thresholds_in_force(overrides)
    flags = evaluate(END, checkins, overrides)
    evidence = {key: sorted((c for c in checkins if key in raised_by(c, limits)),
                            key=lambda c: (c.at, c.id))
                for key in set().union(*(raised_by(c, limits) for c in checkins))}
    assert set(flags) == set(evidence)
    for key, shown in evidence.items():
        flag = flags[key]
        assert (flag.first_checkin_id, flag.latest_checkin_id) == (shown[0].id, shown[-1].id)
        assert flag.hour == hour_after_end(END, shown[-1].at)
        if key[1] is not None:
            assert flag.peak_severity == max(c.severities[key[1]] for c in shown)


@given(st.data(), diaries(), thresholds)
def test_order_of_entry_does_not_matter(data, checkins, overrides):
    shuffled = data.draw(st.permutations(checkins))
    assert evaluate(END, shuffled, overrides) == evaluate(END, checkins, overrides)


@given(st.data(), diaries(), thresholds)
def test_a_quiet_checkin_changes_nothing(data, checkins, overrides):
    new_id = max((c.id for c in checkins), default=0) + 1
    quiet = data.draw(quiet_checkin(new_id))
    assert evaluate(END, [*checkins, quiet], overrides) == evaluate(END, checkins, overrides)


@given(diaries(), thresholds, st.sampled_from(catalogue.CODES), st.integers(1, 47))
def test_raising_a_threshold_never_adds_a_lasting_flag(checkins, overrides, code, extra_hours):
    before = evaluate(END, checkins, overrides)
    current = thresholds_in_force(overrides)[code]
    raised = {**overrides, code: min(current + extra_hours, 48)}
    after = evaluate(END, checkins, raised)
    key = (LASTING, code)
    assert set(after) - {key} == set(before) - {key}
    assert {k: f for k, f in after.items() if k != key} == {
        k: f for k, f in before.items() if k != key}
    if key in after:
        assert key in before
        assert after[key].first_at >= before[key].first_at
        assert after[key].latest_checkin_id == before[key].latest_checkin_id


@given(diaries(max_size=10), thresholds, minutes_after_end)
def test_reopen_means_later_evidence_and_for_lasting_more_severe(checkins, overrides, cut):
    """Acknowledge what was there at one moment, then add the rest of the diary in time order."""
    limits = thresholds_in_force(overrides)
    seen = [c for c in checkins if c.at <= END + timedelta(minutes=cut)]
    now = evaluate(END, checkins, overrides)
    for key, flag in evaluate(END, seen, overrides).items():
        acknowledged = seen_evidence(flag)
        later = [c for c in checkins
                 if c.at > acknowledged.latest_at and key in raised_by(c, limits)]
        if key[0] == LASTING:
            later = [c for c in later if c.severities[key[1]] > acknowledged.peak_severity]
        assert should_reopen(acknowledged, now.get(key)) is bool(later)


@given(diaries(), thresholds)
def test_every_flag_can_be_described_and_queued(checkins, overrides):
    flags = list(evaluate(END, checkins, overrides).values())
    for flag in flags:
        sentence = describe(flag)
        if flag.symptom:
            assert sentence.startswith(catalogue.symptom(flag.symptom).label + ": ")
        if flag.kind == LASTING:
            assert sentence.endswith(catalogue.symptom(flag.symptom).settles)
            assert "lasting longer than usual" in patient_message(flag)
    queue = sorted(flags, key=lambda f: queue_order_key(f.kind, f.latest_at, f.symptom))
    urgency = [is_urgent(f.kind) for f in queue]
    assert urgency == sorted(urgency, reverse=True)
    for earlier, later in zip(queue, queue[1:]):
        if is_urgent(earlier.kind) == is_urgent(later.kind):
            assert earlier.latest_at >= later.latest_at


def seen_evidence(flag):
    """What the database keeps when a clinician acknowledges this flag."""
    return AcknowledgedEvidence(latest_at=flag.latest_at, peak_severity=flag.peak_severity)
