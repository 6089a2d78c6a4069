"""The browser phone in a real headless Chromium (fake microphone, no route to Twilio).

With the real vendored SDK: it loads from the app, the phone says it is connecting and then,
as Twilio cannot be reached here, says so; SIP agents get no phone. With a stand-in for
Twilio.Device (served instead of the SDK file): ringing, Answer, Mute, Hang up, the call just
taken answered by itself, token renewal, and notes saved during a call without ending it.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from extensions import db
from models import EndpointKind, Presence
from tests.support.browser import ARTIFACTS, FAKE_MEDIA, chromium, console_serving, log_in, open_page
from tests.support.console import enqueue_caller, make_user

pytestmark = pytest.mark.browser

SDK_PATTERN = re.compile(r"/console/static/vendor/twilio-voice-[0-9.]+\.min\.js$")

# Stands in for the SDK: the same surface phone.js uses, driven by the test through window.fake.
FAKE_SDK = """
(function () {
  function Emitter() { this.handlers = {}; }
  Emitter.prototype.on = function (name, fn) {
    (this.handlers[name] = this.handlers[name] || []).push(fn);
    return this;
  };
  Emitter.prototype.emit = function (name) {
    var args = Array.prototype.slice.call(arguments, 1);
    (this.handlers[name] || []).forEach(function (fn) { fn.apply(null, args); });
  };
  function Device(token, options) {
    Emitter.call(this);
    this.token = token; this.options = options; this.state = "unregistered"; this.tokens = [token];
    window.fake.device = this;
  }
  Device.prototype = Object.create(Emitter.prototype);
  Device.isSupported = true;
  Device.prototype.register = function () {
    var device = this;
    device.state = "registering"; device.emit("registering");
    setTimeout(function () { device.state = "registered"; device.emit("registered"); }, 50);
    return Promise.resolve();
  };
  Device.prototype.updateToken = function (token) { this.token = token; this.tokens.push(token); };
  function Call(custom) {
    Emitter.call(this);
    this.parameters = {From: "+9647501234567", CallSid: "CA" + "e".repeat(32)};
    this.customParameters = new Map(Object.entries(custom || {}));
    this.state = "pending"; this.muted = false; this.accepted = false; this.rejected = false;
  }
  Call.prototype = Object.create(Emitter.prototype);
  Call.prototype.status = function () { return this.state; };
  Call.prototype.accept = function () { this.state = "open"; this.accepted = true; this.emit("accept", this); };
  Call.prototype.reject = function () { this.state = "closed"; this.rejected = true; this.emit("reject"); };
  Call.prototype.disconnect = function () { this.state = "closed"; this.emit("disconnect", this); };
  Call.prototype.mute = function (muted) { this.muted = muted; this.emit("mute", muted, this); };
  Call.prototype.isMuted = function () { return this.muted; };
  window.fake = {
    ring: function (custom) {
      var call = new Call(custom);
      window.fake.call = call;
      window.fake.device.emit("incoming", call);
      return true;
    }
  };
  window.Twilio = {Device: Device};
}());
"""


@pytest.fixture(scope="module")
def browser():
    with chromium(*FAKE_MEDIA) as browser:
        yield browser


@pytest.fixture
def server(app):
    """The test app on a real threaded server, with an in-process live broker."""
    with console_serving(app, "phone-test-server") as base:
        yield base


@pytest.fixture
def page(browser):
    with open_page(browser, height=760) as page:
        yield page


@pytest.fixture
def fake_sdk(page):
    page.route(
        SDK_PATTERN, lambda route: route.fulfill(status=200, content_type="application/javascript", body=FAKE_SDK)
    )


def phone_state(page) -> str:
    return page.get_attribute("#phone", "data-state")


# --- the real SDK ------------------------------------------------------------------------------


@pytest.mark.parametrize("language, direction", [("en", "ltr"), ("ar", "rtl")])
def test_the_real_sdk_loads_from_the_app_and_the_phone_says_it_cannot_reach_twilio(
    app, app_context, server, voice_key, page, language, direction
):
    make_user(f"amira-{language}", language=language, endpoint_kind=EndpointKind.client)
    scripts = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    tokens = []
    page.on("response", lambda response: tokens.append(response.status) if "/phone/token" in response.url else None)

    log_in(page, server, f"amira-{language}")
    assert page.evaluate("typeof window.Twilio.Device") == "function"
    assert all(url.startswith(server) for url in scripts), scripts  # nothing from a CDN
    assert any(SDK_PATTERN.search(url) for url in scripts)
    expect(page.locator("#phone-label")).not_to_be_empty()
    assert phone_state(page) in {"connecting", "error"}
    page.screenshot(path=str(ARTIFACTS / f"phone-connecting-{language}.png"))

    # No Twilio here: within the phone's patience the agent is told, not left guessing.
    page.wait_for_function("() => document.getElementById('phone').dataset.state === 'error'", timeout=25_000)
    notice = page.locator("#phone-notice")
    expect(notice).to_be_visible()
    expect(notice).not_to_be_empty()
    assert tokens == [200]
    assert page.evaluate("document.documentElement.dir") == direction
    assert page.evaluate("getComputedStyle(document.getElementById('phone')).direction") == direction
    assert not page.console_errors, page.console_errors
    page.screenshot(path=str(ARTIFACTS / f"phone-unreachable-{language}.png"))


def test_a_sip_agent_has_no_phone_and_no_sdk(app, app_context, server, voice_key, page):
    make_user("karwan", endpoint_kind=EndpointKind.sip, endpoint="sip:karwan@pbx.example.org")
    log_in(page, server, "karwan")
    assert page.locator("#phone").count() == 0 and page.locator("#phone-notice").count() == 0
    assert page.evaluate("typeof window.Twilio") == "undefined"
    page.screenshot(path=str(ARTIFACTS / "phone-sip-agent-en.png"))


def test_without_the_key_the_phone_says_it_is_not_configured(app, app_context, server, page):
    make_user("amira")
    log_in(page, server, "amira")
    assert phone_state(page) == "not_configured"
    expect(page.locator("#phone-label")).to_have_text("Browser phone not configured")
    expect(page.locator("#phone-notice")).to_be_hidden()  # no orange notice on every page: the admin is told
    assert page.evaluate("typeof window.Twilio") == "undefined"
    page.screenshot(path=str(ARTIFACTS / "phone-not-configured-en.png"))


# --- the calls, with a stand-in for Twilio.Device ------------------------------------------------


def wait_ready(page) -> None:
    page.wait_for_function("() => document.getElementById('phone').dataset.state === 'ready'")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_call_rings_until_answered_then_mute_and_hang_up(
    app, app_context, server, voice_key, fake_sdk, page, language
):
    make_user(f"amira-{language}", language=language)
    log_in(page, server, f"amira-{language}")
    wait_ready(page)
    options = page.evaluate("window.fake.device.options")
    assert options == {"codecPreferences": ["opus", "pcmu"], "closeProtection": True}
    page.screenshot(path=str(ARTIFACTS / f"phone-ready-{language}.png"))

    page.evaluate("window.fake.ring({kind: 'queue', callId: '41', caller: '0750 123 4567'})")
    assert phone_state(page) == "ringing"
    expect(page.locator("#phone-caller")).to_contain_text("0750 123 4567")
    expect(page.locator("#phone-answer")).to_be_visible()
    assert page.evaluate("window.fake.call.accepted") is False  # nobody took it here: it rings
    assert page.title().startswith("\u260e")
    page.screenshot(path=str(ARTIFACTS / f"phone-ringing-{language}.png"))

    page.click("#phone-answer")
    assert phone_state(page) == "on_call"
    expect(page.locator("#phone-timer")).to_have_text(re.compile(r"^0:0\d$"))
    expect(page.locator("#phone-answer")).to_be_hidden()
    expect(page.locator("#phone-open")).to_have_attribute("href", "/console/calls/41")
    page.click("#phone-mute")
    assert page.evaluate("window.fake.call.muted") is True
    expect(page.locator("#phone-mute")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=str(ARTIFACTS / f"phone-on-call-{language}.png"))

    page.click("#phone-hangup")
    assert phone_state(page) == "ready"
    expect(page.locator("#phone-caller")).to_be_hidden()
    assert not page.title().startswith("\u260e")
    assert not page.console_errors, page.console_errors


def test_a_declined_or_missed_call_leaves_the_phone_ready(app, app_context, server, voice_key, fake_sdk, page):
    make_user("amira")
    log_in(page, server, "amira")
    wait_ready(page)
    page.evaluate("window.fake.ring({})")  # no context: the number Twilio gives
    expect(page.locator("#phone-caller")).to_contain_text("+9647501234567")
    page.click("#phone-hangup")
    assert page.evaluate("window.fake.call.rejected") is True and phone_state(page) == "ready"

    page.evaluate("window.fake.ring({caller: '0750 123 4567'})")
    page.evaluate("window.fake.call.emit('cancel')")  # the caller gave up while it rang
    assert phone_state(page) == "ready"
    expect(page.locator("#phone-notice")).to_contain_text("stopped ringing")


def test_the_call_just_taken_is_answered_by_itself_and_notes_save_without_ending_it(
    app, app_context, client, twilio_api, server, voice_key, fake_sdk, page
):
    make_user("amira").presence = Presence.available
    db.session.commit()
    log_in(page, server, "amira")
    call = enqueue_caller(client, 1)
    page.locator(f'#queue-rows tr[data-call-id="{call.id}"] button.take').click()
    page.wait_for_url(re.compile(rf"/console/calls/{call.id}$"))
    wait_ready(page)

    page.evaluate(f"window.fake.ring({{kind: 'queue', callId: '{call.id}', caller: '0750 123 4567'}})")
    assert page.evaluate("window.fake.call.accepted") is True  # no click: the agent just took it
    assert phone_state(page) == "on_call"
    expect(page.locator("#phone-open")).to_be_hidden()  # already on its call screen

    # Saving notes mid-call must not reload the page: that would hang up on the caller.
    page.evaluate("window.stillHere = true")
    page.fill('textarea[name="notes"]', "Asked about letter 1234.")
    page.click('button[name="save"]')
    expect(page.locator("main .flash.success")).to_be_visible()
    assert page.evaluate("window.stillHere") is True and phone_state(page) == "on_call"
    db.session.expire_all()
    assert db.session.get(type(call), call.id).notes == "Asked about letter 1234."
    page.screenshot(path=str(ARTIFACTS / "phone-call-screen-on-call-en.png"))

    # A call that rings long after a take is not answered by itself.
    page.click("#phone-hangup")
    page.evaluate("sessionStorage.setItem('hotline.phone.taken', JSON.stringify({at: Date.now() - 60000}))")
    page.evaluate("window.fake.ring({caller: '0750 123 4567'})")
    assert page.evaluate("window.fake.call.accepted") is False and phone_state(page) == "ringing"
    assert not page.console_errors, page.console_errors


def test_the_token_is_renewed_before_it_expires(app, app_context, server, voice_key, fake_sdk, page):
    make_user("amira")
    log_in(page, server, "amira")
    wait_ready(page)
    page.evaluate("window.fake.device.emit('tokenWillExpire', window.fake.device)")
    page.wait_for_function("() => window.fake.device.tokens.length === 2")
    assert page.evaluate("window.fake.device.tokens[1].split('.').length") == 3


def pretend_microphone_permission(page, state: str) -> None:
    """Chromium's fake media UI grants the microphone; the page is told `state` instead."""
    page.add_init_script(
        f"navigator.permissions.query = () => Promise.resolve(Object.assign(new EventTarget(), {{state: '{state}'}}));"
    )


def test_the_phone_asks_for_the_microphone_before_a_call_needs_it(app, app_context, server, voice_key, fake_sdk, page):
    pretend_microphone_permission(page, "prompt")
    make_user("amira")
    log_in(page, server, "amira")
    wait_ready(page)
    notice = page.locator("#phone-notice")
    expect(notice).to_contain_text("ask to use the microphone")
    expect(page.locator("#phone-mic")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "phone-microphone-hint-en.png"))
    page.click("#phone-mic")  # the fake media UI says yes
    expect(notice).to_be_hidden()


def test_a_blocked_microphone_is_explained(app, app_context, server, voice_key, fake_sdk, page):
    pretend_microphone_permission(page, "denied")
    make_user("amira", language="ar")
    log_in(page, server, "amira")
    wait_ready(page)
    expect(page.locator("#phone-notice")).to_contain_text("الميكروفون محظور")  # "microphone is blocked"
    expect(page.locator("#phone-mic")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "phone-microphone-blocked-ar.png"))
