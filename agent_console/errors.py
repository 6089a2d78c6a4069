"""Error pages: a clear sentence in the user's language, never a stack trace."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, InternalServerError


def messages() -> dict:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please go back and try again.")),
        403: (_("Not allowed"), _("Your role does not give access to this page.")),
        404: (_("Not found"), _("There is nothing at this address.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        413: (_("Too large"), _("What was sent is larger than this site accepts.")),
        429: (_("Too many attempts"), _("Too many attempts. Please wait a minute and try again.")),
        500: (_("Something went wrong"), _("The error has been logged. Please try again.")),
    }


def render_error(error):
    code = error.code if isinstance(error, HTTPException) else 500
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    title, message = messages().get(code, (str(code), error.description))
    if request.accept_mimetypes.best == "application/json":  # /api/ answers its own (api.errors)
        return jsonify(error=title, message=message), code
    return render_template("console/error.html", code=code, title=title, message=message), code
