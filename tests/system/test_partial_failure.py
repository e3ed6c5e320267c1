"""Issue 11: correct under partial failure. Each test causes one of the failures a randomized
campaign found (tests/chaos) and checks the outcome: the floating address answers through a
sick peer link, an SP without carrier never takes the array from one that serves, gratuitous
ARP whenever it matters, nothing acknowledged is rolled back or lost, and a starting SP
with a stale store does not fence the serving active."""

import json
import random
import re
import subprocess
import threading
import time

import pytest

from conftest import (FLOATING, MGMT, NS, Pair, http_request, other, require_binaries,
                      require_root, wait_for)

CHASSIS = "/redfish/v1/Chassis/Enclosure"


def patch(host, body, timeout=8.0):
    return http_request(host, CHASSIS, "PATCH", body, timeout)


def asset_tag(host):
    r = http_request(host, CHASSIS, timeout=1.0)
    return r["json"].get("AssetTag") if r["status"] == 200 else None


def power_offs(pair, since_line=0):
    """The power-off requests in power.log after its first `since_line` lines."""
    lines = pair.power_log().splitlines()[since_line:]
    return [l for l in lines if re.search(r": 'power-off [AB]' ->", l)]


def served_by(sp, path="/redfish/v1"):
    r = http_request(FLOATING, path, timeout=0.5)
    return r["status"] == 200 and r["headers"].get("x-dualsp-sp") == sp


def hold_for(seconds, check, what):
    """check() must hold at every poll for `seconds` (polled every 50 ms)."""
    end = time.monotonic() + seconds
    for _ in range(int(seconds / 0.05) + 20):
        assert check(), "%s stopped holding after %.2f s" % (what, seconds - (end - time.monotonic()))
        if time.monotonic() > end:
            return
        time.sleep(0.05)


def steady(pair):
    """(active, passive) of a settled pair whose passive holds the whole configuration."""
    active = pair.wait_active()
    wait_for(lambda: pair.roles()[other(active)] == "passive", 5, 0.05, "a passive peer")
    return active, other(active)


def set_client_neigh(mac, state="reachable"):
    subprocess.run(["ip", "-n", NS["cli"], "neigh", "replace", FLOATING, "lladdr", mac,
                    "dev", "cli0", "nud", state], check=True, timeout=5)


def test_an_sp_without_carrier_never_takes_the_array_from_one_that_serves(pair):
    """Issue 11 (2): the passive's management cable is pulled (its mgmt heartbeat path goes
    silent with it), then its peer link and midplane are cut: it sees its peer dead, but it
    cannot serve clients, so it neither fences the active nor takes the address."""
    active, passive = steady(pair)
    watch = pair.holder_watch(duration=60)
    pair.fault(passive, "mgmt-link-down")
    start_line = len(pair.power_log().splitlines())
    pair.cut(passive, "peer")
    pair.cut(passive, "midplane")
    hold_for(3.0, lambda: served_by(active) and pair.holders() == [active],
             "SP-%s serving alone" % active)
    assert not power_offs(pair, start_line), "a power-off was requested: %s" % pair.power_log()
    assert pair.roles()[active] == "active"
    assert pair.grep(r"alert NoCarrier", sps=(passive,)), "no NoCarrier alert on SP-%s" % passive
    pair.heal()
    pair.clear(passive)
    wait_for(lambda: pair.roles() == {active: "active", passive: "passive"}, 5, 0.05,
             "the pair as it was")
    rc = watch.stop()
    two = [r for r in watch.records() if r.get("two_holders")]
    assert not two and rc == 0, two


