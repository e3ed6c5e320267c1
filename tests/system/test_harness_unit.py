"""Unit tests of the harness's own logic (no root, no spd): holder decision, sandwich rule,
netlink parsing, the midplane cut flags, the probe's HTTP head parser and the drive shelf
both SPs share (`drive fail`/`restore`)."""

import contextlib
import importlib.machinery
import importlib.util
import json
import os
import signal
import socket
import struct
import subprocess
import time

from conftest import TOOLS
from sp_pair import midplane, netlink
from sp_pair.common import Layout


def nlmsg(mtype, payload):
    return struct.pack("=IHHII", 16 + len(payload), mtype, 2, 1, 0) + payload + b"\0" * ((-len(payload)) % 4)


def rtattr(atype, data):
    return struct.pack("=HH", 4 + len(data), atype) + data + b"\0" * ((-len(data)) % 4)


def test_holder_needs_the_address_on_an_up_interface():
    links = {1: netlink.IFF_UP, 2: netlink.IFF_UP, 3: 0}
    assert netlink.holds_floating(links, [(2, "198.18.0.11"), (2, "198.18.0.10")], "198.18.0.10")
    assert not netlink.holds_floating(links, [(2, "198.18.0.11")], "198.18.0.10")
    assert not netlink.holds_floating(links, [(3, "198.18.0.10")], "198.18.0.10"), "down link"
    assert not netlink.holds_floating(links, [(9, "198.18.0.10")], "198.18.0.10"), "unknown link"


def test_sandwich_rule():
    v = netlink.sandwich_violation
    assert v(("A", True), ("B", True), ("A", True))
    assert v(("B", True), ("A", True), ("B", True))
    assert not v(("A", True), ("B", True), ("A", False)), "A released before B was seen"
    assert not v(("A", False), ("B", True), ("A", True))
    assert not v(("A", True), ("B", False), ("A", True))
    assert not v(("A", True), ("A", True), ("A", True)), "not alternating"


def test_parse_netlink_dump():
    link = struct.pack("=BxHiII", socket.AF_UNSPEC, 1, 7, netlink.IFF_UP | 0x40, 0)
    addr = struct.pack("=BBBBi", socket.AF_INET, 24, 0, 0, 7) + \
        rtattr(netlink.IFA_ADDRESS, socket.inet_aton("198.18.0.10")) + \
        rtattr(netlink.IFA_LOCAL, socket.inet_aton("198.18.0.10"))
    data = nlmsg(netlink.RTM_NEWLINK, link) + nlmsg(netlink.RTM_NEWADDR, addr) + \
        nlmsg(netlink.NLMSG_DONE, struct.pack("=i", 0))
    msgs = list(netlink.messages(data))
    assert [t for t, _ in msgs] == [netlink.RTM_NEWLINK, netlink.RTM_NEWADDR, netlink.NLMSG_DONE]
    assert netlink.parse_link(msgs[0][1]) == (7, netlink.IFF_UP | 0x40)
    assert netlink.parse_addr(msgs[1][1]) == (7, "198.18.0.10")


def test_live_netlink_dump_of_this_namespace():
    s = netlink.RouteSocket.here()
    try:
        links = s.links()
        addrs = s.addrs()
    finally:
        s.close()
    assert any(a == "127.0.0.1" for _, a in addrs)
    assert netlink.holds_floating(links, addrs, "127.0.0.1")


def test_midplane_cut_flags(tmp_path):
    path = str(tmp_path / "midplane")
    midplane.set_cut(path, "B", True)
    data = open(path, "rb").read()
    assert len(data) == 4096
    assert struct.unpack_from("<II", data, 16) == (0, 1)
    assert midplane.get_cut(path, "B") and not midplane.get_cut(path, "A")
    midplane.set_cut(path, "B", False)
    assert struct.unpack_from("<II", open(path, "rb").read(), 16) == (0, 0)


def test_configs_follow_docs_config(tmp_path):
    lay = Layout("netns", str(tmp_path), "/b")
    a = lay.config("A")
    assert a["floating"]["address"] == "198.18.0.10" and a["floating"]["interface"] == "mgmt0"
    assert a["peer"]["management_address"] == "198.18.0.12"
    assert a["web"]["spweb"] == "/b/webserver/spweb" and a["web"]["port"] == 80
    lo = Layout("loopback", str(tmp_path), "/b").config("B")
    assert lo["floating"] == dict(lo["floating"], mode="loopback", address="127.0.0.10", port=8080)
    assert lo["management"] == {"interface": "", "address": "127.0.0.12"}
    assert lo["web"]["listen"] == "127.0.0.12"


