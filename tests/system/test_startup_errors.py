"""spd start-up: a bad configuration is refused with a message naming the key; a peer that
never answers is fenced before this SP becomes active. spd runs directly here, on loopback
addresses of its own (127.0.0.3x, ports 1808x), with a stand-in power controller."""

import copy
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import zlib

import pytest

from conftest import SPD, SPWEB, require_binaries, tail_text, wait_for
from sp_pair import auth, redfish

ADDR_A, ADDR_B, FLOAT = "127.0.0.31", "127.0.0.32", "127.0.0.30"
LINK_A, LINK_B = "127.0.1.31", "127.0.1.32"
WEB_PORT = 18081


# The directory whose initial-password / credentials role() uses (sp_pair/auth.py files):
# the test's tmp_path, set by base_config.
ACCOUNT = {"dir": None}
HASHES_PASSWORDS = {}


def base_config(tmp_path, power_sock=None):
    state = tmp_path / "state"
    (state / "log").mkdir(parents=True, exist_ok=True)
    # the default peer_link.key_file: spd runs no election without a valid pair key
    key = state / "pair.key"
    if not key.exists():
        key.write_text(os.urandom(32).hex() + "\n")
        key.chmod(0o600)
    # the first administrator (the default accounts.initial_password_file), so that role()
    # can log in; its password in tmp_path/initial-password until role() changes it
    ACCOUNT["dir"] = str(tmp_path)
    if "spd" not in HASHES_PASSWORDS:
        HASHES_PASSWORDS["spd"] = auth.spd_hashes_passwords(str(SPD))
    if HASHES_PASSWORDS["spd"] and not (state / "initial-admin").exists():
        digest = auth.new_initial(str(tmp_path), str(SPD))
        auth.write_secret(str(state / "initial-admin"), digest + "\n")
    return {
        "sp": "A",
        # 1-24 characters of a-z, 0-9 and '-'; one segment per test
        "array_id": "st-%d-%06x" % (os.getpid() % 100000, zlib.crc32(str(tmp_path).encode()) & 0xffffff),
        "state_dir": str(state),
        "log_level": "info",
        "platform": {"backend": "sim", "power_controller": str(power_sock or tmp_path / "power.sock"),
                     "fence_gpio": ""},
        "management": {"interface": "", "address": ADDR_A},
        "peer": {"management_address": ADDR_B, "link_address": LINK_B},
        "peer_link": {"interface": "", "address": LINK_A},
        "floating": {"mode": "loopback", "address": FLOAT, "prefix_length": 24, "interface": "",
                     "port": WEB_PORT, "garp_count": 5, "garp_interval_ms": 20},
        "heartbeat": {"port": 17400, "realtime_priority": 0},
        # Plain HTTP only: these tests read the role over HTTP (TLS: test_tls.py).
        "web": {"spweb": str(SPWEB), "listen": ADDR_A, "port": WEB_PORT, "https_port": 0},
    }


def shm_files(cfg):
    """What spd leaves in /dev/shm for this array (midplane, status board)."""
    prefix = "dualsp-%s-" % cfg["array_id"]
    try:
        return ["/dev/shm/" + n for n in os.listdir("/dev/shm") if n.startswith(prefix)]
    except OSError:
        return []


def remove_shm(cfg):
    for path in shm_files(cfg):
        try:
            os.unlink(path)
        except OSError:
            pass


