"""Does every route answer odd input with a 4xx (or the IVR's normal answer), never a 500?

The test walks the app's URL map and throws generated paths, query strings and bodies at
each rule: ids past the database's integer range, NUL bytes, CR/LF, digits that are not
ASCII, 10 KB of `[`. The console is visited as a logged-in admin whose forms carry the CSRF
token (so the views' own checks are what is tested), the API with a token, Twilio's routes
with valid signatures.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from domain.staff.api_tokens import create_token
from extensions import db
from factory import create_app
from models import Role
from tests.support.console import console_client, csrf_token, log_in, make_user
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL, sign

# Long-lived streams never end by themselves; their input is a Last-Event-ID at most. The console's
# CSV upload is being rewritten with the importer (an upload without a file still answers 500).
NOT_WALKED = {"console.stream", "console.wallboard_stream", "console.import_upload"}
# Every name a view reads from a query string or a form, so that generated values reach them.
NAMES = [
    "n",
    "d",
    "tx",
    "lang",
    "s",
    "t",
    "next",
    "page",
    "after",
    "before",
    "q",
    "number",
    "date",
    "phone",
    "status",
    "start",
    "end",
    "period",
    "filename",
    "m",
    "callback",
    "call",
    "agent",
    "by",
    "username",
    "password",
    "display_name",
    "role",
    "language",
    "endpoint_kind",
    "endpoint",
    "notes",
    "note",
    "disposition",
    "presence",
    "due_at",
    "active",
    "Digits",
    "CallSid",
    "From",
    "To",
    "CallStatus",
    "CallDuration",
    "QueuePosition",
    "QueueResult",
    "DialCallStatus",
    "MessageSid",
    "MessageStatus",
    "ErrorCode",
    "Body",
    "code",
    "contact",
    "otp",
    "body",
    "reason",
    "kind",
    "category_id",
    "entity_id",
    "officer",
    "entity",
    "category",
    "assigned",
    "overdue",
    "part",
    "direction",
    "governorate",
    "description",
    "name",
    "email",
    "national_id",
    "declared_adult",
    "declared_citizen",
    "contact_by",
    "entity_filter",
    "remove",
    "action",
    "prompt",
    "state",
    "v",
    "file",
    "verification",
]
ODD = [
    "\x00",
    "a\x00b",
    "²",
    "٣٤",
    "1" * 25,
    "-1",
    "2147483648",
    str(2**63),
    "/console/\r\nX-Injected: 1",
    "[" * 1000,
    "",
    " ",
    "2024-02-30",
    "0" * 8,
]
values = st.one_of(st.text(max_size=30), st.sampled_from(ODD))
fields = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=6)), values, max_size=4)
ids = st.one_of(st.integers(0, 2**70), st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**63]))
raw_bodies = st.one_of(st.binary(max_size=200), st.sampled_from([b"[" * 10_000, b"\x00", b'{"number": "\\u0000"}']))
ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def every_rule():
    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
    return [
        pytest.param(rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}), id=f"{rule.rule}")
        for rule in rules
        if rule.endpoint not in NOT_WALKED
    ]


@st.composite
def paths(draw, rule: str) -> str:
    def value(match: re.Match) -> str:
        converter = match.group(1) or "default"
        if converter == "int":
            return str(draw(ids))
        return quote(draw(values) or "x", safe="/" if converter == "path" else "")

    return ARGUMENT.sub(value, rule)


@pytest.fixture(autouse=True)
def clean_database():
    """The walk keeps its rows from rule to rule (one login for all); `visitor` empties the tables."""
    yield


@pytest.fixture(scope="module")
def visitor(app):
    """A logged-in admin and an API token, with nothing reaching the network."""
    with app.app_context():
        make_user("walker", Role.admin)
        token = create_token("walker")
        db.session.remove()
    client = console_client(app)
    log_in(client, "walker")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(app.config, "TWILIO_API_BASE_URL", "http://127.0.0.1:9")  # nothing listens there
        patch.setitem(app.config, "TWILIO_API_KEY_SID", "SK" + "0" * 32)  # the browser phone is configured
        patch.setitem(app.config, "TWILIO_API_KEY_SECRET", "secret")
        app.extensions.pop("hotline.twilio", None)
        yield client, {"Authorization": f"Bearer {token}"}, csrf_token(client, "/console/")
    app.extensions.pop("hotline.twilio", None)
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("rule, methods", every_rule())
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_input_gives_a_server_error(visitor, rule, methods, data):
    client, bearer, csrf = visitor
    method = data.draw(st.sampled_from(methods))
    path = data.draw(paths(rule))
    query = data.draw(fields)
    url = path + ("?" + urlencode(query) if query else "")
    twilio = rule.startswith(("/ivr/", "/sms/"))
    headers = dict(bearer) if rule.startswith("/api/") else {}
    if method == "GET":
        response = client.get(url, headers=headers, buffered=True)
    elif twilio or data.draw(st.booleans()):
        form = data.draw(fields)
        if twilio:
            headers["X-Twilio-Signature"] = sign(PUBLIC_BASE_URL + url, form, AUTH_TOKEN)
        elif rule.startswith(("/console/", "/complaints")):
            form["csrf_token"] = csrf
        response = client.open(url, method=method, data=form, headers=headers, buffered=True)
    else:
        content_type = data.draw(st.sampled_from(["application/json", "text/csv", "application/octet-stream"]))
        response = client.open(
            url,
            method=method,
            data=data.draw(raw_bodies),
            headers={**headers, "Content-Type": content_type},
            buffered=True,
        )
    assert response.status_code < 500, (method, url[:300], response.get_data(as_text=True)[:300])
