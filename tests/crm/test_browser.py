"""The CRM in a real browser: the app served by `streamlit run` on loopback against the CRM tests'
database, headless Chromium (Debian's package, driven by Playwright) logs in, opens the hottest
account's Account 360 and moves a deal on the pipeline; the move is checked in
app.deal_stage_history. Screenshots of Home, Accounts, Account 360 and the pipeline are saved to
tests/artifacts/screenshots/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from apps.state import Actor, deals
from devsignal import db

from test_pages_b_setup import OWNER_LOGIN, pages_b_database, pages_b_session  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 60_000

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def crm_server(pages_b_session, tmp_path_factory):
    """`streamlit run` on a free loopback port, against the test database; its log on failure."""
    url, _ = pages_b_session
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "DEVSIGNAL_DATABASE_URL": url,
           # the OWNER the app's first run makes (it exists already in the test database: same values)
           "DEVSIGNAL_CRM_OWNER_EMAIL": OWNER_LOGIN[0], "DEVSIGNAL_CRM_OWNER_PASSWORD": OWNER_LOGIN[1]}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "apps/crm/streamlit_app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not come up on {base}:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _choose(page, label: str, option: str, within=None) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` (type to filter, then click it),
    looking only inside `within` when given (tabs keep their hidden widgets in the page)."""
    box = (within or page).locator('[data-testid="stSelectbox"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=re.compile(f"^{re.escape(label)}$")))
    box.locator("input").click()
    page.keyboard.type(option)  # the open list hides the rest of the page from role queries: type, don't re-find
    page.get_by_role("option").filter(has_text=option).first.click()


def _open(page, url_path: str, title: str) -> None:
    """Go to a page through the sidebar link (a reload would start a new, logged-out session)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]').click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=TIMEOUT_MS)


def _settled(page) -> None:
    """Wait until the script run is over (Streamlit shows its status widget while running) and the
    data grids (canvas) have painted."""
    page.wait_for_timeout(500)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=TIMEOUT_MS)
    grids = page.locator('[data-testid="stDataFrame"]')
    if grids.count():  # the grid component loads lazily: wait for its canvas, not its placeholder
        grids.first.locator("canvas").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)


def test_login_account_360_and_move_a_deal(crm_server, pages_b_database):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: apt-get install -y chromium (make test does it)"
    with db.engine().connect() as connection:
        hottest = connection.execute(text("""select s.account_id, a.name, a.domain
                                             from marts.account_scores_current s join marts.dim_accounts a using (account_id)
                                             order by s.score desc, a.domain limit 1""")).one()
    deal = deals.create_deal(Actor(OWNER_LOGIN[0], "OWNER"), title="Browser test deal", account_id=hottest.account_id,
                             stage="IDENTIFIED", amount=5000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(crm_server)
            page.get_by_role("textbox", name="Email").fill(OWNER_LOGIN[0])
            page.get_by_role("textbox", name="Password").fill(OWNER_LOGIN[1])
            page.get_by_role("button", name="Log in").click()
            page.get_by_role("heading", name="Home").first.wait_for()
            _settled(page)
            page.screenshot(path=SCREENSHOTS / "home.png", full_page=True)

            _open(page, "accounts", "Accounts")
            _settled(page)
            page.screenshot(path=SCREENSHOTS / "accounts.png", full_page=True)

            _open(page, "account_360", "Account 360")
            _choose(page, "Account", f"{hottest.name} ({hottest.domain})")
            _settled(page)
            page.get_by_text(hottest.name).first.wait_for()
            page.screenshot(path=SCREENSHOTS / "account_360.png", full_page=True)

            _open(page, "deals", "Deals")
            _settled(page)
            move_form = page.locator('[data-testid="stForm"]').filter(has=page.locator("button", has_text="Move deal"))
            _choose(page, "Deal", f"#{deal['deal_id']} Browser test deal", within=move_form)
            _choose(page, "Move to", "Sales Qualified", within=move_form)
            page.get_by_role("button", name="Move deal").click()
            page.get_by_text(f"Deal #{deal['deal_id']} moved to Sales Qualified").wait_for()
            _settled(page)
            page.screenshot(path=SCREENSHOTS / "pipeline.png", full_page=True)
        finally:
            browser.close()

    with db.engine().connect() as connection:
        moves = connection.execute(text("""select from_stage, to_stage, changed_by, via from app.deal_stage_history
                                           where deal_id = :id order by change_id"""), {"id": deal["deal_id"]}).all()
    assert [tuple(m) for m in moves] == [(None, "IDENTIFIED", OWNER_LOGIN[0], "app"),
                                         ("IDENTIFIED", "SALES_QUALIFIED", OWNER_LOGIN[0], "app")]
    for name in ("home", "accounts", "account_360", "pipeline"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