def test_probe_head_parser():
    loader = importlib.machinery.SourceFileLoader("probe", str(TOOLS / "probe"))
    spec = importlib.util.spec_from_loader("probe", loader)
    probe = importlib.util.module_from_spec(spec)
    loader.exec_module(probe)
    h = probe.parse_head(b"HTTP/1.1 200 OK\r\nX-DualSP-SP: B\r\nContent-Length: 12")
    assert h[":status"] == 200 and h["x-dualsp-sp"] == "B" and h["content-length"] == "12"
    ok, sp, status, err, _ = probe.attempt("127.0.0.1", 1, "/", 0.2)
    assert not ok and err in ("ECONNREFUSED", "timeout")


@contextlib.contextmanager
def power_controller(tmp_path, pair):
    """`sp-pair _power-controller` on a loopback state directory whose pair.json holds `pair`
    (SP entries); yields (state directory, socket path), stopped with SIGTERM at the end."""
    from conftest import SP_PAIR, PYTHON, wait_for
    state = tmp_path / "pc"
    state.mkdir()
    (state / "pair.json").write_text(json.dumps(dict({"mode": "loopback", "array_id": "pc-unit",
                                                      "A": {}, "B": {}}, **pair)))
    sock = str(state / "power.sock")
    p = subprocess.Popen([PYTHON, str(SP_PAIR), "--state", str(state), "_power-controller"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: os.path.exists(sock), 5, 0.02, "power.sock")
        yield state, sock
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(5)


def test_power_controller_protocol(tmp_path):
    """The power controller answers on its socket within ~200 ms: ping, power-off of an SP
    that is already off ("ok"), a malformed request ("error ...")."""
    from sp_pair import power
    with power_controller(tmp_path, {}) as (state, sock):
        assert power.request(sock, "ping") == "ok pong"
        t0 = time.monotonic()
        assert power.request(sock, "power-off B") == "ok powered off B"
        assert time.monotonic() - t0 < 0.2
        assert power.request(sock, "power-off C").startswith("error ")
        assert power.request(sock, "reboot A").startswith("error ")
        log = (state / "power.log").read_text()
        assert "'power-off B' -> ok powered off B" in log
    assert not os.path.exists(sock)


def test_power_controller_socket_is_for_its_owner_only(tmp_path):
    """The power controller powers SPs off: its socket was 0666, so any local user who could
    reach the state directory could. It must be 0600 and owned by the harness's user (root,
    or the user of a loopback pair, who runs spd too)."""
    import stat
    with power_controller(tmp_path, {}) as (state, sock):
        st = os.stat(sock)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        assert st.st_uid == os.getuid()


def test_power_controller_status(tmp_path):
    """`status A|B` on the power controller: off (no process), stopped (every process
    SIGSTOPped), running. Loopback layout: the SP's processes are found by session and by the
    DUALSP_PAIR_SP environment marker, so a plain `sleep` started as SP-A's spd is SP-A."""
    from conftest import wait_for
    from sp_pair import power
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True,
                               env=dict(os.environ, DUALSP_PAIR_SP="%s:A" % (tmp_path / "pc")))
    try:
        with power_controller(tmp_path, {"A": {"pid": sleeper.pid}}) as (state, sock):
            assert power.request(sock, "status B") == "ok off"
            assert power.request(sock, "status A") == "ok running"
            sleeper.send_signal(signal.SIGSTOP)
            wait_for(lambda: power.request(sock, "status A") == "ok stopped", 2, 0.02, "stopped")
            sleeper.send_signal(signal.SIGCONT)
            wait_for(lambda: power.request(sock, "status A") == "ok running", 2, 0.02, "running")
            assert power.request(sock, "status C").startswith("error ")
            assert power.request(sock, "power-off A") == "ok powered off A"
            assert power.request(sock, "status A") == "ok off"
            assert "'status B' -> ok off" in (state / "power.log").read_text()
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
        sleeper.wait(5)


