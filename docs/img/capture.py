"""Take docs/img/console.png and docs/img/wallboard.png from a run of ./scripts/run.

    .venv/bin/python docs/img/capture.py

Starts the README's run command on a fresh VAR_DIR and a free port, signs in as alice
(console) and supervisor (wallboard) in Debian's Chromium, waits until a call is on
alice's console and the wallboard has counted calls, saves both pages, then stops the
run with SIGINT as Ctrl-C would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, ViewportSize, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PASSWORD = "demo-pass-2026"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sign_in(page: Page, base: str, username: str, path: str) -> None:
    page.goto(f"{base}{path}")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.locator("body")).to_have_attribute("data-connection", "online")


def main() -> int:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as var:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
        env.update(PORT=str(port), VAR_DIR=var, DEMO_LOAD_RATE="0.06")
        log = Path(var) / "run.log"
        with log.open("wb") as out:
            run = subprocess.Popen(
                ["./scripts/run"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            deadline = time.monotonic() + 300
            while "contact center live on" not in log.read_text():
                if run.poll() is not None or time.monotonic() > deadline:
                    print(log.read_text(), file=sys.stderr)
                    return 1
                time.sleep(0.5)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                viewport: ViewportSize = {"width": 1400, "height": 900}
                console = browser.new_context(viewport=viewport).new_page()
                board = browser.new_context(viewport=viewport).new_page()
                console.set_default_timeout(180_000)
                board.set_default_timeout(180_000)
                _sign_in(console, base, "alice", "/console/")
                _sign_in(board, base, "supervisor", "/wallboard/")
                # A few minutes' worth of figures on the wallboard (the numbers it shows,
                # from /api/v1/wallboard/: evaluate awaits the fetch, wait_for_function
                # would take its promise as true at once).
                deadline = time.monotonic() + 240
                offered = (
                    "async () => (await (await fetch('/api/v1/wallboard/')).json()).totals.offered"
                )
                while board.evaluate(offered) < 8 and time.monotonic() < deadline:
                    time.sleep(2)
                # Then a call on alice's console whose caller is a known contact with an
                # open case: the pop is what the console is for. Else a known contact,
                # else any call.
                live = '.call-card[data-live="true"]'
                for has, wait in (("pop-case", 240_000), ("pop-contact", 60_000)):
                    found = console.locator(live, has=console.get_by_test_id(has))
                    try:
                        found.first.wait_for(timeout=wait)
                        break
                    except PlaywrightTimeout:
                        continue
                else:
                    expect(console.get_by_test_id("call-card").first).to_be_visible()
                console.screenshot(path=str(OUT / "console.png"))
                board.screenshot(path=str(OUT / "wallboard.png"))
                browser.close()
        finally:
            os.killpg(run.pid, signal.SIGINT)
            run.wait(timeout=60)
    print(f"wrote {OUT / 'console.png'} and {OUT / 'wallboard.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
