"""The website: a strict jupyter-book build, then every chapter page opened offline in headless Chromium.

The browser tests need Chromium and ChromeDriver (``bash tools/bootstrap.sh --browser`` installs Debian's
chromium and chromium-driver). Without them they are skipped, with the reason shown, on a developer's
machine, and they fail where the environment variable CI is set: CI must run them. The build runs once per
test session; later builds reuse jupyter-book's execution cache. One screenshot per chapter page is kept
under ``_build/screenshots/`` (not committed).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from conftest import ROOT

# one worker builds the site once and runs every test that reads it
pytestmark = pytest.mark.xdist_group("website")

HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
PAGE_BUDGET = 2 * 1024 * 1024  # bytes of HTML plus images per chapter page
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def repository():
    """``(owner/name, branch)`` of the book's repository, as _config.yml names it for the launch buttons."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return urlparse(config["url"]).path.strip("/").removesuffix(".git"), config.get(
        "branch", "main"
    )


@pytest.fixture(scope="session")
def built_site():
    jb = Path(sys.executable).with_name("jupyter-book")
    command = [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    result = subprocess.run(
        command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=3000
    )
    log = result.stdout + result.stderr
    (ROOT / "_build").mkdir(exist_ok=True)
    (ROOT / "_build" / "build.log").write_text(log)
    print(f"site built in {time.perf_counter() - start:.0f} s")
    return result.returncode, log


def test_strict_build_has_no_warnings(built_site):
    returncode, log = built_site
    warnings = [
        line
        for line in log.splitlines()
        if re.search(r"(^|: )(WARNING|ERROR|CRITICAL):", line)
    ]
    assert returncode == 0 and not warnings, "\n".join(warnings[:30]) or log[-3000:]
    assert (HTML / "index.html").exists()


def test_only_the_toc_is_built(built_site):
    assert (
        not list(HTML.rglob("lessons/*.html"))
        and not (HTML / "tests").exists()
        and not (HTML / "tools").exists()
    )
    assert (
        not (HTML / "README.html").exists()
        and not (HTML / "CONTRIBUTING.html").exists()
    )
    for path in SOLUTIONS:
        assert (HTML / "solutions" / f"{path.stem}.html").exists()


def test_math_is_served_locally(built_site):
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists()
    for page in [HTML / "book" / "notation.html"] + [
        HTML / "solutions" / f"{p.stem}.html" for p in SOLUTIONS
    ]:
        text = page.read_text()
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', text)
        remote = [s for s in scripts if re.match(r"(https?:)?//", s)]
        assert remote == [], f"{page.name} loads scripts from the network: {remote}"
        assert re.search(r'src="[./]*_static/mathjax/tex-chtml\.js', text), (
            f"{page.name} lacks the local MathJax"
        )


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_chapter_page_weight_and_reader_details(built_site, path):
    page = HTML / "solutions" / f"{path.stem}.html"
    text = page.read_text()
    images = [
        HTML / "solutions" / src
        for src in re.findall(r'<img[^>]+src="(\.\./_images/[^"]+)"', text)
    ]
    weight = page.stat().st_size + sum(p.stat().st_size for p in set(images))
    print(
        f"{page.name}: {weight / 1024:.0f} KiB (HTML with embedded slider frames, plus images)"
    )
    assert weight < PAGE_BUDGET
    assert "&lt;function" not in text and "VBox(" not in text, (
        "a stray repr under a widget"
    )
    assert "application/vnd.jupyter.widget-view+json" not in text
    # the launch menu offers Colab for the full chapter; the lesson badge is at the top
    repo, branch = repository()
    assert (
        f"colab.research.google.com/github/{repo}/blob/{branch}/solutions/{path.name}"
        in text
    )
    body = text[text.index('<article class="bd-article"') :]
    assert body.index(f"github/{repo}/blob/{branch}/lessons/{path.name}") < body.index(
        "<h2"
    ), "the lesson badge sits at the top"
    # answers, hidden tests and the generated helper cell are collapsed; nothing else is
    nb = json.loads(path.read_text())
    hidden = sum("hide-input" in c["metadata"].get("tags", []) for c in nb["cells"])
    assert len(re.findall(r'<details class="[^"]*hide above-input"', body)) == hidden
    written = sum(
        c["source"][0].startswith(":::{admonition} Answer")
        for c in nb["cells"]
        if c["cell_type"] == "markdown" and c["source"]
    )
    assert len(re.findall(r'class="dropdown admonition', body)) >= written
    # every figure says in words what it shows
    for tag in re.findall(r"<img[^>]*>", body):
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and alt.group(1).strip() and not alt.group(1).endswith(".png"), (
            f"figure without alt text: {tag[:120]}"
        )


@pytest.fixture(scope="session")
def browser(built_site):
    missing = [
        name
        for name, found in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER))
        if not found
    ]
    if missing:
        reason = (
            f"the browser test needs {' and '.join(missing)}, not found on PATH; "
            "`bash tools/bootstrap.sh --browser` installs them (Debian or Ubuntu)"
        )
        if IN_CI:
            pytest.fail(
                f"CI is set, so the browser test must run: {reason}", pytrace=False
            )
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        # offline: no host name resolves, so any request to the network fails
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait_for(driver, script, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    return driver.execute_script(script)


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_chapter_page_in_an_offline_browser(browser, path):
    browser.get((HTML / "solutions" / f"{path.stem}.html").as_uri())
    # math: MathJax typeset every formula, and no raw TeX delimiters are left in the text
    formulas = browser.execute_script(
        "return document.querySelectorAll('main .math').length"
    )
    assert formulas > 0
    typeset = wait_for(
        browser,
        f"return document.querySelectorAll('main .math mjx-container').length >= {formulas}",
    )
    assert typeset, "MathJax did not render every formula on the page"
    text = browser.execute_script("return document.querySelector('main').innerText")
    assert "$$" not in text and "\\frac" not in text
    # every slider figure is there, with its image loaded
    sliders = browser.find_elements("css selector", ".static-slider")
    assert len(sliders) >= 1
    for slider in sliders:
        image = slider.find_element("css selector", "img")
        assert browser.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", image
        )
        inputs = slider.find_elements("css selector", "input[type=range]")
        assert inputs
        for control in inputs:
            before = image.get_attribute("src")
            start = int(
                control.get_attribute("value")
            )  # stepped with the keyboard, as a reader can
            browser.execute_script(
                "arguments[0].scrollIntoView({block: 'center'})", control
            )
            control.send_keys(
                "\ue014" if start < int(control.get_attribute("max")) else "\ue012"
            )  # right / left
            assert int(control.get_attribute("value")) != start, (
                "the slider did not move"
            )
            assert image.get_attribute("src") != before, (
                "moving the slider did not change the figure"
            )
    # no broken image, except the Colab badge, which lives on the network
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => i.src).filter(s => !s.includes('colab-badge'))"
    )
    assert broken == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(SHOTS / f"{path.stem}.png"))


def test_prose_pages_render_math_in_an_offline_browser(browser):
    browser.get((HTML / "book" / "notation.html").as_uri())
    formulas = browser.execute_script(
        "return document.querySelectorAll('main .math').length"
    )
    assert formulas > 10
    assert wait_for(
        browser,
        f"return document.querySelectorAll('main .math mjx-container').length >= {formulas}",
    )
