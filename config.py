"""Every setting of the hotline, read once from the environment with a typed default."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

from domain.languages import LANGUAGES

BASE_DIR = Path(__file__).resolve().parent
TWILIO_API_DEFAULT = "https://api.twilio.com"
# Where the app serves its own Twilio REST stand-in, in development and testing only.
DEV_TWILIO_PATH = "/dev/twilio"
# Only used in development, so that the call simulator can sign requests the app accepts.
DEVELOPMENT_AUTH_TOKEN = "development-only-auth-token"
# The only values of APP_ENV. Anything else (a typo, "staging") refuses to start: it would
# otherwise skip the production checks and fill in development secrets.
APP_ENVS = ("production", "development", "testing")


DEFAULT_AWAY_REASONS = "break,prayer,lunch,training,admin"


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def parse_transfer_numbers(text: str) -> tuple[tuple[str, str], ...]:
    """TRANSFER_NUMBERS: "label=+E164,..." into (label, number) pairs, in the order given."""
    pairs: list[tuple[str, str]] = []
    for item in text.split(","):
        if not item.strip():
            continue
        label, _, number = item.partition("=")
        label, number = label.strip(), number.strip()
        if not label or len(label) > 40 or not E164.match(number):
            raise ValueError(f"TRANSFER_NUMBERS: expected label=+E164, got {item.strip()!r}")
        if label in dict(pairs):
            raise ValueError(f"TRANSFER_NUMBERS: the label {label!r} is given twice")
        pairs.append((label, number))
    return tuple(pairs)


@dataclass(frozen=True)
class Hours:
    """A daily opening window in local time; `end` of 24:00 means midnight."""

    start: time
    end_minutes: int  # minutes after midnight, 1440 for 24:00

    @classmethod
    def parse(cls, text: str, name: str = "hours") -> "Hours":
        try:
            start_text, end_text = (part.strip() for part in text.split("-"))
            start_h, start_m = (int(x) for x in start_text.split(":"))
            end_h, end_m = (int(x) for x in end_text.split(":"))
            start = time(start_h, start_m)
            end_minutes = end_h * 60 + end_m
            if not (0 <= end_minutes <= 1440 and 0 <= end_m < 60):
                raise ValueError
        except ValueError as exc:
            raise ValueError(f"{name} must look like 08:00-24:00, got {text!r}") from exc
        return cls(start=start, end_minutes=end_minutes)

    def contains(self, moment: time) -> bool:
        minutes = moment.hour * 60 + moment.minute
        begin = self.start.hour * 60 + self.start.minute
        if begin <= self.end_minutes:
            return begin <= minutes < self.end_minutes
        return minutes >= begin or minutes < self.end_minutes  # window spans midnight

    @property
    def start_text(self) -> str:
        return self.start.strftime("%H:%M")

    @property
    def end_text(self) -> str:
        return f"{self.end_minutes // 60:02d}:{self.end_minutes % 60:02d}"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order


def parse_days(text: str, name: str) -> frozenset[int]:
    """ "sun,mon,tue,wed,thu" -> date.weekday() numbers."""
    days = [part.strip().lower()[:3] for part in text.split(",") if part.strip()]
    if not days or any(day not in WEEKDAYS for day in days):
        raise ValueError(f"{name} must list days like sun,mon,tue,wed,thu; got {text!r}")
    return frozenset(WEEKDAYS.index(day) for day in days)


def engine_options(settings) -> dict:
    """Fail fast when the database is down, slow or unreachable: a caller must not hear silence.

    - a connection is refused or times out after DB_CONNECT_TIMEOUT_S;
    - a statement is cancelled by PostgreSQL after DB_STATEMENT_TIMEOUT_MS;
    - a connection whose sent data is not acknowledged within DB_TCP_USER_TIMEOUT_MS is
      closed (libpq's `tcp_user_timeout`): the database host, or the network to it, is
      gone, and nothing else would notice until TCP gave up, many minutes later. TCP
      keepalives probe idle pooled connections, so that those die too.

    No ping before each use of a pooled connection (a round trip on every webhook): after
    a database restart the first statement fails, SQLAlchemy renews the whole pool, and
    the request is answered again (`extensions.again_if_connection_died`).

    Errors never carry a statement's bound parameters (callers' numbers, the letters they
    asked for): a logged timeout names the SQL, not the personal data in it.
    """
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return {"hide_parameters": True, "connect_args": {"timeout": settings["DB_CONNECT_TIMEOUT_S"]}}
    return {
        "hide_parameters": True,
        "pool_size": settings["DB_POOL_SIZE"],
        "max_overflow": settings["DB_MAX_OVERFLOW"],
        "pool_timeout": settings["DB_CONNECT_TIMEOUT_S"],
        "connect_args": {
            "connect_timeout": settings["DB_CONNECT_TIMEOUT_S"],
            "options": f"-c statement_timeout={settings['DB_STATEMENT_TIMEOUT_MS']}",
            "tcp_user_timeout": settings["DB_TCP_USER_TIMEOUT_MS"],
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        },
    }


def points_at_dev_twilio(base_url: str) -> bool:
    return urlsplit(base_url).path.rstrip("/").endswith(DEV_TWILIO_PATH)


def default_database_url() -> str:
    return f"sqlite:///{BASE_DIR / 'instance' / 'hotline.sqlite3'}"


class Config:
    """Settings from the environment. Views read `current_app.config`, never os.environ."""

    def __init__(self) -> None:
        self.APP_ENV = env_str("APP_ENV", "production")  # production | development | testing
        self.SECRET_KEY = env_str("SECRET_KEY", "")
        self.SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL", default_database_url())
        self.DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 3000)
        self.DB_CONNECT_TIMEOUT_S = env_int("DB_CONNECT_TIMEOUT_S", 3)
        self.DB_TCP_USER_TIMEOUT_MS = env_int("DB_TCP_USER_TIMEOUT_MS", 3000)
        self.DB_POOL_SIZE = env_int("DB_POOL_SIZE", 5)
        self.DB_MAX_OVERFLOW = env_int("DB_MAX_OVERFLOW", 5)
        # Optional: a read replica for supervisors' reports (KPIs, call log, CSV export).
        self.REPORTS_DATABASE_URL = env_str("REPORTS_DATABASE_URL", "")
        self.REDIS_URL = env_str("REDIS_URL", "")
        # Web requests wait this long for Redis (to connect, and for each answer); after a
        # failure or a timeout each process skips Redis for REDIS_WEB_PAUSE_S (domain/redis_guard.py).
        self.REDIS_WEB_TIMEOUT_MS = env_int("REDIS_WEB_TIMEOUT_MS", 500)
        self.REDIS_WEB_PAUSE_S = env_int("REDIS_WEB_PAUSE_S", 5)

        self.TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
        self.TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
        self.TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", TWILIO_API_DEFAULT)
        self.TWILIO_VALIDATE_SIGNATURES = env_bool("TWILIO_VALIDATE_SIGNATURES", True)
        # Twilio's webhooks (/ivr/*, /sms/*) are a few KB with a few dozen fields: anything
        # larger is refused (413) before it is parsed or its signature computed.
        self.WEBHOOK_MAX_BYTES = env_int("WEBHOOK_MAX_BYTES", 32 * 1024)
        self.WEBHOOK_MAX_FIELDS = env_int("WEBHOOK_MAX_FIELDS", 100)
        # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (0: none).
        # Client addresses (login and inquiry limits, audit) come from there when set.
        self.PROXY_FIX_HOPS = env_int("PROXY_FIX_HOPS", 0)
        self.PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:5599").rstrip("/")
        self.AUDIO_BASE_URL = env_str("AUDIO_BASE_URL", "").rstrip("/")
        self.HOLD_MUSIC_URL = env_str(
            "HOLD_MUSIC_URL",
            "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3",
        )
        self.AGENT_QUEUE_NAME = env_str("AGENT_QUEUE_NAME", "agents")
        # The number (E.164, a Twilio number of the account) that callbacks are placed from.
        self.HOTLINE_CALLER_ID = env_str("HOTLINE_CALLER_ID", "")
        # Call control: caller and agent meet in a Twilio conference named for the call, which the
        # console drives by REST (hold, mute, consult and transfer). Off: the agent is <Dial>led
        # straight to the caller, as before, with no call control.
        self.CALL_CONFERENCES = env_bool("CALL_CONFERENCES", False)
        # Record the agent's part of a conference call (dual channel), after a notice to the caller.
        self.RECORDING_ENABLED = env_bool("RECORDING_ENABLED", False)
        # Cold transfers to numbers outside the hotline: only these, kept by the admin, as
        # "label=+E164,label=+E164" (the label is what the agent picks; the number is dialled
        # into the call's conference, then the agent leaves).
        self.TRANSFER_NUMBERS = parse_transfer_numbers(env_str("TRANSFER_NUMBERS", ""))
        # Agents' browser phones: an API key (SK...) signs their Voice SDK access tokens; without
        # it the console says the browser phone is not configured (SIP and phone agents still ring).
        self.TWILIO_API_KEY_SID = env_str("TWILIO_API_KEY_SID", "")
        self.TWILIO_API_KEY_SECRET = env_str("TWILIO_API_KEY_SECRET", "")
        # A TwiML app (AP...) only if browsers are to place calls; receiving calls needs none.
        self.TWILIO_TWIML_APP_SID = env_str("TWILIO_TWIML_APP_SID", "")
        self.VOICE_TOKEN_TTL_S = env_int("VOICE_TOKEN_TTL_S", 3600)  # renewed before it ends

        self.TIMEZONE = env_str("TIMEZONE", "Asia/Baghdad")
        self.AGENT_HOURS = Hours.parse(env_str("AGENT_HOURS", "08:00-24:00"), "AGENT_HOURS")
        self.SELF_SERVICE_HOURS = Hours.parse(env_str("SELF_SERVICE_HOURS", "00:00-24:00"), "SELF_SERVICE_HOURS")
        # Comma separated ISO dates on which agents do not answer (holidays).
        self.AGENT_CLOSED_DATES = frozenset(
            d.strip() for d in env_str("AGENT_CLOSED_DATES", "").split(",") if d.strip()
        )

        self.VOICE_AR = env_str("VOICE_AR", "Polly.Zeina")
        self.VOICE_AR_LANGUAGE = env_str("VOICE_AR_LANGUAGE", "arb")
        self.VOICE_EN = env_str("VOICE_EN", "Polly.Joanna")
        self.VOICE_EN_LANGUAGE = env_str("VOICE_EN_LANGUAGE", "en-US")
        self.GATHER_TIMEOUT_S = env_int("GATHER_TIMEOUT_S", 6)
        self.INPUT_TRIES = env_int("INPUT_TRIES", 3)

        self.LIMIT_FAILED_LOOKUPS_PER_CALL = env_int("LIMIT_FAILED_LOOKUPS_PER_CALL", 3)
        self.LIMIT_FAILED_LOOKUPS_PER_CALLER_HOUR = env_int("LIMIT_FAILED_LOOKUPS_PER_CALLER_HOUR", 10)
        self.LIMIT_FAILED_LOOKUPS_PER_NUMBER_DAY = env_int("LIMIT_FAILED_LOOKUPS_PER_NUMBER_DAY", 20)
        # The alarm over every caller and address: this many failed lookups (IVR and inquiry
        # page together) within LOOKUP_ALARM_WINDOW_S seconds is logged and shown to
        # supervisors, once a window. Set it well above a busy day's failures; 0: no alarm.
        self.LOOKUP_ALARM_FAILURES = env_int("LOOKUP_ALARM_FAILURES", 100)
        self.LOOKUP_ALARM_WINDOW_S = env_int("LOOKUP_ALARM_WINDOW_S", 600)
        if self.LOOKUP_ALARM_WINDOW_S <= 0:
            raise ValueError("LOOKUP_ALARM_WINDOW_S must be a number of seconds above 0")

        self.DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", "IQ")

        # The console.
        self.CONSOLE_LANGUAGES = LANGUAGES
        self.BABEL_DEFAULT_LOCALE = env_str("CONSOLE_DEFAULT_LANGUAGE", "ar")
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE
        self.DISPOSITIONS = tuple(
            d.strip()
            for d in env_str(
                "DISPOSITIONS",
                "status_given,status_explained,wrong_office,complaint_logged,callback_promised,"
                "transferred,no_record,silent_or_dropped",
            ).split(",")
            if d.strip()
        )
        self.LOGIN_LIMIT_PER_ACCOUNT_ADDRESS = env_str("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "5 per minute")
        self.LOGIN_LIMIT_PER_ADDRESS = env_str("LOGIN_LIMIT_PER_ADDRESS", "30 per 10 minutes")
        # Per account from anywhere: this many attempts an hour, then 1 s, 2 s, 4 s ... at most
        # LOGIN_DELAY_MAX_S between attempts (not a lockout; browsers it logged in from skip it).
        self.LOGIN_FREE_FAILURES_PER_ACCOUNT = env_int("LOGIN_FREE_FAILURES_PER_ACCOUNT", 5)
        self.LOGIN_DELAY_MAX_S = env_int("LOGIN_DELAY_MAX_S", 300)
        # Password verifications (Argon2, ~0.1 s of a core each) at once per worker process; an
        # attempt that finds none free within LOGIN_VERIFY_WAIT_MS is answered 429 "try again in
        # a moment". With 4 workers on 2 cores, 2 each keeps a flood of logins from crowding out
        # Twilio's webhooks.
        self.LOGIN_VERIFY_CONCURRENCY = max(1, env_int("LOGIN_VERIFY_CONCURRENCY", 2))
        self.LOGIN_VERIFY_WAIT_MS = max(0, env_int("LOGIN_VERIFY_WAIT_MS", 2000))
        # Put before every login-limit key: lets two deployments (or test runs) share a Redis.
        self.RATELIMIT_KEY_PREFIX = env_str("RATELIMIT_KEY_PREFIX", "")
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", self.APP_ENV == "production")
        self.SESSION_COOKIE_NAME = "hotline_session"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PERMANENT_SESSION_LIFETIME = env_int("SESSION_HOURS", 12) * 3600
        # Strict-Transport-Security on HTTPS answers in production (0: not sent).
        self.HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600)
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        # Where the console's live events go: Redis pub/sub with REDIS_URL, else in-process.
        self.LIVE_CHANNEL = env_str("LIVE_CHANNEL", "hotline:live")
        self.SSE_KEEPALIVE_S = env_int("SSE_KEEPALIVE_S", 15)
        # The process's live subscription PINGs Redis this often; unanswered for twice as long
        # (a frozen Redis), the open streams end with "down" and the consoles poll.
        self.LIVE_PING_S = env_int("LIVE_PING_S", 1)
        # Supervisors: a queued call answered within this many seconds meets the service level.
        self.SERVICE_LEVEL_SECONDS = env_int("SERVICE_LEVEL_SECONDS", 30)
        # The wallboard recounts at least this often, as calls enter and leave the IVR unannounced.
        self.WALLBOARD_REFRESH_S = env_int("WALLBOARD_REFRESH_S", 5)
        # Presence: every open console page sends a heartbeat every PRESENCE_HEARTBEAT_S; an
        # agent with none for PRESENCE_TIMEOUT_S is Offline (on the wallboard, the Agents page
        # and for routing at once). Away has a reason from AWAY_REASONS ("missed" is routing's).
        self.PRESENCE_HEARTBEAT_S = max(1, env_int("PRESENCE_HEARTBEAT_S", 15))
        self.PRESENCE_TIMEOUT_S = max(5, env_int("PRESENCE_TIMEOUT_S", 60))
        self.AWAY_REASONS = tuple(
            reason
            for reason in (part.strip().lower() for part in env_str("AWAY_REASONS", DEFAULT_AWAY_REASONS).split(","))
            if reason and reason != "missed" and len(reason) <= 20
        )
        # Wrap-up ends by itself after this many seconds (0: only when the agent wraps up).
        self.WRAP_UP_LIMIT_S = max(0, env_int("WRAP_UP_LIMIT_S", 0))
        # "offer": the longest-waiting caller is offered to the longest-idle available agent
        # who speaks their language; "list": every agent sees the queue and clicks Take.
        self.ROUTING_MODE = "list" if env_str("ROUTING_MODE", "offer").strip().lower() == "list" else "offer"
        # An offer not accepted within OFFER_TIMEOUT_S: the agent is Away ("missed"), the next
        # one is offered. After LANGUAGE_WAIT_S with nobody of the caller's language free, any
        # available agent is offered. ROUTING_SWEEP_INTERVAL_S: the periodic job that makes
        # sure no offer or caller is stuck when no event came.
        self.OFFER_TIMEOUT_S = max(5, env_int("OFFER_TIMEOUT_S", 20))
        self.LANGUAGE_WAIT_S = max(0, env_int("LANGUAGE_WAIT_S", 30))
        self.ROUTING_SWEEP_INTERVAL_S = max(1, env_int("ROUTING_SWEEP_INTERVAL_S", 10))
        # After the agent hangs up, ask the caller for a score from 1 to 5.
        self.SURVEY_ENABLED = env_bool("SURVEY_ENABLED", False)
        # Recorded prompts (the studio): kept in the database; each web process reads the set of
        # approved clips again after this many seconds, so an approval is live on every node.
        self.PROMPT_CLIPS_CACHE_SECONDS = env_int("PROMPT_CLIPS_CACHE_SECONDS", 5)
        # A take longer than this (after trimming its silence) is refused; an upload larger
        # than PROMPT_UPLOAD_MAX_BYTES too (the studio's routes raise their request limit to it).
        self.PROMPT_CLIP_MAX_SECONDS = env_int("PROMPT_CLIP_MAX_SECONDS", 30)
        self.PROMPT_UPLOAD_MAX_BYTES = env_int("PROMPT_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)

        # Jobs (RQ on REDIS_URL; inline in the web process without it), SMS, the API, inquiry.
        self.JOB_FAILURE_TTL_DAYS = env_int("JOB_FAILURE_TTL_DAYS", 7)
        # Put before every queue name and job id: lets two deployments (or test runs) share a Redis.
        self.JOB_QUEUE_PREFIX = env_str("JOB_QUEUE_PREFIX", "")
        self.SMS_FROM = env_str("SMS_FROM", "")  # a Twilio number or alphanumeric sender id
        self.SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 5)
        # A row "sending" for longer than this was lost with its worker: the sweep retries it.
        # It must exceed the sms job timeout, so a slow but living worker is never doubled.
        self.SMS_SENDING_TIMEOUT_S = env_int("SMS_SENDING_TIMEOUT_S", 180)
        self.OUTBOX_SWEEP_INTERVAL_S = env_int("OUTBOX_SWEEP_INTERVAL_S", 60)
        # Off: nothing is sent to Twilio at all (rows are marked suppressed).
        self.SMS_ENABLED = env_bool("SMS_ENABLED", True)
        # SMS only to mobiles with these country calling codes (comma-separated, "+" optional):
        # a status SMS to any country's number invites SMS pumping. Default: Iraq.
        self.SMS_ALLOWED_COUNTRY_CODES = frozenset(
            code.strip().lstrip("+") for code in env_str("SMS_ALLOWED_COUNTRY_CODES", "964").split(",") if code.strip()
        )
        # At most this many SMS to one number in any 24 hours (counted in sms_message).
        self.SMS_MAX_PER_DESTINATION_DAY = env_int("SMS_MAX_PER_DESTINATION_DAY", 5)
        self.API_BATCH_MAX = env_int("API_BATCH_MAX", 500)
        # The largest CSV an upload (console or API) may be: 256 MiB, about two million letters.
        # It is streamed into the database in IMPORT_CHUNK_BYTES chunks, never held whole.
        self.IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 256 * 1024 * 1024)
        self.IMPORT_CHUNK_BYTES = env_int("IMPORT_CHUNK_BYTES", 1024 * 1024)
        # An upload still incomplete after this long (its node died mid-request) is purged.
        self.IMPORT_UPLOAD_ABANDONED_HOURS = env_int("IMPORT_UPLOAD_ABANDONED_HOURS", 24)
        # No other request body may be larger (413, before any view reads it). The import
        # routes raise their own request's limit to IMPORT_MAX_BYTES (`request.max_content_length`).
        self.MAX_CONTENT_LENGTH = env_int("REQUEST_MAX_BYTES", 1024 * 1024)
        # The inquiry page's failed lookups an hour per client: per IPv4 address, per IPv6
        # network of INQUIRY_IPV6_PREFIX bits (a /64 is what one line or server is given).
        self.INQUIRY_LIMIT_PER_ADDRESS_HOUR = env_int("INQUIRY_LIMIT_PER_ADDRESS_HOUR", 30)
        self.INQUIRY_IPV6_PREFIX = env_int("INQUIRY_IPV6_PREFIX", 64)
        if not 1 <= self.INQUIRY_IPV6_PREFIX <= 128:
            raise ValueError(f"INQUIRY_IPV6_PREFIX must be from 1 to 128, got {self.INQUIRY_IPV6_PREFIX}")
        # Housekeeping: calls still "in queue" this long without a status callback are closed.
        self.ABANDONED_QUEUE_HOURS = env_int("ABANDONED_QUEUE_HOURS", 4)
        self.HOUSEKEEPING_INTERVAL_S = env_int("HOUSEKEEPING_INTERVAL_S", 3600)
        # How often open complaints past their SLA are looked for (and escalated).
        self.COMPLAINT_ESCALATION_INTERVAL_S = env_int("COMPLAINT_ESCALATION_INTERVAL_S", 300)
        self.CALL_EVENT_RETENTION_DAYS = env_int("CALL_EVENT_RETENTION_DAYS", 365)
        self.LOOKUP_ATTEMPT_RETENTION_DAYS = env_int("LOOKUP_ATTEMPT_RETENTION_DAYS", 90)
        self.SMS_RETENTION_DAYS = env_int("SMS_RETENTION_DAYS", 180)
        # Recordings of the agent's part of conference calls, kept at Twilio, deleted there by age.
        self.RECORDING_RETENTION_DAYS = env_int("RECORDING_RETENTION_DAYS", 90)

        # Complaints. SLAs count working time: OFFICE_HOURS on OFFICE_DAYS, Baghdad time, less
        # AGENT_CLOSED_DATES and OFFICE_CLOSED_DATES (public holidays close the centre and the offices).
        self.OFFICE_HOURS = Hours.parse(env_str("OFFICE_HOURS", "08:00-15:00"), "OFFICE_HOURS")
        if self.OFFICE_HOURS.start.hour * 60 + self.OFFICE_HOURS.start.minute >= self.OFFICE_HOURS.end_minutes:
            raise ValueError("OFFICE_HOURS must start and end on the same day, like 08:00-15:00")
        self.OFFICE_DAYS = parse_days(env_str("OFFICE_DAYS", "sun,mon,tue,wed,thu"), "OFFICE_DAYS")
        self.OFFICE_CLOSED_DATES = frozenset(
            d.strip() for d in env_str("OFFICE_CLOSED_DATES", "").split(",") if d.strip()
        )
        # A resolved complaint may be contested (reopened as an appeal) for this many days.
        self.COMPLAINT_APPEAL_DAYS = env_int("COMPLAINT_APPEAL_DAYS", 30)
        # A closed complaint's personal data (name, contact, national id, description,
        # attachments) is purged this many days after it closed; the counts stay for reports.
        self.COMPLAINT_RETENTION_DAYS = env_int("COMPLAINT_RETENTION_DAYS", 730)
        self.COMPLAINT_DESCRIPTION_MAX = env_int("COMPLAINT_DESCRIPTION_MAX", 5000)
        self.COMPLAINT_ATTACHMENTS_MAX = env_int("COMPLAINT_ATTACHMENTS_MAX", 5)
        self.COMPLAINT_ATTACHMENT_MAX_BYTES = env_int("COMPLAINT_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
        # SMS about complaints (notices and one-time codes) to one number in any 24 hours:
        # apart from the letters' SMS_MAX_PER_DESTINATION_DAY.
        self.COMPLAINT_SMS_MAX_PER_DESTINATION_DAY = env_int("COMPLAINT_SMS_MAX_PER_DESTINATION_DAY", 10)
        # One-time codes (verifying a mobile or an e-mail address, following a complaint).
        self.OTP_TTL_MINUTES = env_int("OTP_TTL_MINUTES", 10)
        self.OTP_MAX_TRIES = env_int("OTP_MAX_TRIES", 5)
        self.OTP_MAX_PER_DESTINATION_HOUR = env_int("OTP_MAX_PER_DESTINATION_HOUR", 3)
        self.OTP_MAX_PER_REQUESTER_HOUR = env_int("OTP_MAX_PER_REQUESTER_HOUR", 10)
        self.OTP_MAX_PER_HOUR = env_int("OTP_MAX_PER_HOUR", 1000)  # all destinations together
        # E-mail by SMTP; with no SMTP_HOST nothing is sent (rows are marked suppressed).
        self.SMTP_HOST = env_str("SMTP_HOST", "")
        self.SMTP_PORT = env_int("SMTP_PORT", 587)
        self.SMTP_USERNAME = env_str("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = env_str("SMTP_PASSWORD", "")
        self.SMTP_SECURITY = env_str("SMTP_SECURITY", "starttls")  # starttls | ssl | none
        if self.SMTP_SECURITY not in {"starttls", "ssl", "none"}:
            raise ValueError(f"SMTP_SECURITY must be starttls, ssl or none; got {self.SMTP_SECURITY!r}")
        self.SMTP_TIMEOUT_S = env_int("SMTP_TIMEOUT_S", 10)
        self.MAIL_FROM = env_str("MAIL_FROM", "5599 <no-reply@5599.invalid>")
        self.EMAIL_MAX_PER_DESTINATION_DAY = env_int("EMAIL_MAX_PER_DESTINATION_DAY", 20)
        # The e-mail outbox as the SMS one: attempts before a message has failed; a message
        # "sending" longer than the timeout (more than the email job's 60 s) was lost with its
        # worker and is retried; finished messages are purged after EMAIL_RETENTION_DAYS.
        self.EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 5)
        self.EMAIL_SENDING_TIMEOUT_S = env_int("EMAIL_SENDING_TIMEOUT_S", 180)
        self.EMAIL_RETENTION_DAYS = env_int("EMAIL_RETENTION_DAYS", 180)

        self.finish_environment()

    def finish_environment(self) -> None:
        if self.APP_ENV in {"development", "testing"}:
            self.SECRET_KEY = self.SECRET_KEY or "development-only-secret-key"
            self.TWILIO_AUTH_TOKEN = self.TWILIO_AUTH_TOKEN or DEVELOPMENT_AUTH_TOKEN

    def check_production(self) -> None:
        """Refuse to start a production app that could not tell Twilio from a forger."""
        if self.APP_ENV not in APP_ENVS:
            raise RuntimeError(
                f"APP_ENV is {self.APP_ENV!r}; it must be exactly one of "
                + ", ".join(APP_ENVS)
                + " (a staging server runs as production, with its own Twilio token)"
            )
        if self.APP_ENV != "production":
            return
        missing = [name for name in ("TWILIO_AUTH_TOKEN", "SECRET_KEY") if not getattr(self, name)]
        if missing:
            raise RuntimeError(
                "Refusing to start in production without "
                + ", ".join(missing)
                + " (set APP_ENV=development to try the hotline locally)"
            )
        if not self.TWILIO_VALIDATE_SIGNATURES:
            raise RuntimeError("TWILIO_VALIDATE_SIGNATURES cannot be off in production")
        if points_at_dev_twilio(self.TWILIO_API_BASE_URL):
            # Those routes do not exist in production: every Take and callback would fail.
            raise RuntimeError(
                f"TWILIO_API_BASE_URL ({self.TWILIO_API_BASE_URL}) points at the development "
                f"Twilio stand-in ({DEV_TWILIO_PATH}), which production does not serve; "
                "unset it to use Twilio"
            )

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in vars(self) if name.isupper()}
