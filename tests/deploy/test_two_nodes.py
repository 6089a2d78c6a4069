"""Do two web nodes behind nginx serve one call between them as if they were one?

Two gunicorn nodes (separate processes and ports; one database, one Redis) sit behind a
real nginx that sends each request to the next node in turn, so the webhooks of a call
alternate between them. This nginx sends the nodes `Host: hotline_nodes` and connects to
them from 127.0.0.2: a node sees neither the host and port Twilio requested nor the
client's address. Signatures hold only because the app checks them against
PUBLIC_BASE_URL (nginx's URL); the client's address reaches the app only through the
X-Forwarded-For that nginx appends to, read with PROXY_FIX_HOPS=1. Forwarding and retries
are set as in deploy/nginx/hotline.conf, which passes the public Host on instead: rewriting
it here is the harder case for the signature check.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from signal import SIGQUIT, SIGTERM
from typing import NamedTuple

import pytest
import redis
import requests
from sqlalchemy import func, select

from extensions import db
from models import AuditEntry, Call, CallEvent, Outcome
from simulator.engine import HttpTransport, SimulatedCall
from tests.support.console import CSRF_META, PASSWORD, make_user
from tests.support.gunicorn_server import START_TIMEOUT_S, Gunicorn, free_port
from tests.support.ivr import add_letter
from tests.support.services import REDIS_URL
from tests.support.waiting import wait_for
from tests.support.webhooks import sign
from voice_prompts import catalog

TOKEN = "two-nodes-test-token"
UPSTREAM = "hotline_nodes"  # the upstream's name: the Host nginx sends the nodes
CLIENT_ADDRESS = "127.0.0.1"  # where the test's requests come from
PROXY_ADDRESS = "127.0.0.2"  # where nginx's requests to the nodes come from (proxy_bind)
SPOOFED_ADDRESS = "203.0.113.7"
LOGIN_TRIES = 2  # failed logins allowed per account and address, per minute, on the nodes
# Every request of a test carries its own tag, logged by nginx and by the nodes: a test reads
# its own requests in the logs, whatever came before it.
TAG_HEADER = "X-Test-Tag"
pytestmark = pytest.mark.gunicorn


def nginx_binary() -> str:
    found = os.environ.get("NGINX_PATH") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(found, os.X_OK):
        pytest.fail(
            f"nginx is not installed (looked for {found}): ./scripts/test installs Debian's "
            "nginx package, or set NGINX_PATH to an nginx binary"
        )
    return found


def stop(*servers: tuple[subprocess.Popen | None, int]) -> None:
    """Signal every server we started at once, then wait until each is gone (kill if stuck)."""
    running = [(process, signal) for process, signal in servers if process and process.poll() is None]
    for process, signal in running:
        process.send_signal(signal)
    for process, _ in running:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def log_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []


class Served(NamedTuple):
    """One line of nginx's access log: what was asked, what came back, from which node(s)."""

    method: str
    uri: str
    status: int
    upstream: str  # "127.0.0.1:P", or "A, B" when nginx had to try a second node

    @property
    def node(self) -> str:
        """The node that answered: the last one tried."""
        return self.upstream.split(", ")[-1]


class Node(Gunicorn):
    """One web node: gunicorn serving wsgi:app, its access log noting the Host it was sent."""

    def __init__(self, name: str, folder: Path, env: dict):
        access_log = folder / f"{name}-access.log"
        super().__init__(
            env,
            log_dir=folder,
            name=f"node-{name}",
            workers=1,
            worker_class="gevent",
            options=(
                "--access-logfile",
                str(access_log),
                "--access-logformat",
                f"%({{{TAG_HEADER}}}i)s %(r)s %(s)s host=%({{host}}i)s",
            ),
        )
        self.access_log = access_log

    def stop(self) -> None:
        super().stop(SIGQUIT)  # gunicorn's quick shutdown


