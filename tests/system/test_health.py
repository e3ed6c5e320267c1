"""Health decides the web server's mode and who leads (issue 4): hardware faults injected with
`sp-pair fault` (docs/HARNESS.md) make an SP Critical; a Critical SP serves the degraded
subset on its own address and hands the floating IP to a healthy peer; spweb is supervised;
ForceFailover moves the role under load without failing requests; redfishtool works.

Every wait is a poll with a deadline. Contract of spd/spweb assumed here (docs/DESIGN.md "Processes on one SP", issue 4):
- degraded serves /redfish/v1, the SP's own Manager, its LogServices and Manager.Reset; every
  other route answers 503 with a Redfish error body naming the faults and a Retry-After;
- GET /redfish/v1/Managers/SP<X> (through either SP) shows Status.Health "Critical" and
  Oem.DualSP.Faults [{MessageId, Message, Severity}] for a faulty SP;
- 5 spweb crashes within 60 s: a fault "web server crash loop", spweb runs degraded.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import FLOATING, MGMT, NS, PYTHON, SP_PAIR, other, wait_for
from sp_pair.redfish import resolve_auth

# The fault's message must name the part (any of these, case-insensitive).
MENTIONS = {
    "temperature-critical": ("CPU0Temp", "CPU 0 temperature"),
    "fan-failed": ("Fan0", "Fan 0"),
    "psu-failed": ("PSU0", "PSU 0"),
    "memory-ecc": ("DIMM0",),
    "boot-media": ("BootMedia0", "boot medi"),
    "mgmt-link-down": ("mgmt0", "management link", "management interface", "carrier"),
    "crash-loop": ("crash loop", "crash-loop", "crashed"),
}
FILE_FAULTS = ("temperature-critical", "fan-failed", "psu-failed", "memory-ecc", "boot-media")
ALL_FAULTS = FILE_FAULTS + ("mgmt-link-down",)
MODE_SWITCH_S = 1.0      # issue 4: a fault -> degraded on its own address within 1 s
HANDOVER_S = 1.0         # the healthy peer holds the floating IP within 1 s
RESTART_S = 1.0          # a killed spweb serves again within 1 s
MANAGER = "/redfish/v1/Managers/SP"


def mentions(text, name):
    text = (text or "").lower()
    return any(w.lower() in text for w in MENTIONS[name])


def faults_of(doc):
    return ((doc or {}).get("Oem") or {}).get("DualSP", {}).get("Faults")


def critical_with(pair, sp, name, host=FLOATING):
    """SP-sp's Manager (asked through `host`) when it says Critical with a Critical fault
    naming `name`'s part; else None."""
    doc = pair.manager(sp, host)
    if not doc or (doc.get("Status") or {}).get("Health") != "Critical":
        return None
    hits = [f for f in faults_of(doc) or []
            if f.get("Severity") == "Critical" and f.get("MessageId") and mentions(f.get("Message"), name)]
    return doc if hits else None


def error_text(resp):
    """Everything a Redfish error body says, as one string."""
    return json.dumps(resp.get("json")) if resp.get("json") is not None else (resp.get("text") or "")


def degraded_problem(pair, sp, name):
    """What keeps SP-sp's own address from serving the degraded subset for fault `name`
    (service root and its own Manager 200, Critical; the rest 503 naming the fault with a
    Retry-After); None when nothing does."""
    host = MGMT[sp]
    root = pair.http("/redfish/v1", host)
    own = pair.http(MANAGER + sp, host)
    peer = pair.http(MANAGER + other(sp), host)
    if root["status"] != 200 or own["status"] != 200:
        return "GET /redfish/v1 -> %s, GET %s%s -> %s (%s)" % (
            root["status"], MANAGER, sp, own["status"], own["err"] or own["text"])
    health = ((own["json"] or {}).get("Status") or {}).get("Health")
    if health != "Critical":
        return "own Manager Health %r" % health
    if peer["status"] != 503:
        return "GET %s%s on SP-%s -> %s, not 503" % (MANAGER, other(sp), sp, peer["status"])
    if "retry-after" not in peer["headers"]:
        return "503 without Retry-After: %r" % peer["headers"]
    if not mentions(error_text(peer), name):
        return "503 body does not name the %s fault (%s): %s" % (
            name, " or ".join(MENTIONS[name]), peer["text"])
    return None


def serves_degraded(pair, sp, name):
    return degraded_problem(pair, sp, name) is None


