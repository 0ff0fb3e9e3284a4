"""A learner's session in a real headless Chromium (Debian chromium + chromium-driver, driven by selenium).

The browser opens the claim page served by ``twofold serve``, types a
three-line derivation, submits it, reads each line's mark from the page and
saves a screenshot (into ``$TWOFOLD_SCREENSHOTS`` when set, e.g. docs/img).
Skipped when Chromium or its driver is missing, unless ``TWOFOLD_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving import running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)

if not (CHROMIUM and DRIVER) and os.environ.get("TWOFOLD_REQUIRE_BROWSER") != "1":
    pytest.skip("chromium and chromium-driver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CLAIM = "taylor.even_positive"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must not try to download a driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1200,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver: webdriver.Chrome, tmp_path: Path, name: str) -> Path:
    target = Path(os.environ.get("TWOFOLD_SCREENSHOTS", tmp_path))
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 10_000
    return path


def _results(driver: webdriver.Chrome, count: int) -> list:
    wait = WebDriverWait(driver, 60)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results tr.result")) == count)
    return driver.find_elements(By.CSS_SELECTOR, "#results tr.result")


def test_a_three_line_derivation_gets_its_marks(server: str, browser: webdriver.Chrome, tmp_path: Path) -> None:
    browser.get(f"{server}/claim/{CLAIM}")
    WebDriverWait(browser, 30).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".statement .katex")))
    box = browser.find_element(By.ID, "steps")
    box.send_keys("x^2 = 4\nx = 2\nf_4(x) = f_3(x) + \\frac{x^4}{12}")
    browser.find_element(By.ID, "check").click()
    rows = _results(browser, 3)
    marks = [row.find_element(By.CLASS_NAME, "mark").text for row in rows]
    verdicts = [row.get_attribute("data-verdict") for row in rows]
    assert verdicts == ["invalid", "invalid", "invalid"]
    assert marks == ["✗", "⇐✗", "✗"]
    assert rows[1].get_attribute("data-relation") == "implied_by"
    assert "counterexample: x = -2" in rows[1].text
    browser.find_element(By.ID, "hint").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#hints li .katex"))
    _screenshot(browser, tmp_path, "serve-invalid.png")


def test_a_right_derivation_is_marked_step_by_step(server: str, browser: webdriver.Chrome, tmp_path: Path) -> None:
    browser.get(f"{server}/claim/taylor.critical_value")
    box = browser.find_element(By.ID, "steps")
    box.send_keys("f_4(x) = f_3(x) + x^4/24\n= 1 + x + \\frac{x^2}{2} + \\frac{x^3}{6} + \\frac{x^4}{24}\nf_4'(x) = f_3(x)")
    browser.find_element(By.ID, "check").click()
    rows = _results(browser, 3)
    assert [row.get_attribute("data-verdict") for row in rows] == ["valid", "valid", "valid"]
    assert [row.find_element(By.CLASS_NAME, "mark").text for row in rows][:2] == ["✓", "⇔"]
    _screenshot(browser, tmp_path, "serve-valid.png")


def test_learner_markup_is_shown_never_run(server: str, browser: webdriver.Chrome) -> None:
    browser.get(f"{server}/claim/{CLAIM}")
    browser.find_element(By.ID, "steps").send_keys("<img src=x onerror=\"window.pwned=1\"><script>window.pwned=1</script>")
    browser.find_element(By.ID, "check").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "status").text not in ("", "checking…"))
    assert browser.execute_script("return window.pwned === undefined")
    assert not browser.find_elements(By.CSS_SELECTOR, "#results img, #status img")