NGINX_CONF = """\
daemon off;
worker_processes 1;  # one round-robin counter: requests alternate strictly
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log info;
{user}
events {{ worker_connections 64; }}
http {{
    log_format nodes '$http_{tag_variable} $request_method $request_uri $status $upstream_addr';
    access_log {folder}/nginx-access.log nodes;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;

    upstream {upstream} {{
        # max_fails=0: a stopped node is tried (and skipped) every time, never benched for a
        # while, so alternation resumes as soon as it is back.
        server {a} max_fails=0;
        server {b} max_fails=0;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://{upstream};
            proxy_bind {proxy_address};
            proxy_set_header Host $proxy_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
        }}
    }}
}}
"""


@dataclass
class Cluster:
    url: str  # nginx: what Twilio and the browsers reach, and PUBLIC_BASE_URL
    nodes: list[Node]
    folder: Path

    @property
    def addresses(self) -> set[str]:
        return {node.address for node in self.nodes}

    @property
    def access_log(self) -> Path:
        return self.folder / "nginx-access.log"

    def transport(self, tag: str) -> HttpTransport:
        """Twilio: posts to nginx, signing for nginx's URL with the account's token."""
        transport = HttpTransport(self.url, TOKEN, self.url)
        transport.session().headers[TAG_HEADER] = tag
        return transport

    def browser(self, tag: str) -> requests.Session:
        browser = requests.Session()
        browser.headers[TAG_HEADER] = tag
        return browser

    def served(self, tag: str, count: int) -> list[Served]:
        """The `count` requests tagged `tag`, as nginx logged them, once each node logged its own."""
        lines = wait_for(
            lambda: len(tagged(self.access_log, tag)) >= count and tagged(self.access_log, tag),
            5,
            f"timed out waiting for {count} requests tagged {tag} in nginx's access log",
        )
        served = []
        for line in lines:
            method, uri, status, upstream = line.split(" ", 3)
            served.append(Served(method, uri, int(status), upstream))
        for node in self.nodes:
            expected = sum(s.node == node.address for s in served)
            wait_for(
                lambda log=node.access_log, expected=expected: len(tagged(log, tag)) >= expected,
                5,
                f"timed out waiting for {expected} requests tagged {tag} in the access log of node {node.name}",
            )
        return served


def tagged(log: Path, tag: str) -> list[str]:
    """The lines of an access log for the requests tagged `tag`, without the tag."""
    return [line.split(" ", 1)[1] for line in log_lines(log) if line.startswith(tag + " ")]


def start_nginx(binary: str, folder: Path, port: int, nodes: list[Node]) -> subprocess.Popen:
    user = "user root;" if os.geteuid() == 0 else ""  # as root, workers would run as nobody
    conf = folder / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            folder=folder,
            user=user,
            upstream=UPSTREAM,
            port=port,
            tag_variable=TAG_HEADER.lower().replace("-", "_"),
            a=nodes[0].address,
            b=nodes[1].address,
            proxy_address=PROXY_ADDRESS,
        )
    )
    error_log = folder / "nginx-error.log"
    with (folder / "nginx-output.log").open("ab") as output:
        process = subprocess.Popen(
            [binary, "-p", f"{folder}/", "-c", str(conf), "-e", str(error_log)], stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    stop((process, SIGTERM))
    pytest.fail(
        "nginx did not start:\n"
        + (folder / "nginx-output.log").read_text(errors="replace")
        + "\n".join(log_lines(error_log))
    )


@pytest.fixture(scope="module")
def cluster(app, database_url, tmp_path_factory):
    """nginx on a free port, round-robin over two gunicorn nodes; all stopped afterwards."""
    binary = nginx_binary()
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL}; several nodes share it")
    folder = tmp_path_factory.mktemp("two-nodes")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    run = secrets.token_hex(4)  # keeps this run's live events and jobs apart in the shared Redis
    env = dict(
        DATABASE_URL=database_url,
        TWILIO_AUTH_TOKEN=TOKEN,
        SECRET_KEY="two-nodes-test",
        PUBLIC_BASE_URL=url,
        PROXY_FIX_HOPS="1",
        REDIS_URL=REDIS_URL,
        LIVE_CHANNEL=f"hotline:live:two-nodes-{run}",
        JOB_QUEUE_PREFIX=f"two-nodes-{run}:",
        AGENT_HOURS="00:00-24:00",
        SESSION_COOKIE_SECURE="0",
        LOGIN_LIMIT_PER_ACCOUNT_ADDRESS=f"{LOGIN_TRIES} per minute",
        LOGIN_LIMIT_PER_ADDRESS="1000 per minute",
    )
    nodes = [Node("a", folder, env), Node("b", folder, env)]
    nginx = None
    try:
        for node in nodes:
            node.start(wait=False)
        for node in nodes:
            node.wait_until_answering()
        nginx = start_nginx(binary, folder, port, nodes)
        yield Cluster(url, nodes, folder)
    finally:
        stop((nginx, SIGTERM))  # SIGTERM: nginx's fast shutdown
        for node in nodes:
            node.stop()