def wait_degraded(pair, sp, name, timeout, deadline=None):
    """Polls until SP-sp serves degraded for `name`; the failure says what was missing."""
    if deadline is not None:
        timeout = max(0.05, deadline - time.monotonic())
    wait_for(lambda: serves_degraded(pair, sp, name), timeout, 0.02,
             lambda: "SP-%s serving degraded on %s naming %s: %s" % (
                 sp, MGMT[sp], name, degraded_problem(pair, sp, name)))


def serves_full(pair, sp):
    """On the SP's own address: the full server (its peer's Manager answers) and Health OK."""
    host = MGMT[sp]
    own = pair.http(MANAGER + sp, host)
    peer = pair.http(MANAGER + other(sp), host)
    return (own["status"] == 200 and peer["status"] == 200 and
            ((own["json"] or {}).get("Status") or {}).get("Health") == "OK")


def check_degraded_subset(pair, sp, name):
    """The rest of the degraded subset, once: log services, Manager.Reset (routed: a bad
    ResetType is a 400, not a 503), and a full-only resource refused."""
    host = MGMT[sp]
    for path in (MANAGER + sp + "/LogServices", MANAGER + sp + "/LogServices/Log/Entries"):
        r = pair.http(path, host)
        assert r["status"] == 200, "degraded SP-%s: GET %s -> %s %s" % (sp, path, r["status"], r["text"])
    r = pair.http(MANAGER + sp + "/Actions/Manager.Reset", host, "POST", {"ResetType": "NoSuchReset"})
    assert r["status"] == 400, "degraded SP-%s: Manager.Reset not served: %s %s" % (sp, r["status"], r["text"])
    for path in ("/redfish/v1/Chassis", MANAGER + other(sp) + "/LogServices"):
        r = pair.http(path, host)
        assert r["status"] == 503 and "retry-after" in r["headers"] and mentions(error_text(r), name), (
            "degraded SP-%s: GET %s -> %s %r %s" % (sp, path, r["status"], r["headers"], r["text"]))
        err = (r["json"] or {}).get("error") or {}
        assert err.get("@Message.ExtendedInfo"), "not a Redfish error body: %s" % r["text"]


def wait_until(deadline, pred, what, interval=0.02):
    """wait_for with an absolute monotonic deadline shared by several conditions."""
    return wait_for(pred, max(0.05, deadline - time.monotonic()), interval, what)


def assert_roles_hold(pair, active, seconds, holders=True):
    """For `seconds`: `active` is the active SP, the other passive, and (holders) only
    `active` holds the floating IP."""
    end = time.monotonic() + seconds
    for _ in range(1000):
        r = pair.roles()
        assert r[active] == "active" and r[other(active)] == "passive", "roles moved: %r" % r
        if holders:
            assert pair.holders() == [active], "holders: %r" % pair.holders()
        if time.monotonic() > end:
            return
        time.sleep(0.05)


def assert_no_two_holders(watch):
    rc = watch.stop()
    recs = watch.records()
    two = [r for r in recs if r.get("two_holders")]
    assert not two, "two holders of the floating IP: %r" % two
    assert rc == 0, "holder-watch exit %s: %r" % (rc, recs[-5:])


def steady_pair(pair):
    """(active, passive) once both answer, healthy and in full mode."""
    act = pair.wait_active(timeout=5)
    pas = other(act)
    pair.wait_role(pas, "passive", 5)
    for sp in (act, pas):
        wait_for(lambda: serves_full(pair, sp), 5, 0.05, "SP-%s healthy in full mode" % sp)
    return act, pas


