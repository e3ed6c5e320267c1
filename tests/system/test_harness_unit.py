"""Unit tests of the harness's own logic (no root, no spd): holder decision, sandwich rule,
netlink parsing, the midplane cut flags and the probe's HTTP head parser."""

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
