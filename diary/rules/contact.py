"""How a clinic can be reached: a phone number a patient can tap."""

import re

PHONE_MAX_LENGTH = 40
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ().\-]*[0-9]$")
PHONE_PROBLEM = ("Enter a phone number patients can call, with digits, spaces and + ( ) - only, "
                 "for example +1 617 555 0100.")


def phone_problem(phone: str) -> str | None:
    """Why this is not a phone number a patient can call; None when it is (or left empty)."""
    if not phone:
        return None
    digits = sum(ch.isdigit() for ch in phone)
    if len(phone) > PHONE_MAX_LENGTH or not PHONE_PATTERN.match(phone) or not 3 <= digits <= 15:
        return PHONE_PROBLEM
    return None


def tel_link(phone: str) -> str:
    """The phone number as a tel: link takes it: digits and a leading +."""
    return "tel:" + ("+" if phone.startswith("+") else "") + "".join(filter(str.isdigit, phone))