def test_cut_and_loss_rules():
    """The iptables matches of `cut` and `loss`: peer is all of peer0; mgmt is the heartbeat
    (UDP) and peer-link (TCP) ports, both directions, as source and destination, never 80."""
    from sp_pair import netns
    peer = netns.path_matches("peer")
    assert peer == [(netns.CUT_IN, ["-i", "peer0"]), (netns.CUT_OUT, ["-o", "peer0"])]
    mgmt = netns.path_matches("mgmt", (7400, 7500))
    assert len(mgmt) == 8
    for proto, port in (("udp", "7400"), ("tcp", "7500")):
        for opt in ("--dport", "--sport"):
            assert (netns.CUT_IN, ["-i", "mgmt0", "-p", proto, opt, port]) in mgmt
            assert (netns.CUT_OUT, ["-o", "mgmt0", "-p", proto, opt, port]) in mgmt
    assert not any("80" in m for _, m in mgmt)
    assert netns.probability(30) == "0.300000" and netns.probability(0.5) == "0.005000"


# ---------------------------------------------------------------- credentials (sp_pair/auth.py)

FAKE_SPD = r'''#!/bin/sh
# A stand-in for spd --hash-password: reads one line, prints a fake Argon2id string (never
# the password).
case "$1" in
  --help) echo "Usage: spd --settings FILE [--check] | --hash-password" ;;
  --hash-password) read -r pw; echo '$argon2id$v=19$m=19456,t=2,p=1$fakesalt$fakehash' ;;
  *) exit 2 ;;
esac
'''


def fake_layout(tmp_path, floating="127.0.0.1", port=80):
    """A Layout whose spd is FAKE_SPD (build dir tmp_path/build) and state tmp_path/state."""
    build = tmp_path / "build"
    (build / "sp").mkdir(parents=True)
    spd = build / "sp" / "spd"
    spd.write_text(FAKE_SPD)
    spd.chmod(0o755)
    lay = Layout("loopback", str(tmp_path / "state"), str(build))
    lay.floating, lay.web_port = floating, port
    for sp in ("A", "B"):
        os.makedirs(lay.log_dir(sp))
    return lay


def mode_of(path):
    import stat
    return stat.S_IMODE(os.stat(path).st_mode)


def test_secrets_are_written_atomically_with_mode_0600(tmp_path):
    from sp_pair import auth
    old = os.umask(0)          # a permissive umask must not widen the mode
    try:
        path = tmp_path / "d" / "credentials"
        auth.write_secret(str(path), "admin:x\n")
        assert mode_of(path) == 0o600 and path.read_text() == "admin:x\n"
        path.chmod(0o644)                      # replaced, not rewritten in place
        auth.write_secret(str(path), "admin:y\n")
        assert mode_of(path) == 0o600 and path.read_text() == "admin:y\n"
        assert os.listdir(tmp_path / "d") == ["credentials"], "a temporary file was left"
    finally:
        os.umask(old)


def test_provision_writes_the_hash_to_each_sp_and_keeps_the_password_private(tmp_path):
    from sp_pair import auth
    lay = fake_layout(tmp_path)
    assert auth.provision(lay) is True
    for sp in ("A", "B"):
        f = os.path.join(lay.sp_dir(sp), "initial-admin")
        assert mode_of(f) == 0o600
        assert open(f).read().startswith("$argon2id$")
    pending = os.path.join(lay.state, auth.PENDING_INITIAL)
    assert mode_of(pending) == 0o600
    user, password = open(pending).read().strip().split(":", 1)
    assert user == "admin" and len(password) >= 24
    for sp in ("A", "B"):
        assert password not in open(os.path.join(lay.sp_dir(sp), "initial-admin")).read()
    assert auth.pending(lay.state)
    # Two provisions, two passwords.
    auth.provision(lay)
    assert open(pending).read().strip().split(":", 1)[1] != password


def test_provision_is_skipped_for_an_spd_without_accounts(tmp_path):
    from sp_pair import auth
    lay = fake_layout(tmp_path)
    with open(lay.spd, "w") as f:
        f.write("#!/bin/sh\necho 'Usage: spd --settings FILE [--check]'\n")
    assert auth.provision(lay) is False
    assert not os.path.exists(os.path.join(lay.sp_dir("A"), "initial-admin"))
    assert not auth.pending(lay.state)


def test_hash_password_failure_does_not_show_the_password(tmp_path):
    from sp_pair import auth
    from sp_pair.common import HarnessError
    spd = tmp_path / "spd"
    spd.write_text("#!/bin/sh\nread -r pw\necho \"spd: no memory\" >&2\necho \"$pw\"\nexit 1\n")
    spd.chmod(0o755)
    try:
        auth.hash_password(str(spd), "s3cret-Password-123")
        raise AssertionError("no error")
    except HarnessError as e:
        assert "s3cret" not in str(e) and "no memory" in str(e)