def run_spd_expect_exit(tmp_path, cfg, timeout=5.0):
    """Runs spd with cfg; it must exit by itself. Returns (rc, combined output)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg, indent=2))
    p = subprocess.Popen([str(SPD), "--settings", str(path)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate(timeout=5)
        pytest.fail("spd still running %.0f s after start with a bad config; output:\n%s" % (
            timeout, out.decode(errors="replace")))
    finally:
        remove_shm(cfg)
    return p.returncode, out.decode(errors="replace")


def names_key(text, key):
    """The key appears as a word of its own (not inside spd, SP-A, sp-pair, ...)."""
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(key), text) is not None


@pytest.fixture(autouse=True)
def _binaries():
    require_binaries()


@pytest.mark.parametrize("case,mutate,key", [
    ("wrong type", lambda c: c["heartbeat"].__setitem__("port", "7400"), "port"),
    ("wrong type, nested", lambda c: c["heartbeat"].__setitem__("peer", {"enabled": "yes"}), "enabled"),
    ("unknown key", lambda c: c.__setitem__("bogus_key", 1), "bogus_key"),
    ("unknown nested key", lambda c: c["floating"].__setitem__("adress", "127.0.0.30"), "adress"),
    ("missing sp", lambda c: c.pop("sp"), "sp"),
    ("bad sp value", lambda c: c.__setitem__("sp", "C"), "sp"),
])
def test_bad_config_is_refused_naming_the_key(tmp_path, case, mutate, key):
    cfg = base_config(tmp_path)
    mutate(cfg)
    rc, out = run_spd_expect_exit(tmp_path, cfg)
    print("%s -> exit %s: %s" % (case, rc, out.strip()[-400:]))
    assert rc != 0, "spd accepted a config with %s" % case
    assert names_key(out, key), "the message does not name %r:\n%s" % (key, out)


def test_config_not_json(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"sp": "A", // a comment\n}')
    # --config: the former name of --settings, still accepted (docs/SETTINGS.md).
    p = subprocess.run([str(SPD), "--config", str(path)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=5)
    assert p.returncode != 0
    assert str(path) in p.stdout.decode(errors="replace") or "json" in p.stdout.decode().lower()


def test_missing_state_directory(tmp_path):
    cfg = base_config(tmp_path)
    missing = str(tmp_path / "no-such-dir")
    cfg["state_dir"] = missing
    rc, out = run_spd_expect_exit(tmp_path, cfg)
    print("missing state_dir -> exit %s: %s" % (rc, out.strip()[-400:]))
    assert rc != 0
    assert names_key(out, "state_dir") or missing in out, out


@pytest.mark.parametrize("case,content", [
    ("missing", None),
    ("empty", ""),
    ("31 bytes", "ab" * 31),
    ("not hex", "zz" * 32),
])
def test_no_election_without_a_valid_pair_key(tmp_path, case, content):
    """Without a good pair key spd used to carry on with unsigned heartbeats: anyone on either
    network could speak for the peer. It must refuse to start, naming the setting (and never
    printing the key)."""
    cfg = base_config(tmp_path)
    key = tmp_path / "state" / "pair.key"
    if content is None:
        key.unlink()
    else:
        key.write_text(content + "\n")
    rc, out = run_spd_expect_exit(tmp_path, cfg)
    print("pair key %s -> exit %s: %s" % (case, rc, out.strip()[-400:]))
    assert rc != 0, "spd started with a %s pair key" % case
    assert "peer_link.key_file" in out, out
    assert not content or content not in out, "the key reached the error message"


@pytest.mark.parametrize("case", ["readable by others", "not a hash"])
def test_a_first_administrator_file_that_is_not_private_is_refused(tmp_path, case):
    """The first administrator's hash is a secret: a file others can read, or one that holds
    something else than a hash (a password in clear), stops spd, naming the setting."""
    cfg = base_config(tmp_path)
    initial = tmp_path / "state" / "initial-admin"
    if case == "not a hash":
        initial.write_text("a-password-in-clear\n")
    initial.chmod(0o644 if case == "readable by others" else 0o600)
    rc, out = run_spd_expect_exit(tmp_path, cfg)
    print("initial-admin %s -> exit %s: %s" % (case, rc, out.strip()[-400:]))
    assert rc == 2, out
    assert "accounts.initial_password_file" in out, out
    assert "a-password-in-clear" not in out


class FakePowerController:
    """Stands in for sp-pair's power controller: records each request line, answers `reply`
    to a power-off and `power` to a status request ("ok off", "ok running", "ok stopped")."""

    def __init__(self, path, reply="ok powered off B", power="ok off"):
        self.path = str(path)
        self.reply = reply
        self.power = power
        self.requests = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        end = time.monotonic() + 120
        while not self.stopping and time.monotonic() < end:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                line = conn.recv(256).decode(errors="replace").strip()
                self.requests.append((time.monotonic(), line))
                answer = self.power if line.startswith("status ") else self.reply
                conn.sendall((answer + "\n").encode())
            except OSError:
                pass
            conn.close()

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def start_spd(tmp_path, cfg):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg, indent=2))
    console = open(tmp_path / "console.log", "wb")
    return subprocess.Popen([str(SPD), "--settings", str(path)], stdout=console, stderr=console,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def stop_spd(p, cfg):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
            raise AssertionError("spd did not exit within 5 s of SIGTERM")
    try:
        os.killpg(p.pid, signal.SIGKILL)   # any spweb left behind in its session
    except ProcessLookupError:
        pass
    remove_shm(cfg)
    return p.returncode


def role(addr=ADDR_A, sp="A"):
    """The SP's role from its Manager resource (None: no answer). The resource needs an
    account: while the first password change is not made, role() makes it (a PATCH through
    this address); a lone SP that cannot make it (503: no active SP takes the change) is
    "not active"."""
    d = ACCOUNT["dir"]
    cred = auth.read_credentials(d) if d else None
    path = "/redfish/v1/Managers/SP" + sp
    r = redfish.http_request(addr, path, timeout=0.3, port=WEB_PORT, auth=cred or False)
    if r["status"] in (401, 403) and d and auth.pending(d):
        done, what = auth.first_change(d, auth.requester(addr, WEB_PORT), timeout=2.0)
        if not done:
            return "not active (the first password change: %s)" % what if "503" in what else None
        r = redfish.http_request(addr, path, timeout=0.3, port=WEB_PORT,
                                 auth=auth.read_credentials(d))
    if r["status"] != 200 or not isinstance(r["json"], dict):
        return None
    return redfish.role_of(r["json"])[0]


def spd_log(cfg):
    return tail_text(os.path.join(cfg["state_dir"], "log", "spd.log"), 60)


PEER_UNREACHABLE = r"peer.*(unreachable|not reachable|no answer|not answer|not heard|silent|dead|" \
                   r"lost|absent|not respond|no heartbeat|never)|(unreachable|silent|dead|lost).*peer"


def without_paths(line):
    """A log line without its file paths (the test's temp dir name contains 'peer')."""
    return " ".join(w for w in line.split() if "/" not in w)


def test_peer_that_never_answers_is_fenced_then_active(tmp_path):
    pc = FakePowerController(tmp_path / "power.sock", "ok powered off B")
    cfg = base_config(tmp_path, tmp_path / "power.sock")
    p = start_spd(tmp_path, cfg)
    try:
        wait_for(lambda: role() == "active" or p.poll() is not None, 10, 0.05,
                 lambda: "SP-A active without a peer (log:\n%s)" % spd_log(cfg))
        assert p.poll() is None, "spd exited %s:\n%s" % (p.returncode, tail_text(tmp_path / "console.log"))
        assert [l for _, l in pc.requests if l == "power-off B"], \
            "SP-A became active without fencing SP-B: requests %r" % pc.requests
        log = spd_log(cfg)
        lines = [l for l in log.splitlines() if re.search(PEER_UNREACHABLE, without_paths(l), re.I)]
        print("fence requests: %r\npeer lines: %s" % (pc.requests, lines))
        assert lines, "no log line about the unreachable peer:\n%s" % log
        s, h, _ = redfish.get(FLOAT, WEB_PORT, "/redfish/v1", timeout=1)
        assert s == 200 and h.get("x-dualsp-sp") == "A"
    finally:
        rc = stop_spd(p, cfg)
        pc.stop()
    assert rc == 0, "spd exit status after SIGTERM: %s" % rc
    assert not redfish.answers(FLOAT, WEB_PORT, 0.3), "floating listener still answers after exit"


def test_a_peer_never_heard_but_powered_on_and_running_is_not_fenced(tmp_path):
    """Issue 11 (6), Pacemaker's wait_for_all: a starting SP that never heard its peer does
    not fence a peer the chassis says is running (it may be serving behind cut paths); it
    waits and says why. With heartbeat.startup_fence "always" it fences as before."""
    pc = FakePowerController(tmp_path / "power.sock", "ok powered off B", power="ok running")
    cfg = base_config(tmp_path, tmp_path / "power.sock")
    p = start_spd(tmp_path, cfg)
    try:
        wait_for(lambda: len([l for _, l in pc.requests if l == "status B"]) >= 3
                 or p.poll() is not None, 10, 0.05, "SP-A asking the chassis about SP-B")
        assert p.poll() is None, "spd exited %s" % p.returncode
        assert not [l for _, l in pc.requests if l.startswith("power-off")], pc.requests
        assert role() != "active"
        assert not redfish.answers(FLOAT, WEB_PORT, 0.3), "floating address served"
        waiting = [l for l in spd_log(cfg).splitlines() if "WaitingForPeer" in l]
        assert waiting and "running" in waiting[0], spd_log(cfg)
        print(waiting[0])
    finally:
        rc = stop_spd(p, cfg)
        pc.stop()
    assert rc == 0

    pc = FakePowerController(tmp_path / "power2.sock", "ok powered off B", power="ok running")
    cfg = base_config(tmp_path, tmp_path / "power2.sock")
    cfg["heartbeat"]["startup_fence"] = "always"
    p = start_spd(tmp_path, cfg)
    try:
        wait_for(lambda: role() == "active" or p.poll() is not None, 10, 0.05,
                 lambda: "SP-A active with startup_fence always (log:\n%s)" % spd_log(cfg))
        assert [l for _, l in pc.requests if l == "power-off B"], pc.requests
    finally:
        stop_spd(p, cfg)
        pc.stop()


def test_failed_fencing_does_not_take_over(tmp_path):
    """DESIGN: when fencing fails, the SP does not take over; it retries and raises a
    critical alert."""
    pc = FakePowerController(tmp_path / "power.sock", "error the power switch is stuck")
    cfg = base_config(tmp_path, tmp_path / "power.sock")
    cfg["heartbeat"]["fence_retry_ms"] = 300
    p = start_spd(tmp_path, cfg)
    try:
        wait_for(lambda: len(pc.requests) >= 2 or p.poll() is not None, 10, 0.05,
                 "two fencing attempts (got %r)" % pc.requests)
        assert p.poll() is None, "spd exited %s" % p.returncode
        r = wait_for(role, 5, 0.05, lambda: "an answer from SP-A's own address (log:\n%s)" % spd_log(cfg))
        assert r != "active", "SP-A active although fencing failed"
        assert not redfish.answers(FLOAT, WEB_PORT, 0.3), "floating address served without fencing"
        crit = [l for l in spd_log(cfg).splitlines()
                if re.search(r"<(crit|critical|alert|emerg|error)>", l) and re.search("fenc", l, re.I)]
        print("role %s; requests %r; alerts %s" % (r, pc.requests, crit[:3]))
        assert crit, "no critical alert about the failed fencing:\n%s" % spd_log(cfg)
    finally:
        stop_spd(p, cfg)
        pc.stop()
