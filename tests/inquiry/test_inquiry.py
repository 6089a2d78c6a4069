"""Does the public inquiry page answer like the IVR: same lookup, same disclosure, same limits?"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from extensions import db
from models import Direction, LookupAttempt, Status
from tests.support.ivr import add_letter

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def letter(app_context):
    return add_letter()


def ask(client, number="1234", on="2024-03-15", lang="en", address="203.0.113.7"):
    page = client.get(f"/inquiry?lang={lang}")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    return client.post(
        "/inquiry",
        data={"csrf_token": token, "number": number, "date": on, "lang": lang},
        environ_base={"REMOTE_ADDR": address},
    )


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_form_needs_no_login_and_speaks_three_languages(client):
    english = client.get("/inquiry?lang=en")
    assert english.status_code == 200 and 'dir="ltr"' in text(english)
    arabic = client.get("/inquiry")
    assert 'lang="ar" dir="rtl"' in text(arabic) and "رقم الكتاب" in text(arabic)
    kurdish = client.get("/inquiry?lang=ckb")
    assert 'lang="ckb" dir="rtl"' in text(kurdish) and "ژمارەی نووسراو" in text(kurdish)


def test_a_found_letter_shows_status_holder_and_date_only(client, letter):
    answer = ask(client)
    page = text(answer)
    assert answer.status_code == 200
    assert "Forwarded" in page and "Federal Ministry of Finance" in page and "2 April 2024" in page
    for secret in ("طلب تعيين", "+9647701112233", "7701112233", "KRG Ministry of Interior", "وزارة الداخلية"):
        assert secret not in page
    assert answer.headers["Cache-Control"] == "no-store"


def test_arabic_uses_iraqi_month_names(client, letter):
    page = text(ask(client, lang="ar"))
    assert "محال" in page and "2 نيسان 2024" in page and "وزارة المالية الاتحادية" in page


def test_dates_as_typed_on_a_phone_are_understood(client, letter):
    for typed in ("15/03/2024", "15-3-2024", "15032024", "١٥/٠٣/٢٠٢٤"):
        assert "Forwarded" in text(ask(client, on=typed)), typed


def test_wrong_number_and_wrong_date_read_the_same(client, letter):
    wrong_number = text(ask(client, number="9999"))
    wrong_date = text(ask(client, on="2024-03-16"))
    message = "We could not find a letter with this number and date."
    assert message in wrong_number and message in wrong_date
    strip = lambda page: re.sub(r'value="[^"]*"', "", page)  # noqa: E731  (the form echoes the entry)
    assert strip(wrong_number) == strip(wrong_date)


def test_bad_entries_say_why(client):
    assert "digits only" in text(ask(client, number="12a"))
    assert "real date" in text(ask(client, on="2099-01-01"))
    assert "real date" in text(ask(client, on="1999-12-31"))
    assert "real date" in text(ask(client, on="31/02/2024"))


def test_two_letters_show_both_directions(client, app_context):
    add_letter()
    add_letter(direction=Direction.to_region, status=Status.received)
    page = text(ask(client))
    assert "Two letters have this number and date:" in page
    assert "From the Kurdistan Region to the federal government" in page and "Received" in page


def test_the_form_is_csrf_protected(client, letter):
    answer = client.post("/inquiry", data={"number": "1234", "date": "2024-03-15"})
    assert answer.status_code == 400
    assert db.session.scalars(select(LookupAttempt)).first() is None


def test_lookups_are_recorded_on_the_web_channel(client, letter):
    ask(client)
    ask(client, number="9999")
    attempts = db.session.scalars(select(LookupAttempt).order_by(LookupAttempt.id)).all()
    assert [(a.channel, a.found, a.caller_key) for a in attempts] == [
        ("web", True, "web:203.0.113.7"),
        ("web", False, "web:203.0.113.7"),
    ]


def test_an_address_that_keeps_guessing_is_throttled(app, client, letter):
    app.config["INQUIRY_LIMIT_PER_ADDRESS_HOUR"] = 3
    try:
        for n in range(3):
            assert ask(client, number=f"90{n}").status_code == 200
        throttled = ask(client)  # even a right guess now waits
        assert throttled.status_code == 429 and "no more lookups can be made now" in text(throttled)
        assert "Forwarded" in text(ask(client, address="198.51.100.9"))  # another address is not
    finally:
        app.config["INQUIRY_LIMIT_PER_ADDRESS_HOUR"] = 30


def test_addresses_of_one_ipv6_64_share_one_limit(app, client, letter, monkeypatch):
    """20 addresses of one /64 could each guess 30 times an hour; now they guess 3 between them."""
    monkeypatch.setitem(app.config, "INQUIRY_LIMIT_PER_ADDRESS_HOUR", 3)
    for n in range(3):
        assert ask(client, number=f"90{n}", address=f"2001:db8:1:2::{n + 1:x}").status_code == 200
    for host in ("2001:db8:1:2::99", "2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:DB8:1:2:0:0:0:14"):
        throttled = ask(client, address=host)
        assert throttled.status_code == 429, host
    assert "Forwarded" in text(ask(client, address="2001:db8:1:3::1"))  # the next /64 is someone else
    keys = set(db.session.scalars(select(LookupAttempt.caller_key)))
    assert keys == {"web:2001:db8:1:2::/64", "web:2001:db8:1:3::/64"}


def test_the_ipv6_prefix_is_a_setting(app, client, letter, monkeypatch):
    monkeypatch.setitem(app.config, "INQUIRY_LIMIT_PER_ADDRESS_HOUR", 2)
    monkeypatch.setitem(app.config, "INQUIRY_IPV6_PREFIX", 48)
    ask(client, number="901", address="2001:db8:1:2::1")
    ask(client, number="902", address="2001:db8:1:3::1")
    assert ask(client, address="2001:db8:1:ffff::1").status_code == 429  # one /48
    assert ask(client, address="2001:db8:2::1").status_code == 200


def test_ipv4_addresses_keep_a_limit_each(app, client, letter, monkeypatch):
    monkeypatch.setitem(app.config, "INQUIRY_LIMIT_PER_ADDRESS_HOUR", 3)
    for n in range(3):
        ask(client, number=f"90{n}", address="203.0.113.7")
    assert ask(client, address="203.0.113.7").status_code == 429
    assert ask(client, address="::ffff:203.0.113.7").status_code == 429  # the same address, written as IPv6
    assert "Forwarded" in text(ask(client, address="203.0.113.8"))  # its neighbour is not held back
    keys = set(db.session.scalars(select(LookupAttempt.caller_key)))
    assert keys == {"web:203.0.113.7", "web:203.0.113.8"}


def test_a_number_locked_by_failures_on_any_channel_is_locked_here(app, client, letter):
    app.config["LIMIT_FAILED_LOOKUPS_PER_NUMBER_DAY"] = 2
    try:
        ask(client, on="2024-03-16", address="198.51.100.1")
        ask(client, on="2024-03-17", address="198.51.100.2")
        locked = ask(client, address="198.51.100.3")
        assert locked.status_code == 429 and "only be discussed with an agent today" in text(locked)
    finally:
        app.config["LIMIT_FAILED_LOOKUPS_PER_NUMBER_DAY"] = 20


@pytest.mark.parametrize("lang, title", [("ar", "الخط 5599"), ("ckb", "هێڵی 5599"), ("en", "The 5599 hotline")])
def test_the_front_page_leads_to_the_inquiry_and_the_console_in_each_language(client, lang, title):
    page = client.get(f"/?lang={lang}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert title in html and f'href="/inquiry?lang={lang}"' in html and 'href="/console/login"' in html


def test_the_front_page_names_the_simulator_only_outside_production(app, client):
    assert 'href="/dev/simulator/"' in client.get("/").get_data(as_text=True)  # the tests run as "testing"
    app.config["APP_ENV"] = "production"
    try:
        assert "/dev/simulator" not in client.get("/?lang=en").get_data(as_text=True)
    finally:
        app.config["APP_ENV"] = "testing"
