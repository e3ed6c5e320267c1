"""Issue 11: correct under partial failure. Each test causes one of the failures a randomized
campaign found (tests/chaos) and checks the outcome: the floating address answers through a
sick peer link, an SP without carrier never takes the array from one that serves, gratuitous
ARP whenever it matters, nothing acknowledged is rolled back or lost, and a starting SP
with a stale store does not fence the serving active."""

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
    wait_for(lambda: pair.grep(r"alert NoCarrier", sps=(passive,)), 3, 0.05,
             "SP-%s's NoCarrier alert" % passive)
    hold_for(3.0, lambda: served_by(active) and pair.holders() == [active],
             "SP-%s serving alone" % active)
    assert not power_offs(pair, start_line), "a power-off was requested: %s" % pair.power_log()
    assert pair.roles()[active] == "active"
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
    wait_for(lambda: pair.grep(r"alert NoCarrier", sps=(active,)), 3, 0.05, "NoCarrier on SP-%s" % active)
    assert pair.holders() == [active]
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
    wait_for(lambda: pair.grep(r"alert WaitingForPeer", sps=(passive,)), 5, 0.05,
             lambda: "SP-%s waiting for its peer:\n%s" % (passive, pair.log_text(passive)[-3000:]))
    hold_for(2.0, lambda: served_by(active) and pair.holders() == [active],
             "SP-%s serving" % active)
    assert not power_offs(pair, start_line), pair.power_log()
    assert pair.roles()[passive] != "active"
    pair.heal()
    wait_for(lambda: pair.roles() == {active: "active", passive: "passive"}, 5, 0.05,
             "the returning SP passive")
    wait_for(lambda: asset_tag(MGMT[passive]) == "while-alone", 5, 0.05,
             "the returning SP holding the change it lacked")