def test_the_survivor_without_carrier_takes_over_when_the_cable_returns_and_announces_it(pair):
    """Issue 11 (3): the passive's cable is out when the active dies: it waits (no carrier,
    no takeover). When the cable is plugged back it fences the dead peer, takes the address
    and sends gratuitous ARPs: the client's ARP cache moves to it at once (it was on the
    dead SP's MAC), the address answers within a second."""
    active, passive = steady(pair)
    assert pair.client_http("/redfish/v1")["status"] == 200
    assert (pair.client_neigh() or {}).get("lladdr") == pair.mac(active)
    pair.fault(passive, "mgmt-link-down")
    pair.kill(active)
    wait_for(lambda: pair.grep(r"alert PeerLost", sps=(passive,)), 3, 0.05, "SP-%s lost its peer" % passive)
    hold_for(1.0, lambda: pair.roles()[passive] != "active" and pair.holders() == [],
             "nobody holding the address while the survivor has no carrier")
    t0 = pair.clear(passive, "mgmt-link-down")
    mac = pair.mac(passive)
    wait_for(lambda: (pair.client_neigh() or {}).get("lladdr") == mac, 2, 0.02,
             lambda: "the client's ARP entry on SP-%s's MAC %s (now %r)" % (
                 passive, mac, pair.client_neigh()))
    wait_for(lambda: pair.client_http("/redfish/v1", timeout=0.5)["headers"].get("x-dualsp-sp") == passive,
             2, 0.05, "the client served by SP-%s" % passive)
    print("cable back -> served by SP-%s in %.0f ms" % (passive, (time.monotonic() - t0) * 1000))


def test_gratuitous_arp_when_the_holders_carrier_returns(pair):
    """Issue 11 (3): the only SP's cable is pulled and plugged back while it holds the
    address; a client whose cache went wrong meanwhile (here: set to the other SP's MAC) is
    corrected by the gratuitous ARP sent on carrier-up, not after its cache times out."""
    active, passive = steady(pair)
    pair.kill(passive)  # nobody to hand over to: it keeps the address without carrier
    wait_for(lambda: pair.grep(r"alert PeerLost", sps=(active,)), 3, 0.05, "peer lost")
    pair.fault(active, "mgmt-link-down")
    hold_for(0.5, lambda: pair.holders() == [active], "SP-%s holding the address" % active)
    set_client_neigh(pair.mac(passive))
    time.sleep(1.2)  # past the neighbour table's locktime, so an ARP may update the entry
    assert (pair.client_neigh() or {}).get("lladdr") == pair.mac(passive)
    t0 = pair.clear(active, "mgmt-link-down")
    mac = pair.mac(active)
    wait_for(lambda: (pair.client_neigh() or {}).get("lladdr") == mac, 2, 0.02,
             lambda: "the client's ARP entry back on SP-%s (now %r)" % (active, pair.client_neigh()))
    print("carrier back -> client's cache corrected in %.0f ms" % ((time.monotonic() - t0) * 1000))
    assert pair.grep(r"carrier back on mgmt0 while holding the floating address", sps=(active,))


def test_periodic_gratuitous_arp_corrects_a_wrong_cache(tmp_path):
    """Issue 11 (3): while active, one gratuitous ARP every floating.garp_refresh_ms."""
    require_root()
    require_binaries()
    p = Pair()
    try:
        p.up("--set", "floating.garp_refresh_ms=400")
        active, passive = steady(p)
        set_client_neigh(p.mac(passive))
        time.sleep(1.1)
        mac = p.mac(active)
        t0 = time.monotonic()
        wait_for(lambda: (p.client_neigh() or {}).get("lladdr") == mac, 2, 0.02,
                 lambda: "the client's ARP entry corrected (now %r)" % p.client_neigh())
        print("wrong cache corrected by the periodic ARP in %.0f ms" % ((time.monotonic() - t0) * 1000))
    finally:
        p.down()


def test_a_starting_sp_with_a_stale_store_does_not_fence_the_serving_active(pair):
    """Issue 11 (6): the passive is powered off, the active takes changes alone, then every
    path of the active is cut and the old passive boots: it never hears its peer, the chassis
    says the peer is running, so it waits instead of fencing the up-to-date active. When the
    paths heal it becomes passive and receives the changes it lacked."""
    active, passive = steady(pair)
    pair.kill(passive)
    wait_for(lambda: pair.grep(r"alert PeerLost", sps=(active,)), 3, 0.05, "peer lost")
    r = patch(FLOATING, {"AssetTag": "while-alone"})
    assert r["status"] == 200, r
    pair.cut(active, "all")
    start_line = len(pair.power_log().splitlines())
    pair.start(passive)
    hold_for(3.0, lambda: served_by(active) and pair.holders() == [active],
             "SP-%s serving" % active)
    assert not power_offs(pair, start_line), pair.power_log()
    assert pair.roles()[passive] != "active"
    assert pair.grep(r"alert WaitingForPeer", sps=(passive,)), pair.log_text(passive)[-3000:]
    pair.heal()
    wait_for(lambda: pair.roles() == {active: "active", passive: "passive"}, 5, 0.05,
             "the returning SP passive")
    wait_for(lambda: asset_tag(MGMT[passive]) == "while-alone", 5, 0.05,
             "the returning SP holding the change it lacked")


