"""Election: one active SP serving the floating address; partitions change no role."""

import json
import os
import time

import pytest

from conftest import FLOATING, Pair, other, require_binaries, wait_for


def test_one_active_serving_the_floating_address(pair):
    act = wait_for(pair.active, 2.0, 0.05, "exactly one active SP within 2 s of `up`")
    pas = other(act)
    st = pair.status()
    print("after up: %s" % json.dumps({sp: {k: st[sp][k] for k in ("role", "epoch", "health",
                                                                     "holds_floating_ip")}
                                        for sp in ("A", "B")}))
    assert st[act]["holds_floating_ip"] is True
    assert st[pas]["holds_floating_ip"] is False
    assert st[pas]["role"] in ("passive", "starting")

    # A client on the LAN reaches the active SP through the floating address.
    root = pair.client_get("/redfish/v1")
    assert root["ok"], root
    assert root["sp"] == act, root
    body = json.loads(root["body"])
    assert body["Links"]["ManagerProvidingService"]["@odata.id"] == "/redfish/v1/Managers/SP" + act

    mgr = pair.client_get("/redfish/v1/Managers/SP" + act)
    assert mgr["ok"], mgr
    doc = json.loads(mgr["body"])
    assert doc["Oem"]["DualSP"]["Role"] == "active", doc
    assert doc["Status"]["Health"] in ("OK", "Warning"), doc


@pytest.mark.parametrize("path", ["peer", "mgmt", "midplane"])
def test_partition_of_one_path_changes_no_role(pair, path):
    """Silence on some paths only is a partition: an alert, and roles stay as they are."""
    act = wait_for(pair.active, 2.0, 0.05, "exactly one active SP")
    pas = other(act)
    wait_for(lambda: pair.roles()[pas] == "passive", 5, 0.05, "SP-%s passive" % pas)
    before = len(pair.grep("partition"))
    watch = pair.holder_watch(duration=60)

    pair.cut(act, path)
    t_cut = time.monotonic()
    samples = 0
    for _ in range(1000):                       # ~1 s of role samples
        r = pair.roles()
        samples += 1
        assert r == {act: "active", pas: "passive"}, \
            "roles changed %.3f s after cutting the %s path of SP-%s: %r" % (
                time.monotonic() - t_cut, path, act, r)
        if time.monotonic() - t_cut > 1.0:
            break
        time.sleep(0.02)
    alerts = wait_for(lambda: pair.grep("partition")[before:], 2.0, 0.05,
                      "a partition alert in spd.log after cutting the %s path" % path)
    print("cut %s of SP-%s: %d role samples unchanged; alert: %s" % (path, act, samples, alerts[0]))
    st = pair.status()
    assert st[act]["holds_floating_ip"] and not st[pas]["holds_floating_ip"]

    pair.heal()
    t_heal = time.monotonic()
    for _ in range(1000):                       # and nothing moves when the path comes back
        r = pair.roles()
        assert r == {act: "active", pas: "passive"}, "roles changed after heal: %r" % r
        if time.monotonic() - t_heal > 0.5:
            break
        time.sleep(0.05)
    assert pair.client_get()["sp"] == act
    assert watch.stop() == 0, "two holders of the floating IP: %r" % watch.records()[-5:]


def test_isolation_on_every_path_leaves_one_holder(pair):
    """All three heartbeat paths of the active SP cut: to the passive this looks like a dead
    peer, so it fences and takes over; the fenced one is off. Never two holders."""
    act = wait_for(pair.active, 2.0, 0.05, "exactly one active SP")
    pas = other(act)
    wait_for(lambda: pair.roles()[pas] == "passive", 5, 0.05, "SP-%s passive" % pas)
    watch = pair.holder_watch(duration=60)
    pair.cut(act, "all")
    st = wait_for(lambda: (lambda s: s if sum(s[x]["holds_floating_ip"] for x in "AB") == 1 and
                           (s["A"]["state"] == "off" or s["B"]["state"] == "off") else None)(pair.status()),
                  5, 0.05, "one SP fenced and one holder")
    holder = "A" if st["A"]["holds_floating_ip"] else "B"
    print("isolating SP-%s: SP-%s holds the address; power.log:\n%s" % (act, holder, pair.power_log()))
    assert "power-off" in pair.power_log()
    pair.heal()
    rc = watch.stop()
    assert not [r for r in watch.records() if r.get("two_holders")], watch.records()
    assert rc == 0, watch.records()[-3:]


def test_loopback_pair(tmp_path):
    """`sp-pair up --loopback`: no namespaces; the floating address is 127.0.0.10:8080."""
    require_binaries()
    p = Pair(state=tmp_path / "lo")
    try:
        p.up("--loopback")
        st = p.status()
        assert st["mode"] == "loopback"
        act = [sp for sp in ("A", "B") if st[sp]["role"] == "active"]
        assert len(act) == 1, st
        act = act[0]
        from sp_pair import redfish
        status, headers, _ = redfish.get("127.0.0.10", 8080, "/redfish/v1", timeout=1)
        assert status == 200 and headers.get("x-dualsp-sp") == act
        assert st[act]["holds_floating_ip"] and not st[other(act)]["holds_floating_ip"]
        t_kill = p.kill(act)

        def new_holder_answers():
            try:
                s, h, _ = redfish.get("127.0.0.10", 8080, "/redfish/v1", timeout=0.2)
                return s == 200 and h.get("x-dualsp-sp") == other(act)
            except OSError:
                return False
        wait_for(new_holder_answers, 3, 0.01, "SP-%s on 127.0.0.10:8080" % other(act))
        print("loopback takeover: %.0f ms after the kill" % ((time.monotonic() - t_kill) * 1000))
        bad = p.run("cut", "A", "--path", "peer", check=False)
        assert bad.returncode != 0 and "loopback" in bad.stderr
    finally:
        p.down()
