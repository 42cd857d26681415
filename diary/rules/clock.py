"""Time in one place: UTC everywhere inside, the user's zone only at the edges.

Tests replace `now` to control the clock; nothing else in the app reads the system time.
"""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones



def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def to_db(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat(" ")


def db_now() -> str:
    """Now, as the database keeps times."""
    return to_db(now())


def from_db(text: str) -> datetime:
    """A stored UTC time; fromisoformat is several times cheaper than strptime."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def is_time_zone(name: str) -> bool:
    if not name or len(name) > 64 or name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone_name))


def from_local(naive: datetime, zone_name: str) -> datetime:
    """Read a wall-clock time typed in the user's zone.

    In the hour repeated when clocks go back, take the later of the two moments unless it is
    still to come: a patient checking in "now" during the second pass means the second one.
    """
    first, second = (naive.replace(tzinfo=ZoneInfo(zone_name), fold=fold).astimezone(timezone.utc)
                     for fold in (0, 1))
    return second if first != second and second <= now() else first


_ZONES: frozenset[str] | None = None


def _zone_names() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


COMMON_TIME_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
    "America/Halifax", "America/St_Johns", "America/Toronto", "America/Vancouver",
    "America/Mexico_City", "America/Bogota", "America/Lima", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires", "America/Santiago", "Atlantic/Reykjavik", "Europe/London",
    "Europe/Dublin", "Europe/Lisbon", "Europe/Madrid", "Europe/Paris", "Europe/Berlin",
    "Europe/Amsterdam", "Europe/Brussels", "Europe/Zurich", "Europe/Rome", "Europe/Stockholm",
    "Europe/Warsaw", "Europe/Athens", "Europe/Helsinki", "Europe/Kyiv", "Europe/Istanbul",
    "Europe/Moscow", "Africa/Lagos", "Africa/Cairo", "Africa/Johannesburg", "Africa/Nairobi",
    "Asia/Jerusalem", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka",
    "Asia/Bangkok", "Asia/Singapore", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Tokyo",
    "Asia/Seoul", "Australia/Perth", "Australia/Adelaide", "Australia/Brisbane",
    "Australia/Sydney", "Pacific/Auckland", "UTC",
)


def time_zone_choices(*extra: str) -> list[str]:
    """The short list offered in forms, plus any zone the user already has or the clinic defaults to."""
    names = list(COMMON_TIME_ZONES)
    for name in extra:
        if name and name not in names and is_time_zone(name):
            names.append(name)
    return names


def format_local(moment: datetime, zone_name: str) -> str:
    """A time as a patient reads it: 'Tue 10 Mar, 2:05 pm' in their own zone."""
    here = local(moment, zone_name)
    time_text = here.strftime("%I:%M %p").lstrip("0").lower()
    return f"{here.strftime('%a')} {here.day} {here.strftime('%b')}, {time_text}"


def local_input_value(moment: datetime, zone_name: str) -> datetime:
    """A naive wall-clock time for a datetime-local field, to the minute."""
    return local(moment, zone_name).replace(tzinfo=None, second=0, microsecond=0)
