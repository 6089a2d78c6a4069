"""The application factory: it only wires configuration, extensions, blueprints and commands."""

from __future__ import annotations

import logging

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter, Map

from config import Config, engine_options
from domain.db.ids import MAX_ID
from extensions import again_if_connection_died, babel, csrf, db, login_manager, migrate

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class HotlineJSONProvider(DefaultJSONProvider):
    """JSON nested too deep to decode (10 KB of `[`) is bad JSON, a 400, not a RecursionError."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route is a row id: past the id columns' range it is a 404, not a database error."""

    def __init__(
        self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID, signed: bool = False
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


class RowIdMap(Map):
    default_converters = {**Map.default_converters, "int": RowIdConverter}


class HotlineFlask(Flask):
    """Flask, reading once more when a pooled database connection turned out dead: after a
    database restart a read (GET) is answered on a fresh connection, not with an error page.
    The voice webhooks do the same for their POSTs (`ivr.steps.voice_step`)."""

    json_provider_class = HotlineJSONProvider
    url_map_class = RowIdMap

    def dispatch_request(self):
        if request.method not in SAFE_METHODS:
            return super().dispatch_request()
        return again_if_connection_died(super().dispatch_request)


def create_app(config: Config | dict | None = None) -> Flask:
    app = HotlineFlask(__name__, instance_relative_config=True)
    configure(app, config)
    configure_logging(app)
    register_proxy(app)
    register_extensions(app)
    register_blueprints(app)
    register_input_checks(app)
    register_security_headers(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def configure(app: Flask, config: Config | dict | None) -> None:
    settings = config if isinstance(config, Config) else Config()
    app.config.from_mapping(settings.as_dict())
    if isinstance(config, dict):
        app.config.from_mapping(config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))
    if app.config["REPORTS_DATABASE_URL"]:
        # The same timeouts and pool settings as the primary, on the replica's URL.
        reports = dict(app.config, SQLALCHEMY_DATABASE_URI=app.config["REPORTS_DATABASE_URL"])
        app.config["SQLALCHEMY_BINDS"] = {
            "reports": {"url": app.config["REPORTS_DATABASE_URL"], **engine_options(reports)},
        }
    Config.check_production(_ConfigView(app.config))
    app.config["TESTING"] = app.config["APP_ENV"] == "testing"


class _ConfigView:
    """Lets Config.check_production read the final app.config by attribute."""

    def __init__(self, mapping):
        self._mapping = mapping

    def __getattr__(self, name):
        return self._mapping[name]


def configure_logging(app: Flask) -> None:
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The twilio library logs every REST request (URL, query, headers) at INFO: callers'
    # numbers and call SIDs, which stay out of the logs. Its warnings still show.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)


def register_proxy(app: Flask) -> None:
    """Trust exactly PROXY_FIX_HOPS proxies for the client's address and scheme.

    Not for the host: nothing may depend on a Host a client can choose (signatures are
    checked against PUBLIC_BASE_URL).
    """
    hops = app.config["PROXY_FIX_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def register_extensions(app: Flask) -> None:
    from agent_console.menu import select_locale
    from config import BASE_DIR

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    login_manager.session_protection = "strong"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(BASE_DIR / "agent_console" / "translations"))
    babel.init_app(app, locale_selector=select_locale)


def _migrations_dir():
    from config import BASE_DIR

    return BASE_DIR / "migrations"


def register_blueprints(app: Flask) -> None:
    from agent_console import bp as console_bp
    from api import bp as api_bp
    from inquiry import bp as inquiry_bp
    from inquiry.complaints import bp as complaints_bp
    from inquiry.home import bp as home_bp
    from ivr import bp as ivr_bp
    from sms import bp as sms_bp

    csrf.exempt(ivr_bp)  # Twilio cannot send a CSRF token; its signature is checked instead
    csrf.exempt(sms_bp)  # the same: Twilio's signed delivery callbacks
    csrf.exempt(api_bp)  # bearer tokens, no cookies: nothing for a forged form to ride on
    app.register_blueprint(ivr_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(inquiry_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(complaints_bp)
    if app.config["APP_ENV"] in {"development", "testing"}:
        from simulator import bp as simulator_bp
        from simulator.twilio_api import bp as dev_twilio_bp

        app.register_blueprint(simulator_bp)
        csrf.exempt(dev_twilio_bp)  # the twilio client authenticates with HTTP basic auth, no cookies
        app.register_blueprint(dev_twilio_bp)


def register_input_checks(app: Flask) -> None:
    app.before_request(refuse_nul_bytes)


def refuse_nul_bytes() -> None:
    """A NUL byte in a path names nothing (and no file, no row can hold one): 400, never a 500.
    Form fields are checked by the forms (`agent_console.forms.ConsoleForm`)."""
    if "\x00" in request.path:
        abort(400)


def register_security_headers(app: Flask) -> None:
    import security_headers

    security_headers.register(app)


def register_error_handlers(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    from agent_console.errors import render_error
    from api.errors import http_problem, is_api_request

    def answer(error):
        """The API's JSON under /api/ (the path decides: a 404 there has no blueprint); pages elsewhere."""
        return http_problem(error) if is_api_request() else render_error(error)

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, answer)
    # Any other HTTP error under /api/ (415, 401 from werkzeug, ...) is JSON too; elsewhere it stays werkzeug's.
    app.register_error_handler(HTTPException, lambda error: http_problem(error) if is_api_request() else error)


def register_commands(app: Flask) -> None:
    from cli import register

    register(app)
