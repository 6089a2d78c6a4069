"""A real SMTP server for the tests (aiosmtpd), on a free local port, that keeps what it received.

`SmtpServer().start()` serves on 127.0.0.1 in a thread of its own; `received` holds every
message it accepted, parsed (`email.message.EmailMessage`, with its envelope). Tell it to
refuse: `refuse_recipients_with = "550 5.1.1 No such mailbox"` (or a 4xx) answers RCPT so;
`stop()` and `start()` again on the same port play an outage. With `login=(user, password)`
it offers AUTH (in clear: a local test server) and refuses mail from anyone not logged in.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    logged_in_as: str | None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if self.server.refuse_recipients_with:
            return self.server.refuse_recipients_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.login and not session.authenticated:
            return "530 5.7.0 Authentication required"
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        user = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with self.server.lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed, user))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, login: tuple[str, str] | None = None):
        self.port = free_port()
        self.login = login
        self.received: list[Received] = []
        self.refuse_recipients_with: str | None = None
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == (
            self.login
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def start(self) -> SmtpServer:
        options = {"authenticator": self.authenticate, "auth_require_tls": False} if self.login else {}
        self.controller = Controller(Handler(self), hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.received)
