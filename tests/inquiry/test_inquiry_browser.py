"""Can a citizen look a letter up on a phone-sized screen in a real headless Chromium?"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.support.browser import ARTIFACTS, chromium, serving
from tests.support.ivr import add_letter

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


@pytest.fixture
def site(app):
    with serving(app, "inquiry-live-server") as base:
        yield base


@pytest.fixture
def letter(app_context):
    return add_letter()


@contextmanager
def phone_page(url: str):
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        yield page


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    box = page.locator("button[type=submit]").bounding_box()
    assert box["height"] >= 44  # a thumb-sized target


def test_arabic_on_a_phone_right_to_left(site, letter):
    with phone_page(site + "/inquiry") as page:
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        fits_the_screen(page)
        shoot(page, "inquiry-ar-form.png")
        page.get_by_label("رقم الكتاب").fill("1234")
        page.get_by_label("تاريخ الكتاب").fill("2024-03-15")
        page.get_by_role("button", name="استعلام").click()
        result = page.locator("[data-test=result]")
        result.wait_for()
        assert "محال" in result.inner_text() and "وزارة المالية الاتحادية" in result.inner_text()
        assert "2 نيسان 2024" in result.inner_text()
        fits_the_screen(page)
        shoot(page, "inquiry-ar-result.png")


def test_english_on_a_phone_and_one_message_for_a_miss(site, letter):
    with phone_page(site + "/inquiry?lang=en") as page:
        assert page.locator("html").get_attribute("dir") == "ltr"
        page.get_by_label("Letter number").fill("9999")
        page.get_by_label("Letter date").fill("2024-03-15")
        page.get_by_role("button", name="Look up").click()
        message = page.locator("[data-test=message]")
        message.wait_for()
        assert "could not find a letter with this number and date" in message.inner_text()
        shoot(page, "inquiry-en-not-found.png")
        page.get_by_label("Letter number").fill("1234")
        page.get_by_role("button", name="Look up").click()
        page.locator("[data-test=result]").wait_for()
        assert "Federal Ministry of Finance" in page.locator("[data-test=result]").inner_text()
        fits_the_screen(page)
        shoot(page, "inquiry-en-result.png")


def test_kurdish_by_the_language_link(site, letter):
    with phone_page(site + "/inquiry?lang=en") as page:
        page.get_by_role("link", name="کوردی").click()
        page.wait_for_url("**lang=ckb")
        assert page.locator("html").get_attribute("lang") == "ckb"
        assert page.locator("html").get_attribute("dir") == "rtl"
        page.get_by_label("ژمارەی نووسراو").fill("1234")
        page.get_by_label("بەرواری نووسراو").fill("2024-03-15")
        page.get_by_role("button", name="پرسیارکردن").click()
        page.locator("[data-test=result]").wait_for()
        assert "وەزارەتی دارایی فیدراڵ" in page.locator("[data-test=result]").inner_text()
        shoot(page, "inquiry-ckb-result.png")
