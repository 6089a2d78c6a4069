"""The API's error answers: JSON `{"error", "message", ...}` for every failure under /api/.

Views raise `ApiError`; anything else (an unknown path, a wrong method, a body over the
limit, a crash) is a werkzeug `HTTPException` by the time the app's error handlers see it,
and `http_problem` answers it in the same shape, keeping the headers werkzeug set on it
(`Allow` on a 405). The console's HTML error pages never answer a request under /api/.
"""

from __future__ import annotations

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError

API_PREFIX = "/api/"


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, **details):
        super().__init__(message)
        self.status, self.error, self.message, self.details = status, error, message, details


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


def api_error(exc: ApiError) -> tuple[Response, int]:
    return jsonify(error=exc.error, message=exc.message, **exc.details), exc.status


def http_problem(exc: BaseException) -> Response:
    """A werkzeug error (or an uncaught exception, which Flask logged already) as the API's JSON."""
    if not isinstance(exc, HTTPException):
        exc = InternalServerError()
    name = (exc.name or "error").lower().replace(" ", "_")
    response = jsonify(error=name, message=exc.description or exc.name)
    response.status_code = exc.code or 500
    for header, value in exc.get_headers():
        if header.lower() != "content-type":  # Allow on a 405, Retry-After on a 429/503
            response.headers[header] = value
    return response
