"""Security headers on every response, and no caching of pages that show health data."""

from flask import Flask, request


PERMISSIONS_POLICY = ", ".join([
    "accelerometer=()", "autoplay=()", "camera=()", "display-capture=()", "geolocation=()",
    "gyroscope=()", "magnetometer=()", "microphone=()", "midi=()", "payment=()", "usb=()",
    "serial=()", "bluetooth=()", "hid=()", "screen-wake-lock=()", "xr-spatial-tracking=()",
    "publickey-credentials-create=(self)", "publickey-credentials-get=(self)",
])
"""Everything the diary never uses is denied; passkeys (WebAuthn) only on this site."""


def init_app(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response