class FakeAccountService:
    """A loopback HTTP server that plays the contract's first password change: the account
    admin with `initial` (PasswordChangeRequired) until a PATCH changes it; 401 for anything
    else. `lose_first_answer`: the first successful PATCH is made but its connection closed
    without an answer."""

    def __init__(self, initial, lose_first_answer=False, busy=0):
        import base64
        import http.server
        import threading
        svc = self
        self.password, self.lose, self.busy = initial, lose_first_answer, busy
        self.requests = []

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _auth_ok(self):
                h = self.headers.get("Authorization", "")
                if not h.startswith("Basic "):
                    return False
                user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
                return user == "admin" and pw == svc.password

            def _send(self, status, body=b"{}"):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                svc.requests.append(("GET", self.path, self.headers.get("Authorization")))
                if self.path == "/redfish/v1":
                    return self._send(200)
                self._send(200 if self._auth_ok() else 401)

            def do_PATCH(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                svc.requests.append(("PATCH", self.path, self.headers.get("Authorization")))
                if not self._auth_ok():
                    return self._send(401)
                if svc.busy > 0:
                    svc.busy -= 1
                    return self._send(503)
                svc.password = body["Password"]
                if svc.lose:
                    svc.lose = False
                    self.close_connection = True
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self._send(200)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_first_login_changes_the_password_and_keeps_the_credentials_0600(tmp_path):
    from sp_pair import auth
    lay = fake_layout(tmp_path)
    auth.provision(lay)
    initial = open(os.path.join(lay.state, auth.PENDING_INITIAL)).read().strip().split(":", 1)[1]
    svc = FakeAccountService(initial, busy=2)    # two 503s while the pair settles
    try:
        lay.web_port = svc.port
        cred = auth.first_login(lay, timeout=10)
        user, new = cred.split(":", 1)
        assert user == "admin" and new == svc.password and new != initial and len(new) >= 24
        assert mode_of(auth.credentials_path(lay.state)) == 0o600
        assert not auth.pending(lay.state)
        assert not os.path.exists(os.path.join(lay.state, auth.PENDING_NEW))
        patches = [r for r in svc.requests if r[0] == "PATCH"]
        assert len(patches) == 3 and patches[0][1] == "/redfish/v1/AccountService/Accounts/admin"
        # Later: the existing credentials are verified, not changed.
        before = len(svc.requests)
        assert auth.try_first_login(lay) == (True, "the existing credentials: HTTP 200")
        assert [r[0] for r in svc.requests[before:]] == ["GET"]
    finally:
        svc.close()


def test_first_login_whose_answer_is_lost_adopts_the_new_password(tmp_path):
    from sp_pair import auth
    lay = fake_layout(tmp_path)
    auth.provision(lay)
    initial = open(os.path.join(lay.state, auth.PENDING_INITIAL)).read().strip().split(":", 1)[1]
    svc = FakeAccountService(initial, lose_first_answer=True)
    try:
        lay.web_port = svc.port
        cred = auth.first_login(lay, timeout=10)
        assert cred.split(":", 1)[1] == svc.password != initial
    finally:
        svc.close()


def test_first_login_keeps_working_credentials_of_a_store_with_accounts(tmp_path):
    """A restart with the same state: the store already has the account, the initial password
    is refused, the existing credentials file is verified and kept."""
    from sp_pair import auth
    lay = fake_layout(tmp_path)
    auth.provision(lay)
    auth.write_secret(auth.credentials_path(lay.state), "admin:the-existing-one-123\n")
    svc = FakeAccountService("the-existing-one-123")
    try:
        lay.web_port = svc.port
        assert auth.first_login(lay, timeout=5) == "admin:the-existing-one-123"
        assert svc.password == "the-existing-one-123"
        assert not auth.pending(lay.state)
    finally:
        svc.close()


def test_first_login_failure_names_no_password(tmp_path):
    from sp_pair import auth
    from sp_pair.common import HarnessError
    lay = fake_layout(tmp_path)
    auth.provision(lay)
    svc = FakeAccountService("another-password-entirely")
    try:
        lay.web_port = svc.port
        try:
            auth.first_login(lay, timeout=0.5)
            raise AssertionError("no error")
        except HarnessError as e:
            secrets = [open(os.path.join(lay.state, n)).read().strip().split(":", 1)[1]
                       for n in (auth.PENDING_INITIAL, auth.PENDING_NEW)]
            assert "401" in str(e)
            assert not any(s in str(e) for s in secrets), str(e)
    finally:
        svc.close()


def test_clients_send_basic_credentials_unless_told_otherwise(tmp_path, monkeypatch):
    import base64
    from sp_pair import redfish
    svc = FakeAccountService("pw-from-env-1234")
    try:
        monkeypatch.setenv("DUALSP_AUTH", "admin:pw-from-env-1234")
        basic = "Basic " + base64.b64encode(b"admin:pw-from-env-1234").decode()
        acct = "/redfish/v1/AccountService/Accounts/admin"
        assert redfish.http_request("127.0.0.1", acct, port=svc.port)["status"] == 200
        assert svc.requests[-1][2] == basic
        assert redfish.get("127.0.0.1", svc.port, acct)[0] == 200
        assert redfish.http_request("127.0.0.1", acct, port=svc.port, auth=False)["status"] == 401
        assert svc.requests[-1][2] is None
        r = redfish.http_request("127.0.0.1", acct, port=svc.port, auth=("admin", "other"))
        assert r["status"] == 401
        # the caller's own header wins; a token means no Basic header
        redfish.http_request("127.0.0.1", acct, port=svc.port, headers={"X-Auth-Token": "t"})
        assert svc.requests[-1][2] is None
        redfish.http_request("127.0.0.1", acct, port=svc.port, headers={"authorization": "Bearer x"})
        assert svc.requests[-1][2] == "Bearer x"
        # the service root needs none and gets none by default
        assert redfish.http_request("127.0.0.1", "/redfish/v1", port=svc.port)["status"] == 200
        assert svc.requests[-1][2] is None
        # the source that runs in another namespace authenticates from the environment
        script = ("import json, sys\n" + redfish.source() +
                  "\nprint(json.dumps(http_request('127.0.0.1', %r, port=%d)))\n" % (acct, svc.port))
        out = subprocess.run(["/usr/bin/python3", "-c", script], stdout=subprocess.PIPE,
                             text=True, timeout=20, env=dict(os.environ, PYTHONPATH=""))
        assert json.loads(out.stdout)["status"] == 200
        # without DUALSP_AUTH: the credentials file of $DUALSP_PAIR_STATE
        monkeypatch.delenv("DUALSP_AUTH")
        state = tmp_path / "st"
        state.mkdir()
        (state / "credentials").write_text("admin:pw-from-env-1234\n")
        monkeypatch.setenv("DUALSP_PAIR_STATE", str(state))
        assert redfish.resolve_auth() == "admin:pw-from-env-1234"
    finally:
        svc.close()


def run_sp_pair(*args, env=None):
    from conftest import PYTHON, SP_PAIR
    return subprocess.run([PYTHON, str(SP_PAIR)] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=30,
                          env=dict(os.environ, **(env or {})))


def test_credentials_command(tmp_path):
    state = tmp_path / "pair"
    p = run_sp_pair("--state", str(state), "credentials")
    assert p.returncode != 0 and not p.stdout
    assert "no pair is up in %s" % state in p.stderr
    state.mkdir()
    (state / "pair.json").write_text(json.dumps({"mode": "loopback", "accounts": True}))
    p = run_sp_pair("--state", str(state), "credentials")
    assert p.returncode != 0 and not p.stdout and "no credentials in" in p.stderr
    from sp_pair import auth
    auth.write_secret(str(state / "initial-password"), "admin:initial-secret-123\n")
    p = run_sp_pair("--state", str(state), "credentials")
    assert p.returncode != 0 and "first-login" in p.stderr
    assert "initial-secret" not in p.stdout + p.stderr
    os.unlink(state / "initial-password")
    auth.write_secret(str(state / "credentials"), "admin:the-secret-12345\n")
    p = run_sp_pair("--state", str(state), "credentials")
    assert p.returncode == 0 and p.stdout == "admin:the-secret-12345\n", p.stderr
    # $DUALSP_PAIR_STATE names the pair as --state does
    p = run_sp_pair("credentials", env={"DUALSP_PAIR_STATE": str(state)})
    assert p.returncode == 0 and p.stdout == "admin:the-secret-12345\n"
    (state / "pair.json").write_text(json.dumps({"mode": "loopback", "accounts": False}))
    os.unlink(state / "credentials")
    p = run_sp_pair("--state", str(state), "credentials")
    assert p.returncode != 0 and "no administrator" in p.stderr


def test_both_sps_see_the_same_shelf():
    """The shelf is cabled to both SPs: the same 12 drives (ids, serial numbers) in each
    description, 4 TB SAS HDDs in slots 0-7 and 1.92 TB SAS SSDs in 8-11, none failed; the
    SP's own parts keep serial numbers of their own."""
    from sp_pair import hardware
    a, b = hardware.description("A"), hardware.description("B")
    assert a["drives"] == b["drives"]
    drives = a["drives"]
    assert [d["slot"] for d in drives] == list(range(12))
    assert [d["id"] for d in drives] == ["Disk%d" % n for n in range(12)]
    assert [d["serial_number"] for d in drives] == ["SIMD%04d" % (n + 1) for n in range(12)]
    for d in drives:
        hdd = d["slot"] < 8
        assert d["media_type"] == ("HDD" if hdd else "SSD")
        assert d["capacity_bytes"] == (4000787030016 if hdd else 1920383410176)
        assert d["protocol"] == "SAS" and d["failed"] is False
        assert d["manufacturer"] and d["model"]
    assert a["inventory"][0]["serial_number"] != b["inventory"][0]["serial_number"]


def shelf_pair(tmp_path):
    """A loopback state directory with both SPs' healthy descriptions (what `up` writes)."""
    from sp_pair import hardware
    state = tmp_path / "pair"
    state.mkdir()
    (state / "pair.json").write_text(json.dumps({"mode": "loopback", "A": {}, "B": {}}))
    for sp in ("A", "B"):
        hardware.write_description(str(state / ("hw-%s.json" % sp.lower())), sp)
    return state


def read_hw(state, sp):
    return json.loads((state / ("hw-%s.json" % sp.lower())).read_text())


def test_drive_fail_and_restore_edit_both_descriptions(tmp_path):
    from sp_pair import hardware, shelf
    state = shelf_pair(tmp_path)
    p = run_sp_pair("--state", str(state), "drive", "fail", "3")
    assert p.returncode == 0, p.stderr
    assert "slot 3 (Disk3) failed" in p.stdout
    for sp in ("A", "B"):
        doc, healthy = read_hw(state, sp), hardware.description(sp)
        assert shelf.failed_slots(doc) == [3]
        healthy["drives"][3]["failed"] = True
        assert doc == healthy, "only drive 3's failed changed"
    run_sp_pair("--state", str(state), "drive", "fail", "3")  # idempotent
    assert run_sp_pair("--state", str(state), "drive", "fail", "10").returncode == 0
    assert [shelf.failed_slots(read_hw(state, sp)) for sp in ("A", "B")] == [[3, 10], [3, 10]]
    lines = run_sp_pair("--state", str(state), "drive", "list").stdout.splitlines()
    assert len(lines) == 13 and lines[4].split()[0] == "3" and lines[4].split()[-2:] == [
        "failed", "failed"]
    assert lines[1].split()[-2:] == ["ok", "ok"]

    p = run_sp_pair("--state", str(state), "drive", "restore", "3")
    assert p.returncode == 0, p.stderr
    assert [shelf.failed_slots(read_hw(state, sp)) for sp in ("A", "B")] == [[10], [10]]
    p = run_sp_pair("--state", str(state), "drive", "restore")  # every drive
    assert p.returncode == 0, p.stderr
    for sp in ("A", "B"):
        assert read_hw(state, sp) == hardware.description(sp)


def test_drive_fail_refuses_a_slot_either_sp_lacks(tmp_path):
    state = shelf_pair(tmp_path)
    p = run_sp_pair("--state", str(state), "drive", "fail", "12")
    assert p.returncode == 1 and "no drive in slot 12" in p.stderr
    for bad in ("x", "-1"):
        p = run_sp_pair("--state", str(state), "drive", "fail", bad)
        assert p.returncode == 2 and "drive slot" in p.stderr
    assert run_sp_pair("--state", str(state), "drive", "fail").returncode == 1
    # SP-B's description lost slot 5 (a hand edit): neither SP's is written
    b = read_hw(state, "B")
    b["drives"] = [d for d in b["drives"] if d["slot"] != 5]
    (state / "hw-b.json").write_text(json.dumps(b))
    before = {sp: (state / ("hw-%s.json" % sp)).read_bytes() for sp in ("a", "b")}
    p = run_sp_pair("--state", str(state), "drive", "fail", "5")
    assert p.returncode == 1 and "hw-b.json has no drive in slot 5" in p.stderr
    assert {sp: (state / ("hw-%s.json" % sp)).read_bytes() for sp in ("a", "b")} == before
