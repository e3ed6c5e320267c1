"""System test of the test host, iscsi-host (tools/iscsi_host, docs/ISCSI-HOST.md).

Two tgtd instances (Debian's user-space target, `tgt`) play the two SPs' iSCSI ports: in a
private network namespace, on 198.18.200.1:3260 and 198.18.200.2:3260, exporting the same
backing file as LUN 1 of a target with the same target id, so both report the same LU
identifiers (tgt derives its NAA designators from the target id and LUN; they cannot be set)
and the same T10 vendor id (scsi_id) and serial (scsi_sn). iscsi-host must see one LU through
two paths, write and verify a pattern, and keep writing while the first tgtd is killed.

tgt has no ALUA (INQUIRY TPGS 0, no REPORT TARGET PORT GROUPS), so here every path is
"active/optimized unless it fails": ALUA transitions (transitioning, standby, the
asymmetric access state changed unit attention) are checked only under QEMU with the real
LIO target (tests/qemu), not here.

Run:  /usr/bin/python3 -m pytest -q tests/system/test_iscsi_host.py      (as root)
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("DUALSP_BUILD_DIR") or REPO / "build")
HOST = BUILD / "tools" / "iscsi_host" / "iscsi-host"
TGTD = "/usr/sbin/tgtd"
TGTADM = "/usr/sbin/tgtadm"
NS = "dualsp-iscsi-%d" % os.getpid()
PORTALS = ["198.18.200.1:3260", "198.18.200.2:3260"]
INITIATOR = "iqn.2024-01.org.dualsp:test-host"
TARGET = "iqn.2024-01.org.dualsp:sp%s.lu0"
SCSI_ID = "dualsp-lu-0001"
SCSI_SN = "DSPLU0001"
SIZE = 64 << 20
TGT_SOCKETS = Path("/var/run/tgtd")



@pytest.fixture(autouse=True, scope="module")
def _can_run():
    """Fails (never skips) when this machine cannot run the test, saying what is missing."""
    if os.geteuid() != 0:
        pytest.fail("needs root (network namespace, tgtd)", pytrace=False)
    if not os.path.exists(TGTD):
        pytest.fail("tgt is not installed (tools/install-deps)", pytrace=False)
    if not HOST.exists():
        pytest.fail("iscsi-host is not built: %s" % HOST, pytrace=False)


def ns(*cmd):
    return ["ip", "netns", "exec", NS, *cmd]


def run(cmd, timeout=30, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s: rc %d\n%s%s" % (cmd, r.returncode, r.stdout, r.stderr))
    return r


def wait_until(what, predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("not within %ss: %s" % (seconds, what))


def free_control_port():
    """tgtd's management sockets are files (/var/run/tgtd/socket.N), shared by every
    network namespace: a control port no other tgtd uses."""
    base = 20000 + (os.getpid() % 2000) * 2
    for port in range(base, base + 200):
        if not (TGT_SOCKETS / ("socket.%d.lock" % port)).exists():
            return port
    raise AssertionError("no free tgtd control port")


class Tgtd:
    def __init__(self, index, portal, control, backing, log):
        self.portal = portal
        self.control = control
        self.log = open(log, "w")
        # ip netns exec execs tgtd: the PID is tgtd's, which the test kills.
        self.proc = subprocess.Popen(
            ns(TGTD, "-f", "-C", str(control), "--iscsi", "portal=" + portal),
            stdout=self.log, stderr=subprocess.STDOUT)
        adm = [TGTADM, "-C", str(control), "--lld", "iscsi"]
        wait_until("tgtd -C %d answers" % control,
                   lambda: self.alive() and run(adm + ["--mode", "target", "--op", "show"],
                                               timeout=5, check=False).returncode == 0, 10)
        run(adm + ["--mode", "target", "--op", "new", "--tid", "1", "--targetname", TARGET % index])
        run(adm + ["--mode", "logicalunit", "--op", "new", "--tid", "1", "--lun", "1",
                   "--backing-store", str(backing)])
        run(adm + ["--mode", "logicalunit", "--op", "update", "--tid", "1", "--lun", "1",
                   "--params", "scsi_id=%s,scsi_sn=%s" % (SCSI_ID, SCSI_SN)])
        run(adm + ["--mode", "target", "--op", "bind", "--tid", "1", "--initiator-address", "ALL"])

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        # tgtd refuses SIGTERM while it has targets; the test wants a crash anyway.
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        for name in ("socket.%d" % self.control, "socket.%d.lock" % self.control):
            (TGT_SOCKETS / name).unlink(missing_ok=True)
        self.log.close()


@pytest.fixture(scope="module")
def array(tmp_path_factory):
    d = tmp_path_factory.mktemp("iscsi-host")
    backing = d / "lu0.img"
    with open(backing, "wb") as f:
        f.truncate(SIZE)
    run(["ip", "netns", "add", NS])
    tgts = []
    try:
        run(ns("ip", "link", "set", "lo", "up"))
        for p in PORTALS:
            run(ns("ip", "addr", "add", p.split(":")[0] + "/32", "dev", "lo"))
        for i, p in enumerate(PORTALS):
            tgts.append(Tgtd("ab"[i], p, free_control_port(), backing, d / ("tgtd%d.log" % i)))
        yield {"dir": d, "tgts": tgts}
    finally:
        for t in tgts:
            t.kill()
        subprocess.run(["ip", "netns", "del", NS], timeout=10)


def host(*args, portals=PORTALS, timeout=60):
    cmd = [str(HOST), "--initiator", INITIATOR, "--timeout", "2"]
    for p in portals:
        cmd += ["--portal", p]
    return subprocess.run(ns(*cmd, *args), capture_output=True, text=True, timeout=timeout)


def ls_json(portals=PORTALS):
    r = host("--json", "ls", portals=portals)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def lu_id():
    return next(iter(ls_json()["lus"]))


def test_ls_sees_one_lu_through_both_paths(array):
    j = ls_json()
    assert [p["portal"] for p in j["paths"]] == PORTALS
    assert all(p["up"] for p in j["paths"])
    assert len(j["lus"]) == 1, j["lus"]
    (lid, lu), = j["lus"].items()
    assert lid.startswith("naa.") and lu["paths"] == 2
    for p in j["paths"]:
        (l,) = p["luns"]
        assert l["id"] == lid and l["lun"] == 1
        assert l["capacity_bytes"] == SIZE and l["block_size"] == 512
        # The same scsi_id on both: the T10 vendor id designator (type 1) is equal too.
        assert any(d.startswith("1:" + SCSI_ID.encode().hex()) for d in l["designators"])
        # tgt: no ALUA, so the path is optimized unless it fails (docs/ISCSI-HOST.md).
        if not l["rtpg"]:
            assert l["state"] == "active/optimized"
    human = host("ls")
    assert human.returncode == 0 and human.stdout.count(lid) == 2, human.stdout


def test_exit_codes(array):
    assert host("ls", portals=PORTALS + ["198.18.200.3:3260"]).returncode == 3
    assert host("write", "--lun-id", "naa.00", "--blocks", "1").returncode == 4
    assert host("frobnicate").returncode == 2
    assert host("run", "--lun-id", lu_id()).returncode == 2  # run needs --record


def test_write_then_verify(array):
    lid = lu_id()
    w = host("write", "--lun-id", lid, "--pattern", "7", "--blocks", "256")
    assert w.returncode == 0, w.stdout + w.stderr
    v = host("--json", "verify", "--lun-id", lid, "--pattern", "7", "--blocks", "256")
    assert v.returncode == 0, v.stdout + v.stderr
    assert json.loads(v.stdout)["mismatches"] == 0
    # Through the second path alone, the same data.
    v2 = host("verify", "--lun-id", lid, "--pattern", "7", "--blocks", "256", portals=PORTALS[1:])
    assert v2.returncode == 0, v2.stdout + v2.stderr
    # A wrong generation or seed is detected (exit 1).
    assert host("verify", "--lun-id", lid, "--pattern", "7", "--blocks", "16",
                "--generation", "2").returncode == 1
    assert host("verify", "--lun-id", lid, "--pattern", "8", "--blocks", "16").returncode == 1


def test_run_fails_over_on_a_timeout(array):
    """The first portal stops answering (packets dropped, no reset): the write times out
    (--timeout 2) and continues on the second path."""
    lid = lu_id()
    record = array["dir"] / "timeout.record"
    cmd = [str(HOST), "--initiator", INITIATOR, "--timeout", "2",
           "--portal", PORTALS[0], "--portal", PORTALS[1],
           "run", "--lun-id", lid, "--seconds", "8", "--blocks", "2048",
           "--retry-seconds", "20", "--record", str(record)]
    drop = ["iptables", "-w", "5", "-I", "INPUT", "-d", PORTALS[0].split(":")[0], "-j", "DROP"]
    proc = subprocess.Popen(ns(*cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until("acknowledged writes",
                   lambda: record.exists() and record.read_text().count("\n") > 300, 20)
        run(ns(*drop))
        out, err = proc.communicate(timeout=60)
    finally:
        run(ns(*[a if a != "-I" else "-D" for a in drop]), check=False)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, out + err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["last_path"].startswith(PORTALS[1]) and summary["path_switches"] >= 1
    assert 1500 <= max(summary["stalls_ms"]) < 20000, out
    v = host("--json", "verify", "--lun-id", lid, "--record", str(record), portals=PORTALS[1:])
    assert v.returncode == 0, v.stdout + v.stderr


def test_run_continues_on_second_path_when_first_target_dies(array):
    lid = lu_id()
    record = array["dir"] / "run.record"
    first = array["tgts"][0]
    cmd = [str(HOST), "--initiator", INITIATOR, "--timeout", "2",
           "--portal", PORTALS[0], "--portal", PORTALS[1],
           "run", "--lun-id", lid, "--seconds", "8", "--blocks", "2048",
           "--retry-seconds", "20", "--record", str(record)]
    proc = subprocess.Popen(ns(*cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def acked():
            return record.exists() and record.read_text().count("\n") > 300
        wait_until("iscsi-host has acknowledged writes", acked, 20)
        first.kill()  # SP-A's port dies mid-run
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, out + err
    summary = json.loads(out.strip().splitlines()[-1])
    print(out)
    assert summary["first_path"].startswith(PORTALS[0])
    assert summary["last_path"].startswith(PORTALS[1])
    assert summary["path_switches"] >= 1
    assert len(summary["stalls_ms"]) >= 1 and "stall " in out
    assert max(summary["stalls_ms"]) < 20000
    assert summary["writes_acknowledged"] > 300
    # Every acknowledged write is there, read through the surviving path.
    v = ns(str(HOST), "--initiator", INITIATOR, "--timeout", "2", "--portal", PORTALS[1],
           "--json", "verify", "--lun-id", lid, "--record", str(record))
    r = subprocess.run(v, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["mismatches"] == 0