def alternate(nodes: list[str]) -> bool:
    return all(a != b for a, b in pairwise(nodes))


def new_tag() -> str:
    return secrets.token_hex(6)


@pytest.mark.parametrize(
    "language_key, language, status_words",
    [
        ("1", "ar", "محال"),
        ("3", "en", "This letter has been forwarded."),
    ],
)
def test_a_call_alternates_between_the_nodes_and_ends_normally(
    cluster, app_context, language_key, language, status_words
):
    letter = add_letter()
    presses = [language_key, "1", "1234", "1", "15032024", "1"]
    tag = new_tag()

    call = SimulatedCall(cluster.transport(tag))
    turns = [call.start()] + [call.press(keys) for keys in presses]
    # Any webhook that was not 200 with a <Response> would have raised SimulatorError.
    assert status_words in turns[-1].text()
    assert turns[-1].expects_input  # the result menu: the caller has heard the status
    call.hang_up(duration=42)
    assert all(exchange.status == 200 for exchange in call.exchanges)
    assert not any(catalog(language)["apology"] in turn.text() for turn in turns)

    served = cluster.served(tag, len(call.exchanges))
    assert [(s.method, s.uri, s.status) for s in served] == [("POST", e.path, 200) for e in call.exchanges]
    nodes = [s.upstream for s in served]  # one address each: no request had to be tried twice
    assert set(nodes) == cluster.addresses, nodes
    assert alternate(nodes), nodes
    for node in cluster.nodes:  # each node's own log agrees, and shows it never saw nginx's host
        lines = tagged(node.access_log, tag)
        assert len(lines) == nodes.count(node.address), lines
        assert all(line.endswith(f"host={UPSTREAM}") for line in lines), lines

    db.session.rollback()  # read what the nodes committed
    saved = db.session.scalar(select(Call).where(Call.sid == call.sid))
    assert (saved.language, saved.found, saved.transaction_id) == (language, True, letter.id)
    assert saved.outcome == Outcome.self_served
    assert (saved.twilio_status, saved.duration_s) == ("completed", 42)
    assert saved.ended_at is not None
    events = db.session.scalars(select(CallEvent).where(CallEvent.call_id == saved.id).order_by(CallEvent.id)).all()
    assert [(e.step, e.digits) for e in events] == [
        ("incoming", None),
        ("language", language_key),
        ("menu", "1"),
        ("number", "1234"),
        ("number_confirm", "1"),
        ("date", "15032024"),
        ("date_confirm", "1"),
        ("status", None),
    ]
    assert len({e.dedupe_key for e in events}) == len(events)
    assert events[-2].result == f"found:{letter.status.value}"
    assert not any("apology" in (e.spoken or []) for e in events)