def hammer(paths, seconds, clients=10):
    """`clients` threads GET the paths through the floating address in turn, for `seconds`:
    [(path, status, seconds, stale, err)] of every request (status None: no answer in 3 s, or
    the client's error in err; on another status, what the SP answered)."""
    out, lock = [], threading.Lock()
    end = time.monotonic() + seconds

    def client(k):
        n = k
        while time.monotonic() < end:
            path = paths[n % len(paths)]
            n += 1
            t0 = time.monotonic()
            r = http_request(FLOATING, path, timeout=3.0)
            took = time.monotonic() - t0
            stale = (r["json"] or {}).get("Oem", {}).get("DualSP", {}).get("Stale") \
                if isinstance(r["json"], dict) else None
            why = r["err"]
            if r["status"] not in (None, 200):
                # What the SP said, so that a failure names which refusal it was.
                why = "%s (Retry-After %s)" % (r["text"], r["headers"].get("retry-after"))
            with lock:
                out.append((path, r["status"], took, stale, why))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 10)
    return out


def summary(results, path):
    mine = sorted(r[2] for r in results if r[0] == path)
    if not mine:
        return "none"
    return "n=%d p50=%.0f ms p99=%.0f ms max=%.0f ms" % (
        len(mine), mine[len(mine) // 2] * 1000, mine[int(len(mine) * 0.99)] * 1000, mine[-1] * 1000)


@pytest.mark.parametrize("sickness", ["cut", "loss"])
def test_a_sick_peer_link_never_holds_the_floating_address(pair, sickness):
    """Issue 11 (1): the active SP's dedicated peer link is cut, or drops 30 % of its packets,
    under 10 clients: every request through the floating address is answered, its own
    resources and the peer's (over the management route, or stale at once), none waits out a
    peer-link deadline. (The 30 s, 20-client figures are tools/bench/sicklink.)"""
    active, passive = steady(pair)
    own, peer = "/redfish/v1/Managers/SP" + active, "/redfish/v1/Managers/SP" + passive
    if sickness == "cut":
        pair.cut(active, "peer")
    else:
        pair.run("loss", active, "--path", "peer", "--percent", "30")
    results = hammer([own, peer], 6.0)
    print("%s: own %s | peer %s" % (sickness, summary(results, own), summary(results, peer)))
    unanswered = [r for r in results if r[1] != 200]
    assert not unanswered, unanswered[:5]
    slow = [r for r in results if r[2] > 1.0]
    assert not slow, "requests that waited over 1 s: %s" % slow[:5]
    assert pair.roles() == {active: "active", passive: "passive"}
    if sickness == "cut":
        lines = pair.grep(r"peer link down: .*no frame from the peer", sps=(active,))
        assert lines, "the cut link was not declared down"
    # Now the management network too: answers about the peer are stale, and at once.
    pair.cut(active, "mgmt")
    time.sleep(0.8)  # both routes declared down
    results = hammer([own, peer], 3.0)
    print("both routes down: own %s | peer %s" % (summary(results, own), summary(results, peer)))
    assert not [r for r in results if r[1] != 200], [r for r in results if r[1] != 200][:5]
    peer_answers = [r for r in results if r[0] == peer]
    if sickness == "cut":
        assert peer_answers and all(r[3] is True for r in peer_answers), peer_answers[:5]
    else:  # the lossy link still answers now and then: fresh then, else stale
        assert peer_answers and any(r[3] is True for r in peer_answers), peer_answers[:5]
    assert max(r[2] for r in peer_answers) < 0.5, summary(results, peer)


def test_changes_acknowledged_with_the_peer_link_cut_survive_a_kill_and_refused_ones_stay_out(pair):
    """Issue 11 (5): with the active's dedicated peer link cut, five numbered changes are
    acknowledged (over the management route, written on both): after a kill of the active
    the survivor has all five. With the management network cut too, changes are refused
    (503) and after a kill the survivor has none of them."""
    active, passive = steady(pair)
    pair.cut(active, "peer")
    for n in range(5):
        r = patch(FLOATING, {"AssetTag": "cut-%d" % n})
        assert r["status"] == 200, r
    pair.cut(active, "mgmt")
    # Once no route answers (declared down within peer_link.dead_after_ms), nothing is sent.
    # (A change sent in the instant of the cut gets no confirmation: 500, outcome unknown.)
    wait_for(lambda: (pair.manager(active) or {"Oem": {"DualSP": {}}})["Oem"]["DualSP"].get(
        "PeerLinkRoute", "x") is None, 3, 0.05, "no route of the peer link up")
    for n in range(2):
        r = patch(FLOATING, {"AssetTag": "refused-%d" % n})
        # 503: refused. Once in CI (0dba19a, loaded machine) the answer was 500 "this SP's web
        # server stopped waiting for spd's answer (it is restarting)" with no restart in spd's
        # log; its cause is not found yet. An unknown outcome is honest; what must hold is
        # that it was not applied (checked on the survivor below).
        if r["status"] == 500 and "may have been applied" in json.dumps(r.get("json")):
            print("refused-%d: 500 outcome unknown: %s" % (n, r.get("json")))
            continue
        assert r["status"] == 503, r
    pair.kill(active)
    wait_for(lambda: served_by(passive), 5, 0.05, "SP-%s serving" % passive)
    assert asset_tag(FLOATING) == "cut-4"
    from test_config import tag_history
    history = tag_history()
    assert [v for v in history if v.startswith("cut-")] == ["cut-%d" % n for n in range(5)], history
    assert not [v for v in history if v.startswith("refused-")], history


def test_force_failover_after_a_change_with_the_peer_link_cut_loses_nothing(pair):
    """Issue 11 (4): the dedicated link is cut, a change is acknowledged, ForceFailover: the
    new active serves the change, and every event keeps its id (consecutive, none reused)."""
    active, passive = steady(pair)
    pair.cut(active, "peer")
    r = patch(FLOATING, {"AssetTag": "before-failover"})
    assert r["status"] == 200, r
    from test_config import events
    before = {e["Id"]: e["Message"] for e in events()}
    r = http_request(FLOATING, "/redfish/v1/Managers/SP%s/Actions/Manager.ForceFailover" % active,
                     "POST", {}, timeout=5)
    assert r["status"] in (200, 204), r
    wait_for(lambda: served_by(passive), 5, 0.05, "SP-%s serving" % passive)
    assert asset_tag(FLOATING) == "before-failover"
    pair.heal()
    wait_for(lambda: pair.roles() == {active: "passive", passive: "active"}, 5, 0.05, "roles swapped")
    after = {e["Id"]: e["Message"] for e in events()}
    changed = {i: (before[i], after.get(i)) for i in before if after.get(i) != before[i]}
    assert not changed, "events whose id now names another event: %s" % changed
    ids = sorted(int(i) for i in after)
    assert ids == list(range(ids[0], ids[0] + len(ids))), ids


def test_force_failover_hands_over_under_a_steady_stream_of_changes(pair):
    """A writer PATCHes back to back through the floating address while ForceFailover is asked
    three times, each of the current active: every accepted ForceFailover moves the role (the
    passive's beats may name the history of a moment ago, never a real gap: every change
    reaches it before it is acknowledged), and every acknowledged change is on the new active."""
    active, _ = steady(pair)
    stop = threading.Event()
    acked = []

    def writer():
        n = 0
        while not stop.is_set() and n < 2000:  # bounded in count, and by the test below
            r = patch(FLOATING, {"AssetTag": "stream-%d" % n}, timeout=3.0)
            if r["status"] == 200:
                acked.append("stream-%d" % n)
            n += 1
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        for round_ in range(3):
            wait_for(lambda: len(acked) >= 10 * (round_ + 1), 10, 0.02, "changes acknowledged")
            r = http_request(FLOATING, "/redfish/v1/Managers/SP%s/Actions/Manager.ForceFailover" %
                             active, "POST", {}, timeout=5)
            assert r["status"] in (200, 204), r
            new = other(active)
            wait_for(lambda: pair.roles() == {new: "active", active: "passive"}, 3, 0.02,
                     lambda: "SP-%s active after ForceFailover %d (roles %r; %s)" % (
                         new, round_ + 1, pair.roles(),
                         [l for _, l in pair.grep("ForceFailover abandoned")][-1:]))
            active = new
    finally:
        stop.set()
        t.join(10)
    assert not pair.grep("ForceFailover abandoned"), pair.grep("ForceFailover abandoned")
    from test_config import tag_history
    history = set(tag_history())
    lost = [v for v in acked if v not in history]
    assert not lost, "acknowledged changes missing from the event log: %s" % lost[:10]


def block_peer_link_tcp(on):
    """Drops (or stops dropping) the peer link's TCP (port 7500, both routes) in both SPs'
    namespaces, leaving the heartbeats: a link that is still connecting, as under CI load."""
    for ns in (NS["A"], NS["B"]):
        for chain, flag in (("INPUT", "--dport"), ("INPUT", "--sport"), ("OUTPUT", "--dport"),
                            ("OUTPUT", "--sport")):
            subprocess.run(["ip", "netns", "exec", ns, "iptables", "-w", "5",
                            "-I" if on else "-D", chain, "-p", "tcp", flag, "7500", "-j", "DROP"],
                           check=on, timeout=10, stderr=subprocess.DEVNULL)


@pytest.mark.parametrize("seed", range(1, 21))
def test_writes_from_the_first_moment_with_a_kill_in_the_first_second(seed):
    """Issue 11 (5), the start-up window: both SPs are powered on, a writer PATCHes numbered
    values through the floating address from the moment it answers, and the active SP is
    killed at a seeded random moment in the first second. The peer link is held back for a
    seeded random time from 0 to 1.5 s (the heartbeats pass): the window in which today's
    CI lost 101 acknowledged changes. Every 2xx is on the survivor and no 503 is."""
    require_root()
    require_binaries()
    rng = random.Random(seed)
    kill_after = rng.uniform(0.0, 1.0)
    link_after = rng.uniform(0.0, 1.5)
    p = Pair()
    acked, refused, unknown = [], [], []
    try:
        p.run("up", "--no-wait", timeout=60)
        block_peer_link_tcp(True)
        first = wait_for(lambda: (lambda r: r if r["status"] is not None else None)(
            http_request(FLOATING, "/redfish/v1", timeout=0.3)), 10, 0.01,
            "the floating address answering")
        active = first["headers"].get("x-dualsp-sp")
        assert active in ("A", "B"), first
        t_first = time.monotonic()
        unblock = threading.Timer(max(0.0, t_first + link_after - time.monotonic()),
                                  block_peer_link_tcp, args=(False,))
        unblock.start()
        # No change is accepted before the first password change (PasswordChangeRequired):
        # it is made at once, and the writer starts when it is done.
        p.first_login()
        stop = threading.Event()

        def writer():
            n = 0
            while not stop.is_set() and n < 400:
                value = "s%02d-%03d" % (seed, n)
                n += 1
                r = patch(FLOATING, {"AssetTag": value}, timeout=4)
                if r["status"] is not None and 200 <= r["status"] < 300:
                    acked.append(value)
                elif r["status"] == 503:
                    refused.append(value)
                else:
                    unknown.append(value)
        t = threading.Thread(target=writer)
        t.start()
        time.sleep(max(0.0, t_first + kill_after - time.monotonic()))
        p.kill(active)
        survivor = other(active)
        wait_for(lambda: served_by(survivor), 10, 0.02, "SP-%s serving" % survivor)
        time.sleep(0.3)
        stop.set()
        t.join(20)
        from test_config import tag_history
        history = tag_history()
        mine = [v for v in history if v.startswith("s%02d-" % seed)]
        unblock.join(5)
        print("seed %d: link at +%.0f ms, kill at +%.0f ms: %d acked, %d refused, %d unknown, "
              "%d in the log" % (seed, link_after * 1000, kill_after * 1000, len(acked),
                                 len(refused), len(unknown), len(mine)))
        lost = [v for v in acked if v not in mine]
        assert not lost, "acknowledged but not on SP-%s: %s" % (survivor, lost)
        present = [v for v in refused if v in mine]
        assert not present, "refused (503) but on SP-%s: %s" % (survivor, present)
        assert len(mine) == len(set(mine)), "a change twice in the log"
    finally:
        p.down()
