"""Tests that drive the system Chromium through Playwright against a live server."""