def test_a_forged_signature_through_nginx_is_refused_and_writes_nothing(cluster, app_context):
    voice = cluster.url + "/ivr/voice"
    form = {"CallSid": "CA" + "f" * 32, "From": "+9647501234567", "To": "+9645599", "CallStatus": "ringing"}
    forgeries = {
        "no signature": "",
        "another account's token": sign(voice, form, "not-the-auth-token"),
        # What a node would accept if it checked the URL it sees rather than PUBLIC_BASE_URL.
        "signed for the URL a node sees": sign(f"http://{UPSTREAM}/ivr/voice", form, TOKEN),
        "signed for other parameters": sign(voice, {**form, "From": "+9647700000000"}, TOKEN),
    }
    tag = new_tag()
    forger = cluster.browser(tag)
    for what, signature in forgeries.items():
        answer = forger.post(voice, data=form, headers={"X-Twilio-Signature": signature}, timeout=10)
        assert answer.status_code == 403, what
    assert {s.node for s in cluster.served(tag, len(forgeries))} == cluster.addresses  # both refused

    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Call)) == 0
    assert db.session.scalar(select(func.count()).select_from(CallEvent)) == 0

    # The same request, signed for the public URL, is a call.
    answer = forger.post(voice, data=form, headers={"X-Twilio-Signature": sign(voice, form, TOKEN)}, timeout=10)
    assert answer.status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Call)) == 1


def csrf_token(browser: requests.Session, url: str) -> str:
    page = browser.get(url + "/console/login", timeout=10)
    match = CSRF_META.search(page.text)
    assert match, page.text[:300]
    return match.group(1)


def test_the_app_sees_the_client_address_not_nginx_nor_a_spoofed_one(cluster, app_context):
    make_user("noor")
    tag = new_tag()
    browser = cluster.browser(tag)
    token = csrf_token(browser, cluster.url)
    answer = browser.post(
        cluster.url + "/console/login",
        timeout=10,
        allow_redirects=False,
        data={"username": "noor", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-For": SPOOFED_ADDRESS},
    )
    assert answer.status_code == 302, answer.text[:300]
    # The form came from one node and was posted to the other: the session is in the cookie.
    assert {s.node for s in cluster.served(tag, 2)} == cluster.addresses

    db.session.rollback()
    login = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login"))
    # The node was sent "203.0.113.7, 127.0.0.1" by 127.0.0.2: the one trusted hop is the last entry.
    assert login.address == CLIENT_ADDRESS
    assert login.address not in {PROXY_ADDRESS, SPOOFED_ADDRESS}


def test_failed_logins_count_by_the_real_address_across_nodes(cluster, app_context):
    username = f"karwan-{secrets.token_hex(4)}"  # the limit lives in Redis a minute: a fresh key
    make_user(username)
    tag = new_tag()
    browser = cluster.browser(tag)
    token = csrf_token(browser, cluster.url)
    codes = []
    for attempt in range(LOGIN_TRIES + 1):  # each from "another address", each on the next node
        codes.append(
            browser.post(
                cluster.url + "/console/login",
                timeout=10,
                allow_redirects=False,
                data={"username": username, "password": "wrong " + PASSWORD, "csrf_token": token},
                headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
            ).status_code
        )
    assert codes == [401] * LOGIN_TRIES + [429]
    posts = [s for s in cluster.served(tag, len(codes) + 1) if s.method == "POST"]
    assert {s.node for s in posts} == cluster.addresses  # one count for both nodes: in Redis


def test_a_call_goes_on_when_a_node_stops_mid_call(cluster, app_context):
    """nginx sends a request that no node received on to the other node; the call never notices."""
    add_letter()
    twilio = cluster.transport(new_tag())
    call = SimulatedCall(twilio)
    call.start()
    call.press("3")
    stopped, alive = cluster.nodes[1], cluster.nodes[0].address
    stopped.stop()
    try:
        tag = twilio.session().headers[TAG_HEADER] = new_tag()
        for keys in ("1", "1234", "1", "15032024", "1"):
            call.press(keys)
        assert "This letter has been forwarded." in call.turns[-1].text()
        call.hang_up(duration=30)
        served = cluster.served(tag, 6)
        assert all(s.status == 200 and s.node == alive for s in served), served
        assert f"{stopped.address}, {alive}" in {s.upstream for s in served}, served  # tried, skipped
    finally:
        stopped.start()  # as it was, for any test after this one
        stopped.wait_until_answering()
    db.session.rollback()
    saved = db.session.scalar(select(Call).where(Call.sid == call.sid))
    assert (saved.outcome, saved.twilio_status) == (Outcome.self_served, "completed")
    assert len(saved.events) == 8  # every step once: none lost, none twice