def carrier(sp):
    p = subprocess.run(["ip", "netns", "exec", NS[sp], "cat", "/sys/class/net/mgmt0/carrier"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=5)
    return p.stdout.strip() or p.stderr.strip()


def description(pair, sp):
    with open(pair.state / ("hw-%s.json" % sp.lower())) as f:
        return json.load(f)


# ---------------------------------------------------------------- the harness verbs

def test_fault_verbs_edit_the_hardware(pair):
    """What `fault`/`clear` change (the description, the LAN port), that status lists them,
    that a power cycle keeps them, and that an unknown name is refused with the list."""
    sp = "B"
    healthy = description(pair, sp)
    for name in ALL_FAULTS:
        pair.fault(sp, name)
    d = description(pair, sp)
    sensors = {s["id"]: s for s in d["sensors"]}
    assert sensors["CPU0Temp"]["reading"] == sensors["CPU0Temp"]["upper_critical"] + 10
    assert sensors["Fan0"]["failed"] is True and sensors["Fan0"]["reading"] == 0
    assert sensors["PSU0Power"]["failed"] is True and sensors["PSU0Power"]["reading"] == 0
    entries = {f["id"]: f for f in d["faults"]}
    assert entries["memory-ecc"] == {
        "id": "memory-ecc", "component": "DIMM0",
        "message_id": "Platform.1.3.2.MemoryUncorrectableError",
        "text": "Memory device 'DIMM0' detected an uncorrectable error.", "severity": "Critical"}
    assert entries["boot-media"]["message_id"] == "Platform.1.3.2.DeviceBootTimeout"
    assert entries["boot-media"]["component"] == "BootMedia0"
    assert "mgmt-link-down" not in entries, "spd finds a pulled cable from the carrier"
    # a pulled cable: mgmt0 keeps its address, has no carrier
    assert carrier(sp) == "0", carrier(sp)
    st = pair.status()
    assert st[sp]["faults"] == list(ALL_FAULTS), st[sp]
    assert st[other(sp)]["faults"] == [], st[other(sp)]

    # a power cycle mends nothing
    pair.kill(sp)
    pair.start(sp)
    assert description(pair, sp) == d
    wait_for(lambda: pair.spd_pid(sp), 5, 0.05, "spd of SP-%s running again" % sp)
    assert carrier(sp) == "0", "the cable came back with the power: %s" % carrier(sp)
    assert pair.status()[sp]["faults"] == list(ALL_FAULTS)

    pair.clear(sp, "fan-failed")
    assert pair.status()[sp]["faults"] == [n for n in ALL_FAULTS if n != "fan-failed"]
    pair.clear(sp)
    d = description(pair, sp)
    assert {k: v for k, v in d.items() if k != "faults"} == healthy and not d.get("faults"), d
    assert carrier(sp) == "1"
    assert pair.status()[sp]["faults"] == []

    p = pair.run("fault", sp, "disk-on-fire", check=False)
    assert p.returncode == 2, (p.returncode, p.stderr)
    for name in ALL_FAULTS:
        assert name in p.stderr, p.stderr


def test_loopback_mode_refuses_mgmt_link_down(tmp_path):
    """No root, no SPs: a loopback pair's state with its descriptions is enough."""
    sys.path.insert(0, str(SP_PAIR.parent))
    from sp_pair import common, hardware
    for sp in ("A", "B"):
        hardware.write_description(str(tmp_path / ("hw-%s.json" % sp.lower())), sp)
    common.write_pair_json(str(tmp_path), {"mode": "loopback", "state": str(tmp_path),
                                           "build": "/nonexistent", "array_id": "t"})

    def run(*args):
        return subprocess.run([PYTHON, str(SP_PAIR), "--state", str(tmp_path)] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=30)
    p = run("fault", "A", "mgmt-link-down")
    assert p.returncode == 1 and "loopback" in p.stderr and "netns" in p.stderr, p.stderr
    p = run("fault", "A", "memory-ecc")
    assert p.returncode == 0, p.stderr
    with open(tmp_path / "hw-a.json") as f:
        assert [x["id"] for x in json.load(f)["faults"]] == ["memory-ecc"]
    p = run("clear", "A")
    assert p.returncode == 0, p.stderr
    with open(tmp_path / "hw-a.json") as f:
        assert not json.load(f).get("faults")


# ---------------------------------------------------------------- acceptance (issue 4)

def test_critical_fault_on_the_passive_sp(pair):
    act, pas = steady_pair(pair)
    t0 = pair.fault(pas, "memory-ecc")
    deadline = t0 + MODE_SWITCH_S
    doc = wait_until(deadline, lambda: critical_with(pair, pas, "memory-ecc"),
                     "GET %s%s through %s: Critical with the memory fault" % (MANAGER, pas, FLOATING))
    faults = faults_of(doc)
    assert {"MessageId": "Platform.1.3.2.MemoryUncorrectableError", "Severity": "Critical"}.items() <= \
        next(f for f in faults if "DIMM0" in f["Message"]).items(), faults
    wait_until(deadline, lambda: pair.spweb(pas)[1] == "degraded",
               lambda: "spd of SP-%s running spweb --mode degraded: %r" % (pas, pair.spweb(pas)))
    wait_degraded(pair, pas, "memory-ecc", None, deadline)
    print("fault -> Critical through the floating IP and degraded: %.0f ms" % (
        (time.monotonic() - t0) * 1000))
    check_degraded_subset(pair, pas, "memory-ecc")
    # a faulty passive changes nothing for the clients
    assert pair.roles() == {act: "active", pas: "passive"}
    assert pair.holders() == [act]
    assert pair.spweb(act)[1] == "full"

    pair.clear(pas, "memory-ecc")
    wait_for(lambda: serves_full(pair, pas), 3, 0.05, "SP-%s back in full mode" % pas)
    assert faults_of(pair.manager(pas)) == []
    assert pair.roles() == {act: "active", pas: "passive"}


def test_critical_fault_on_the_active_sp_hands_over(pair):
    old, new = steady_pair(pair)
    watch = pair.holder_watch(duration=90)
    t0 = pair.fault(old, "temperature-critical")
    wait_until(t0 + HANDOVER_S, lambda: pair.holders() == [new],
               lambda: "SP-%s alone holding %s (holders %r)" % (new, FLOATING, pair.holders()))
    print("fault on the active -> SP-%s holds the floating IP: %.0f ms" % (
        new, (time.monotonic() - t0) * 1000))
    wait_for(lambda: (lambda r: r if r["status"] == 200 and r["headers"].get("x-dualsp-sp") == new
                          else None)(pair.client_http("/redfish/v1", timeout=1.0)),
                 2, 0.05, "the client served by SP-%s through %s" % (new, FLOATING))
    wait_for(lambda: critical_with(pair, old, "temperature-critical"), 2, 0.05,
             "SP-%s Critical with the temperature fault through %s" % (old, FLOATING))
    wait_degraded(pair, old, "temperature-critical", 2)
    assert pair.roles() == {new: "active", old: "passive"}

    t1 = pair.clear(old, "temperature-critical")
    wait_for(lambda: serves_full(pair, old), 3, 0.05, "SP-%s back in full mode" % old)
    print("clear -> full mode: %.0f ms" % ((time.monotonic() - t1) * 1000))
    assert_roles_hold(pair, new, 2.0)   # no preemption
    assert_no_two_holders(watch)


def test_both_sps_unhealthy_the_floating_ip_answers_degraded(pair):
    act, pas = steady_pair(pair)
    watch = pair.holder_watch(duration=90)
    pair.fault(pas, "fan-failed")
    wait_for(lambda: critical_with(pair, pas, "fan-failed") and pair.spweb(pas)[1] == "degraded",
             2, 0.05, "SP-%s Critical, spweb degraded" % pas)
    pair.fault(act, "psu-failed")
    wait_for(lambda: critical_with(pair, act, "psu-failed") and pair.spweb(act)[1] == "degraded",
             2, 0.05, "SP-%s Critical, spweb degraded" % act)
    # one of them is still active: the one that was
    assert_roles_hold(pair, act, 2.0)
    wait_degraded(pair, pas, "fan-failed", 2)
    wait_degraded(pair, act, "psu-failed", 2)
    root = pair.client_http("/redfish/v1")
    assert root["status"] == 200 and root["headers"].get("x-dualsp-sp") == act, root
    refused = pair.client_http(MANAGER + pas)
    assert refused["status"] == 503 and "retry-after" in refused["headers"], refused
    assert mentions(error_text(refused), "psu-failed"), refused["text"]
    assert critical_with(pair, act, "psu-failed"), pair.manager(act)
    assert critical_with(pair, pas, "fan-failed", host=MGMT[pas]), pair.manager(pas, MGMT[pas])
    assert_no_two_holders(watch)


def test_mgmt_link_down_on_the_active_sp_hands_over(pair):
    """A pulled management cable makes the SP unhealthy: it does not keep the floating IP
    while its peer is healthy, and it shows the fault (through the peer link)."""
    old, new = steady_pair(pair)
    t0 = pair.fault(old, "mgmt-link-down")
    wait_until(t0 + HANDOVER_S, lambda: new in pair.holders() and old not in pair.holders(),
               lambda: "SP-%s alone holding %s (holders %r)" % (new, FLOATING, pair.holders()))
    print("cable pulled -> SP-%s holds the floating IP: %.0f ms" % (new, (time.monotonic() - t0) * 1000))
    wait_for(lambda: (lambda r: r["status"] == 200 and r["headers"].get("x-dualsp-sp") == new)(
        pair.client_http("/redfish/v1", timeout=1.0)), 2, 0.05, "the client served by SP-%s" % new)
    wait_for(lambda: critical_with(pair, old, "mgmt-link-down"), 2, 0.05,
             lambda: "SP-%s Critical with the link fault through %s: %r" % (old, FLOATING, pair.manager(old)))

    pair.clear(old, "mgmt-link-down")
    wait_for(lambda: serves_full(pair, old), 3, 0.05, "SP-%s back in full mode" % old)
    assert_roles_hold(pair, new, 2.0)


def test_every_fault_makes_the_sp_critical(pair):
    """Each fault name alone, on the passive SP: Critical with the fault within 1 s (seen
    through the floating IP), OK again once cleared."""
    act, pas = steady_pair(pair)
    took = {}
    for name in ALL_FAULTS:
        t0 = pair.fault(pas, name)
        wait_for(lambda: critical_with(pair, pas, name), MODE_SWITCH_S, 0.02,
                 lambda: "%s: SP-%s Critical naming the fault (now %r)" % (
                     name, pas, faults_of(pair.manager(pas))))
        took[name] = round((time.monotonic() - t0) * 1000)
        pair.clear(pas, name)
        wait_for(lambda: (lambda d: d and d["Status"]["Health"] == "OK" and faults_of(d) == [])(
            pair.manager(pas)), 3, 0.05, "%s cleared: SP-%s OK" % (name, pas))
        wait_for(lambda: serves_full(pair, pas), 3, 0.05, "%s cleared: SP-%s in full mode" % (name, pas))
    print("fault -> Critical (ms): %s" % took)
    assert pair.roles() == {act: "active", pas: "passive"}


def test_kill_9_of_spweb_is_served_again_within_1s(pair):
    act, pas = steady_pair(pair)
    spd = pair.spd_pid(act)
    pid, mode = pair.spweb(act)
    assert pid and mode == "full", pair.processes(act)
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pair.http("/redfish/v1", MGMT[act], timeout=0.2)["status"] == 200 and
             pair.spweb(act)[0] not in (None, pid), RESTART_S, 0.01,
             "a new spweb of SP-%s serving %s" % (act, MGMT[act]))
    print("kill -9 spweb -> served again: %.0f ms" % ((time.monotonic() - t0) * 1000))
    wait_for(lambda: pair.http("/redfish/v1", FLOATING, timeout=0.2)["headers"].get("x-dualsp-sp") == act,
             1, 0.02, "the floating IP served by SP-%s" % act)
    assert pair.spd_pid(act) == spd, "spd itself restarted"
    assert pair.spweb(act)[1] == "full"
    assert pair.roles() == {act: "active", pas: "passive"}
    # spd removed the killed spweb's local-bus reply queue (it cannot remove its own).
    queues = [q for q in os.listdir("/dev/shm") if q.endswith("-bus-reply-%d" % pid)]
    assert not queues, "left behind: %s" % queues


