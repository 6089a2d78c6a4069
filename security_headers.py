"""The headers every answer carries: what a browser may load, frame, send on, keep and cache.

The policy allows scripts, styles, images and fonts from this app only (nothing inline: the
pages keep their scripts and styles in static files, and page data in JSON `<script>` blocks,
which are never run). The console alone may also reach Twilio, as the browser phone (the
Voice JS SDK, served from static/vendor) does: signalling over `wss://voice-js.*.twilio.com`,
call quality reports to `https://eventgw*.twilio.com`, its ringing sounds from
`https://sdk.twilio.com` (fetched, then played), and the call's audio as a media stream.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "media-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
BROWSER_PHONE = {
    "connect-src": "wss://*.twilio.com https://*.twilio.com",
    "media-src": "blob: mediastream: https://sdk.twilio.com",
}
PHONE_BLUEPRINTS = {"console"}
# Files that may be cached; every other answer (letters, calls, searches, the audit log,
# the API's JSON) is kept by no browser and no proxy.
STATIC_ENDPOINT_SUFFIX = "static"


def content_security_policy(with_browser_phone: bool) -> str:
    policy = dict(BASE_POLICY)
    if with_browser_phone:
        for directive, sources in BROWSER_PHONE.items():
            policy[directive] = f"{policy[directive]} {sources}"
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(request.blueprint in PHONE_BLUEPRINTS))
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors, for browsers without CSP 2
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Same-origin requests keep their Referer (CSRF checks read it over HTTPS); no other site
    # learns a console URL, which names calls and letters.
    headers.setdefault("Referrer-Policy", "same-origin")
    hsts_seconds = current_app.config["HSTS_SECONDS"]
    if hsts_seconds and request.is_secure and current_app.config["APP_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
    if "Cache-Control" not in headers and not (request.endpoint or "").endswith(STATIC_ENDPOINT_SUFFIX):
        headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
