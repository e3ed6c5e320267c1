"""System tests: both SPs as real processes in network namespaces, driven through
tools/sp-pair (see docs/HARNESS.md).

Run:  /usr/bin/python3 -m pytest -q tests/system          (as root)
Binaries come from $DUALSP_BUILD_DIR (default <repo>/build): sp/spd and webserver/spweb.
The pair's state (configs, logs, power.log) lives in $DUALSP_PAIR_STATE, default
/run/dualsp-pair-systest, and is kept after the test for post-mortems.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
SP_PAIR = TOOLS / "sp-pair"
PROBE = TOOLS / "probe"
HOLDER_WATCH = TOOLS / "holder-watch"
PYTHON = "/usr/bin/python3"
BUILD = Path(os.environ.get("DUALSP_BUILD_DIR") or REPO / "build")
SPD = BUILD / "sp" / "spd"
SPWEB = BUILD / "webserver" / "spweb"
STATE = Path(os.environ.get("DUALSP_PAIR_STATE") or "/run/dualsp-pair-systest")
FLOATING = "198.18.0.10"
MGMT = {"A": "198.18.0.11", "B": "198.18.0.12"}
NS = {"A": "dualsp-spa", "B": "dualsp-spb", "cli": "dualsp-cli"}

sys.path.insert(0, str(TOOLS))
sys.dont_write_bytecode = True

from sp_pair import auth as pair_auth  # noqa: E402
from sp_pair import redfish as _redfish  # noqa: E402
from sp_pair.redfish import http_request  # noqa: E402  (one HTTP helper for every test)


def use_credentials(cred):
    """Every client of the tests authenticates with cred ("user:password", None: none):
    http_request and redfish.* in this process, and every subprocess started from now on
    (probe, holder-watch, the client namespace's scripts) through $DUALSP_AUTH."""
    if cred:
        os.environ["DUALSP_AUTH"] = cred
    else:
        os.environ.pop("DUALSP_AUTH", None)


def auth_header_line():
    """The Authorization header line (with its CRLF) for raw-socket requests, or ""."""
    h = _redfish.auth_headers()
    return "".join("%s: %s\r\n" % kv for kv in h.items())


def other(sp):
    return "B" if sp == "A" else "A"


def event_log(host=FLOATING, sp="A", timeout=2.0):
    """The whole array event log as SP `sp` serves it on `host`, oldest first, page by page."""
    entries = "/redfish/v1/Managers/SP%s/LogServices/Events/Entries" % sp
    out, skip = [], 0
    for _ in range(100):
        r = http_request(host, "%s?$top=1000&$skip=%d" % (entries, skip), timeout=timeout)
        assert r["status"] == 200, r
        members = r["json"]["Members"]
        out += members
        skip += len(members)
        if not members or skip >= r["json"]["Members@odata.count"]:
            return out
    raise AssertionError("event log paging did not end")


def wait_for(pred, timeout, interval=0.02, what="condition"):
    """Polls pred() until it returns a truthy value (returned) or the deadline passes
    (AssertionError with the last value; `what` may be a callable, evaluated then)."""
    end = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / max(interval, 0.001)) + 2):
        last = pred()
        if last:
            return last
        if time.monotonic() > end:
            break
        time.sleep(interval)
    if callable(what):
        what = what()
    raise AssertionError("timed out after %.1f s waiting for %s (last: %r)" % (timeout, what, last))


def tail_text(path, n=40):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 32768))
            lines = f.read().decode("utf-8", "replace").splitlines()[-n:]
        return "\n".join(lines)
    except OSError:
        return "(no %s)" % path


def logs_tail(state=STATE, n=40):
    parts = []
    for sp in ("a", "b"):
        for name in ("log/spd.log", "log/spweb.log", "console.log"):
            p = state / ("sp" + sp) / name
            parts.append("----- SP-%s %s (last %d lines)\n%s" % (sp.upper(), name, n, tail_text(p, n)))
    parts.append("----- power.log\n%s" % tail_text(state / "power.log", n))
    return "\n".join(parts)