def test_spweb_crash_loop_ends_in_degraded_mode(pair):
    act, pas = steady_pair(pair)
    killed = []
    t0 = time.monotonic()
    for n in range(5):
        pid = wait_for(lambda: (lambda p: p if p and p not in killed else None)(pair.spweb(pas)[0]),
                       2, 0.01, "spweb of SP-%s restarted after crash %d" % (pas, n))
        if n == 0:
            wait_for(lambda: pair.http("/redfish/v1", MGMT[pas], timeout=0.2)["status"] == 200,
                     2, 0.02, "spweb of SP-%s serving" % pas)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
    assert time.monotonic() - t0 < 50, "5 crashes took longer than the 60 s window"
    wait_for(lambda: critical_with(pair, pas, "crash-loop"), 3, 0.05,
             "SP-%s Critical with the crash-loop fault through %s" % (pas, FLOATING))
    wait_for(lambda: pair.spweb(pas)[1] == "degraded", 2, 0.05,
             lambda: "spd of SP-%s running spweb --mode degraded: %r" % (pas, pair.spweb(pas)))
    wait_degraded(pair, pas, "crash-loop", 2)
    assert pair.roles() == {act: "active", pas: "passive"}


def test_force_failover_under_load(pair):
    """~50 requests/s, a new connection each, timeout 2 s, for ~10 s; ForceFailover in the
    middle. Nothing fails except connections closed cleanly; the other SP is active."""
    old, new = steady_pair(pair)
    watch = pair.holder_watch(duration=90)
    probe = pair.probe(duration=11, interval=0.02, timeout=2.0)
    wait_for(lambda: len([r for r in probe.records() if r.get("ok")]) >= 100, 5, 0.05,
             "two seconds of answered load")
    t_post = time.monotonic()
    r = pair.client_http("%s%s/Actions/Manager.ForceFailover" % (MANAGER, old), method="POST",
                         body={}, timeout=3.0)
    # Everything below is checked before failing, so one run tells the whole story.
    problems = []
    if r["status"] not in (200, 202, 204):
        problems.append("ForceFailover answered %s %s %s" % (r["status"], r["err"], r["text"]))
    wait_for(lambda: pair.holders() == [new], 2, 0.02,
             lambda: "SP-%s alone holding %s (holders %r)" % (new, FLOATING, pair.holders()))
    pair.wait_active(new, 2)
    wait_for(lambda: probe.proc.poll() is not None, 20, 0.1, "the load to end")
    recs = sorted(probe.records(), key=lambda r: r["t"])
    clean = [r for r in recs if not r.get("ok") and r.get("err") == "incomplete response (0 bytes)"]
    failed = [r for r in recs if not r.get("ok") and r not in clean]
    late = [r for r in recs if r.get("ok") and r["t"] > t_post + 2]
    print("%d requests, %d closed cleanly, %d failed; by SP: %s" % (
        len(recs), len(clean), len(failed),
        {sp: sum(1 for r in recs if r.get("sp") == sp) for sp in ("A", "B")}))
    if len(recs) < 400:
        problems.append("the load was not ~50/s for ~10 s: %d requests" % len(recs))
    if failed:
        problems.append("%d failed requests: %r" % (len(failed), failed[:10]))
    if not late or any(r["sp"] != new for r in late):
        problems.append("answers after the failover: %r" % [r for r in late if r["sp"] != new][:5])
    assert not problems, "\n".join(problems)
    assert_roles_hold(pair, new, 1.0)
    assert_no_two_holders(watch)


