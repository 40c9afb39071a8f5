"""The gallery in a real browser: headless Chromium driven by selenium, over loopback.

One browser and one ``browse`` process for the module. Skipped only where Chromium is missing
and CI is not set; in CI a missing browser fails. ``TENGRAI_GALLERY_SCREENSHOT=.github/gallery.png``
also saves the README's screenshot of the first page.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from _gallery_helpers import browse, illustrated_archive

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if not (CHROMIUM and DRIVER) and not os.environ.get("CI"):
    pytest.skip("Chromium and chromedriver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402 - only once the browser is known to be there
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ALL_DECODED = (
    "return Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length"
)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("gallery") / "archive"
    asyncio.run(illustrated_archive(directory, 400, illustrated=80))
    with browse(str(directory)) as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    assert CHROMIUM, "CI is set, but Chromium is not installed (.ci/run installs it)"
    assert DRIVER, "CI is set, but chromedriver is not installed (.ci/run installs it)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1400,1000"):
        options.add_argument(argument)
    # An explicit driver: selenium's manager never looks anything up on the network.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_images(browser: WebDriver, count: int) -> None:
    WebDriverWait(browser, 20).until(lambda b: b.execute_script(ALL_DECODED) >= count)


def test_the_first_page_shows_60_thumbnails_that_decode(browser: WebDriver, gallery: str) -> None:
    browser.get(gallery)
    cards = browser.find_elements(By.CSS_SELECTOR, "#grid .card")
    assert len(cards) == 60
    images = browser.find_elements(By.CSS_SELECTOR, "#grid img")
    assert len(images) == 60
    wait_for_images(browser, 60)
    widths = [browser.execute_script("return arguments[0].naturalWidth", i) for i in images]
    assert widths
    assert all(width > 0 for width in widths)
    assert "400" in browser.find_element(By.ID, "count").text
    target = os.environ.get("TENGRAI_GALLERY_SCREENSHOT")
    if target:
        browser.set_window_size(1400, 900)
        browser.save_screenshot(str(Path(target)))


def test_a_search_narrows_the_grid(browser: WebDriver, gallery: str) -> None:
    browser.get(gallery)
    before = int(browser.find_element(By.CSS_SELECTOR, "#count strong").text)
    box = browser.find_element(By.NAME, "q")
    box.send_keys("lanter")  # a prefix of "lantern"
    box.submit()
    WebDriverWait(browser, 20).until(expected_conditions.url_contains("q=lanter"))
    after = int(browser.find_element(By.CSS_SELECTOR, "#count strong").text)
    assert 0 < after < before
    cards = browser.find_elements(By.CSS_SELECTOR, "#grid .card")
    assert len(cards) == min(after, 60)


def test_a_click_opens_the_detail_page(browser: WebDriver, gallery: str) -> None:
    browser.get(gallery)
    first = browser.find_element(By.CSS_SELECTOR, "#grid .card a")
    href = first.get_attribute("href")
    assert href is not None
    first.click()
    WebDriverWait(browser, 20).until(expected_conditions.url_to_be(href))
    artwork_id = href.rsplit("/", 1)[1]
    assert browser.find_element(By.CSS_SELECTOR, ".id").text == artwork_id
    assert artwork_id in browser.find_element(By.ID, "json").text
