"""The web console in a browser (docs/WEB.md "Console", issue 15): Debian's chromium, headless,
driven by playwright-core (tests/browser/console_test.mjs) on the LAN client dualsp-cli against
the floating address. Logged in, it shows both SPs; a ForceFailover confirmed on the page and
then a power loss of the new active SP are followed live, without a reload. Screenshots of
each state go to $DUALSP_BUILD_DIR/browser-screenshots/.

Needs chromium, node and tests/browser/node_modules (tools/install-deps installs all three).
Bounded: the browser script gets 110 s (its waits add up to 90 s), each wait has its own deadline;
the file runs under CTest's 180 s.
"""

import json
import os
import queue
import shutil
import subprocess
import threading
import time

import pytest

from conftest import BUILD, FLOATING, MGMT, NS, REPO, http_request, other, wait_for

BROWSER_DIR = REPO / "tests" / "browser"
SCRIPT = BROWSER_DIR / "console_test.mjs"
SCREENSHOTS = BUILD / "browser-screenshots"
DEADLINE_S = 110


def require_browser():
    missing = [what for what, ok in (
        ("/usr/bin/chromium", os.access("/usr/bin/chromium", os.X_OK)),
        ("node", shutil.which("node") is not None),
        ("tests/browser/node_modules/playwright-core",
         (BROWSER_DIR / "node_modules" / "playwright-core").is_dir())) if not ok]
    if missing:
        pytest.fail("missing %s: run tools/install-deps (chromium, nodejs, npm ci in tests/browser)"
                    % ", ".join(missing))


def steady(pair):
    """(active, passive) once both serve in full mode: ForceFailover needs a healthy peer."""
    act = pair.wait_active(timeout=10)
    pair.wait_role(other(act), "passive", 10)
    for sp in ("A", "B"):
        wait_for(lambda: pair.spweb(sp)[1] == "full", 10, 0.05, "SP-%s serving in full mode" % sp)
    return act, other(act)


def test_console_follows_a_failover_and_a_power_loss(pair):
    require_browser()
    steady(pair)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    env = dict(pair.env, DUALSP_CONSOLE_URL="http://%s/" % FLOATING,
               DUALSP_SCREENSHOTS=str(SCREENSHOTS), HOME=os.environ.get("HOME", "/root"))
    stderr = open(SCREENSHOTS / "browser.log", "w")
    proc = subprocess.Popen(["ip", "netns", "exec", NS["cli"], "node", str(SCRIPT)],
                            cwd=BROWSER_DIR, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1)
    lines = queue.Queue()

    def read():
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()

    records, end = [], time.monotonic() + DEADLINE_S
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.1, end - time.monotonic()))
            except queue.Empty:
                raise AssertionError("the browser script did not finish within %d s" % DEADLINE_S)
            if line is None:
                break
            print(line.rstrip())
            try:
                record = json.loads(line)
            except ValueError:
                continue
            records.append(record)
            if record.get("need") == "kill":
                pair.kill(record["sp"])
                proc.stdin.write(json.dumps({"done": "kill"}) + "\n")
                proc.stdin.flush()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        stderr.close()
    final = records[-1] if records else {}
    assert final.get("ok") is True, "the browser test failed: %s\n(browser log: %s)" % (
        final.get("error", "no result"), SCREENSHOTS / "browser.log")
    names = sorted(p.name for p in SCREENSHOTS.glob("*.png"))
    assert names == ["1-before.png", "2-failover-confirm.png", "3-failover-during.png",
                     "4-failover-after.png", "5-kill-during.png", "6-kill-after.png"], names


def test_an_unhealthy_sp_serves_the_rescue_page(pair):
    """A Critical SP's degraded server answers `/` with the rescue page, the healthy one's
    full server with the console; both with the CSP, neither asking for credentials."""
    act, pas = steady(pair)
    pair.fault(pas, "temperature-critical")
    wait_for(lambda: pair.spweb(pas)[1] == "degraded", 10, 0.05, "SP-%s serving degraded" % pas)

    def page(host):
        r = http_request(host, "/", timeout=2.0, auth=False)
        return r if r["status"] == 200 else None
    rescue = wait_for(lambda: (lambda r: r if r and "rescue mode" in r["text"] else None)(
        page(MGMT[pas])), 10, 0.1, "the rescue page on SP-%s" % pas)
    console = page(FLOATING)
    for r in (rescue, console):
        assert r["headers"]["content-type"] == "text/html; charset=utf-8"
        assert "default-src 'self'" in r["headers"]["content-security-policy"]
    assert console["headers"]["x-dualsp-sp"] == act
    assert "/console/console.js" in console["text"] and "rescue" not in console["text"]
    assert "/console/rescue.js" in rescue["text"]
    assert http_request(MGMT[pas], "/console/console.js", auth=False)["status"] == 404