def test_manager_shows_health_and_redundancy(pair):
    act, pas = steady_pair(pair)
    for sp in ("A", "B"):
        doc = pair.manager(sp)
        assert doc, "GET %s%s through %s" % (MANAGER, sp, FLOATING)
        assert doc["Status"]["Health"] == "OK" and faults_of(doc) == [], doc
        assert doc["Status"]["State"] == ("Enabled" if sp == act else "StandbySpare"), doc["Status"]
        red = doc.get("Redundancy")
        assert isinstance(red, list) and any(x.get("Mode") == "Failover" for x in red), (
            "SP%s Redundancy: %r" % (sp, red))
        assert "#Manager.ForceFailover" in (doc.get("Actions") or {}), (
            "SP%s Actions: %r" % (sp, doc.get("Actions")))


def redfishtool(*args):
    """redfishtool as shipped by Debian, run as a LAN client, as the pair's administrator
    (HTTP Basic: -A Basic -u -p; redfishtool takes the password only as an argument, so a
    failure's message shows the command without it) over plain http (-S Never)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    user, password = resolve_auth().split(":", 1)
    cmd = ["ip", "netns", "exec", NS["cli"], "redfishtool", "-r", FLOATING, "-A", "Basic",
           "-u", user, "-p", password, "-S", "Never", "-T", "5"] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60, env=env)
    shown = " ".join("***" if a == password else a for a in cmd)
    assert p.returncode == 0, "%s: exit %d\n%s\n%s" % (shown, p.returncode, p.stdout, p.stderr)
    return json.loads(p.stdout)


def test_redfishtool_lists_managers_and_reads_their_status(pair):
    if not os.access("/usr/bin/redfishtool", os.X_OK):
        pytest.fail("redfishtool missing (tools/install-deps installs it)")
    act, pas = steady_pair(pair)
    listed = redfishtool("Managers", "list")
    assert sorted(m["Id"] for m in listed["Members"]) == ["SPA", "SPB"], listed
    for sp in ("A", "B"):
        doc = redfishtool("Managers", "-I", "SP" + sp, "get")
        assert doc["Id"] == "SP" + sp
        assert doc["Status"]["Health"] == "OK", doc["Status"]
        assert doc["Status"]["State"] == ("Enabled" if sp == act else "StandbySpare"), doc["Status"]
