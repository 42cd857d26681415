"""Clinic settings, loaded by absolute path after the built-in defaults.

Every name here can also be set with a DIARY_ environment variable (DIARY_CRISIS_LINE_NUMBER=...),
which wins over this file. Edit these for a clinic outside the United States.
"""

DEFAULT_TIME_ZONE = "America/New_York"

CRISIS_EMERGENCY_NUMBER = "911"
CRISIS_LINE_NAME = "988 Suicide & Crisis Lifeline"
CRISIS_LINE_NUMBER = "988"
CRISIS_LINE_CHAT_URL = "https://988lifeline.org"
CRISIS_TEXT_NAME = "Crisis Text Line"
CRISIS_TEXT_NUMBER = "741741"
CRISIS_TEXT_WORD = "HOME"