class Background:
    """A harness tool running in the background, writing JSON lines to a file; stopped via a
    stop file (then SIGTERM, then SIGKILL, by pid)."""

    def __init__(self, name, cmd, state):
        self.name = name
        self.out_path = state / ("%s.%d.jsonl" % (name, os.getpid()))
        self.stop_file = state / ("%s.%d.stop" % (name, os.getpid()))
        for p in (self.out_path, self.stop_file):
            if p.exists():
                p.unlink()
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(cmd + ["--stop-file", str(self.stop_file)], stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.rc = None

    def records(self):
        out = []
        try:
            with open(self.out_path) as f:
                for line in f:
                    if line.endswith("\n"):
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            out.append({"unparsed": line})
        except OSError:
            pass
        return out

    def stop(self, timeout=5):
        if self.rc is not None:
            return self.rc
        self.stop_file.touch()
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.rc = self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.rc = self.proc.wait(2)
        self.out.close()
        return self.rc


class Pair:
    """tools/sp-pair, driven from a test."""

    def __init__(self, state=STATE):
        self.state = state
        self.background = []
        self.up_done = None

    @property
    def env(self):
        """The environment of the harness's subprocesses: os.environ now (with DUALSP_AUTH
        once the pair is up) and the build."""
        return dict(os.environ, DUALSP_BUILD_DIR=str(BUILD), PYTHONDONTWRITEBYTECODE="1")

    def run(self, *args, timeout=30, check=True):
        cmd = [PYTHON, str(SP_PAIR), "--state", str(self.state)] + [str(a) for a in args]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout, env=self.env)
        if check and p.returncode != 0:
            raise AssertionError("sp-pair %s: exit %d\nstdout:\n%s\nstderr:\n%s" % (
                " ".join(map(str, args)), p.returncode, p.stdout, p.stderr))
        return p

    def up(self, *extra):
        use_credentials(None)
        self.run("up", *extra, timeout=60)
        self.up_done = time.monotonic()
        self.refresh_credentials()

    def first_login(self, timeout=20):
        """After `up --no-wait`: the first password change (sp-pair first-login), then every
        client uses the new credentials."""
        self.run("first-login", "--timeout", timeout, timeout=timeout + 30)
        return self.refresh_credentials()

    def refresh_credentials(self):
        """$DUALSP_AUTH from <state>/credentials (none when the pair has no administrator)."""
        cred = pair_auth.read_credentials(str(self.state))
        use_credentials(cred)
        return cred

    def credentials(self):
        """("user", "password") of the pair's administrator."""
        cred = pair_auth.read_credentials(str(self.state))
        assert cred, "no credentials in %s" % self.state
        return tuple(cred.split(":", 1))

    def down(self):
        for b in self.background:
            b.stop()
        self.run("down", timeout=60, check=False)
        use_credentials(None)

    def status(self):
        return json.loads(self.run("status").stdout)

    def roles(self):
        """{A: role, B: role} straight from each SP's own Manager resource (None = no
        answer within 0.3 s); both asked at once, so a poll costs one round trip."""
        from sp_pair import redfish
        out = {}

        def ask(sp):
            doc = redfish.manager(MGMT[sp], 80, sp, timeout=0.3)
            out[sp] = redfish.role_of(doc)[0]
        threads = [threading.Thread(target=ask, args=(sp,)) for sp in ("A", "B")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(2)
        return {sp: out.get(sp) for sp in ("A", "B")}

    def active(self):
        """The one active SP, or None when not exactly one SP says active."""
        r = self.roles()
        act = [sp for sp in ("A", "B") if r[sp] == "active"]
        return act[0] if len(act) == 1 else None

    def wait_active(self, sp=None, timeout=5):
        if sp is None:
            return wait_for(self.active, timeout, 0.05, "exactly one active SP")
        wait_for(lambda: self.roles()[sp] == "active", timeout, 0.02, "SP-%s active" % sp)
        return sp

    def wait_role(self, sp, role, timeout=10):
        return wait_for(lambda: self.roles()[sp] == role, timeout, 0.05,
                        "SP-%s role %s" % (sp, role))

    def kill(self, sp):
        """Power loss; returns the monotonic time at which the power-off began."""
        p = self.run("kill", sp, "--json")
        return json.loads(p.stdout)["t"]

    def start(self, sp):
        self.run("start", sp)

    def hang(self, sp):
        self.run("hang", sp)

    def cut(self, sp, path):
        self.run("cut", sp, "--path", path)

    def heal(self):
        self.run("heal")

    def log_path(self, sp, name="spd.log"):
        return self.state / ("sp" + sp.lower()) / "log" / name

    def log_text(self, sp, name="spd.log"):
        try:
            return self.log_path(sp, name).read_text(errors="replace")
        except OSError:
            return ""

    def power_log(self):
        try:
            return (self.state / "power.log").read_text(errors="replace")
        except OSError:
            return ""

    def grep(self, pattern, sps=("A", "B")):
        rx = re.compile(pattern, re.I)
        return [(sp, l) for sp in sps for l in self.log_text(sp).splitlines() if rx.search(l)]

    def client_get(self, path="/redfish/v1", host=FLOATING, timeout=1.0):
        """One GET from the client namespace (dualsp-cli): the probe record, with "body"."""
        cmd = ["ip", "netns", "exec", NS["cli"], PYTHON, str(PROBE), "--url",
               "http://%s%s" % (host, path), "--count", "1", "--timeout", str(timeout),
               "--duration", "5", "--body"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=15,
                           env=self.env)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        assert lines, "probe printed nothing: %s" % p.stderr
        return json.loads(lines[-1])

    # --- hardware faults (tools/sp-pair fault/clear, docs/HARNESS.md) ---
    def fault(self, sp, name):
        """Injects a hardware fault; returns the monotonic time just before the edit."""
        t = time.monotonic()
        self.run("fault", sp, name)
        return t

    def clear(self, sp, name=None):
        """Clears one fault, or every fault of the SP (name None); returns the time before."""
        t = time.monotonic()
        self.run("clear", sp, *([name] if name else []))
        return t

    # --- HTTP ---
    def http(self, path, host=FLOATING, method="GET", body=None, timeout=0.5):
        """One request from the root namespace (through dualsp-host, so it costs no fork: for
        polls). {"status", "headers" (lower-case names), "text", "json", "err"}; status None
        and err set when there was no answer."""
        return http_request(host, path, method, body, timeout)

    def client_http(self, path, host=FLOATING, method="GET", body=None, timeout=2.0):
        """One request from the client namespace (dualsp-cli), as http() returns it."""
        script = ("import json, sys\n" + _redfish.source() +
                  "\nprint(json.dumps(http_request(*json.loads(sys.stdin.read()))))\n")
        cmd = ["ip", "netns", "exec", NS["cli"], PYTHON, "-c", script]
        p = subprocess.run(cmd, input=json.dumps([host, path, method, body, timeout]),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout + 10, env=dict(self.env, PYTHONPATH=""))
        assert p.returncode == 0 and p.stdout.strip(), "%s %s failed: %s" % (method, path, p.stderr)
        return json.loads(p.stdout.strip().splitlines()[-1])

    def manager(self, sp, host=FLOATING, timeout=0.5):
        """GET /redfish/v1/Managers/SP<sp> through `host`: the resource, or None."""
        r = self.http("/redfish/v1/Managers/SP" + sp, host, timeout=timeout)
        return r["json"] if r["status"] == 200 and isinstance(r["json"], dict) else None

    # --- processes and addresses of one SP ---
    def processes(self, sp):
        """{pid: (ppid, argv)} of every process in the SP's namespace (ip netns pids)."""
        from sp_pair import procs
        out = {}
        for pid in procs.pids_in_netns(NS[sp]):
            ppid = procs.parent_of(pid)
            argv = [a.decode(errors="replace") for a in procs.cmdline(pid) if a]
            if ppid is not None and argv:
                out[pid] = (ppid, argv)
        return out

    def spd_pid(self, sp):
        ps = self.processes(sp)
        pids = [p for p, (_, argv) in ps.items() if os.path.basename(argv[0]) == "spd"]
        return pids[0] if len(pids) == 1 else None

    def spweb(self, sp):
        """(pid, mode) of the spweb that the SP's spd runs (its child), or (None, None)."""
        ps = self.processes(sp)
        spd = [p for p, (_, argv) in ps.items() if os.path.basename(argv[0]) == "spd"]
        for pid, (ppid, argv) in ps.items():
            if ppid in spd and os.path.basename(argv[0]) == "spweb":
                mode = argv[argv.index("--mode") + 1] if "--mode" in argv[:-1] else None
                return pid, mode
        return None, None

    def holders(self):
        """The SPs whose namespace has the floating address on an UP interface."""
        from sp_pair import netns
        return [sp for sp in ("A", "B") if netns.holds(NS[sp], FLOATING)]

    def client_post(self, path, body, host=FLOATING, timeout=3.0):
        """One POST of a JSON body from the client namespace: {"status", "body", "headers"}."""
        script = (
            "import base64, http.client, json, os, sys\n"
            "c = http.client.HTTPConnection(sys.argv[1], 80, timeout=float(sys.argv[3]))\n"
            "h = {'Content-Type': 'application/json'}\n"
            "if os.environ.get('DUALSP_AUTH'):\n"
            "    h['Authorization'] = 'Basic ' + base64.b64encode("
            "os.environ['DUALSP_AUTH'].encode()).decode()\n"
            "c.request('POST', sys.argv[2], body=sys.stdin.read(), headers=h)\n"
            "r = c.getresponse()\n"
            "print(json.dumps({'status': r.status, 'body': r.read().decode('utf-8', 'replace'),"
            " 'headers': dict(r.getheaders())}))\n")
        cmd = ["ip", "netns", "exec", NS["cli"], PYTHON, "-c", script, host, path, str(timeout)]
        p = subprocess.run(cmd, input=json.dumps(body), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout + 10, env=self.env)
        assert p.returncode == 0 and p.stdout.strip(), "POST %s failed: %s" % (path, p.stderr)
        return json.loads(p.stdout.strip().splitlines()[-1])

    def probe(self, duration=60, interval=0.01, timeout=0.05, url="http://%s/redfish/v1" % FLOATING):
        cmd = ["ip", "netns", "exec", NS["cli"], PYTHON, str(PROBE), "--url", url,
               "--interval", str(interval), "--timeout", str(timeout), "--duration", str(duration)]
        b = Background("probe", cmd, self.state)
        self.background.append(b)
        return b

    def holder_watch(self, duration=120):
        cmd = [PYTHON, str(HOLDER_WATCH), "--floating", FLOATING, "--duration", str(duration)]
        b = Background("holder-watch", cmd, self.state)
        self.background.append(b)
        # wait for its first readings, so it covers the whole test
        wait_for(lambda: any("holds" in r for r in b.records()) or b.proc.poll() is not None,
                 5, 0.02, "holder-watch running")
        assert b.proc.poll() is None, "holder-watch exited: %s" % b.records()
        return b

    def mac(self, sp):
        p = subprocess.run(["ip", "-n", NS[sp], "-j", "link", "show", "dev", "mgmt0"],
                           stdout=subprocess.PIPE, text=True, timeout=5)
        return json.loads(p.stdout)[0]["address"]

    def client_neigh(self, addr=FLOATING):
        p = subprocess.run(["ip", "-n", NS["cli"], "-j", "neigh", "show", addr],
                           stdout=subprocess.PIPE, text=True, timeout=5)
        try:
            entries = json.loads(p.stdout or "[]")
        except ValueError:
            return None
        return entries[0] if entries else None


def require_root():
    if os.geteuid() != 0:
        pytest.skip("system tests need root (network namespaces)")


def require_binaries():
    for b in (SPD, SPWEB):
        if not os.access(b, os.X_OK):
            pytest.fail("missing %s (build it: cmake --build %s, or set DUALSP_BUILD_DIR)" % (b, BUILD))


@pytest.fixture
def pair():
    """A fresh pair: `sp-pair up` (netns), `sp-pair down` afterwards whatever happens."""
    with pair_up() as p:
        yield p


@contextlib.contextmanager
def pair_up():
    """A fresh pair for a fixture of any scope; `sp-pair down` afterwards whatever happens."""
    require_root()
    require_binaries()
    p = Pair()
    try:
        p.up()
        yield p
    finally:
        p.down()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call") and "pair" in item.fixturenames:
        rep.sections.append(("SP logs (%s)" % STATE, logs_tail()))
