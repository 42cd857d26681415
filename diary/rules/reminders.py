"""Check-in reminders as an .ics file: the phone's own calendar keeps them and raises the alarms,
which is more dependable than web push.

Times are written in UTC (a trailing Z) so each phone shows them in its own zone. Each event
carries the infusion's "Check in now" address (its URL, and in its description, which is what
most phones make tappable), and events already past are left out of a new download.
"""

from datetime import datetime, timedelta, timezone

from icalendar import Alarm, Calendar, Event

from .schedule import SLOT_HOURS

PRODID = "-//Ketamine Diary//Check-in reminders//EN"
EVENT_LENGTH = timedelta(minutes=10)
ALARM_AT_START = timedelta(0)
DESCRIPTION = "Open your diary and record how you feel."


def reminders_ics(*, infusion_id: int, end: datetime, host: str, now: datetime,
                  check_in_url: str | None = None) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for hours in upcoming_hours(end, now):
        calendar.add_component(_reminder(infusion_id, _utc(end), hours, host, _utc(now),
                                         check_in_url))
    return calendar.to_ical()


def upcoming_hours(end: datetime, now: datetime) -> list[int]:
    """The suggested check-ins still to come: a reminder for a time already past only clutters
    the phone's calendar."""
    return [hours for hours in SLOT_HOURS if _utc(end) + timedelta(hours=hours) >= _utc(now)]


def description(check_in_url: str | None) -> str:
    return f"{DESCRIPTION} Check in now: {check_in_url}" if check_in_url else DESCRIPTION


def reminder_uid(infusion_id: int, hours: int, host: str) -> str:
    """The same on every download, so a phone updates its reminders instead of doubling them."""
    return f"infusion-{infusion_id}-hour-{hours}@{host}"


def _reminder(infusion_id: int, end: datetime, hours: int, host: str, now: datetime,
              check_in_url: str | None) -> Event:
    event = Event()
    event.add("uid", reminder_uid(infusion_id, hours, host))
    event.add("dtstamp", now)
    event.add("dtstart", end + timedelta(hours=hours))
    event.add("duration", EVENT_LENGTH)
    event.add("summary", f"Diary check-in (hour {hours})")
    event.add("description", description(check_in_url))
    if check_in_url:
        event.add("url", check_in_url)
    event.add("transp", "TRANSPARENT")
    event.add_component(_alarm(hours))
    return event


def _alarm(hours: int) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Diary check-in (hour {hours}): {DESCRIPTION}")
    alarm.add("trigger", ALARM_AT_START)
    return alarm


def _utc(moment: datetime) -> datetime:
    """A naive time would be read in the server's zone; refuse it rather than guess."""
    if moment.tzinfo is None:
        raise ValueError("reminder times must be timezone-aware")
    return moment.astimezone(timezone.utc)
