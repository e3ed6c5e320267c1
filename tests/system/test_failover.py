"""Failover: the passive SP takes the floating address over when the active one loses power
or hangs, clients see a short outage, never two holders, and no preemption on return."""

import time

from conftest import other, wait_for


def first(records, pred):
    for r in records:
        if pred(r):
            return r
    return None


def outage_report(probe_records, old, new, t_kill):
    """(kill -> first answer of the new SP, last ok of the old -> first ok of the new) in s."""
    news = [r for r in probe_records if r.get("ok") and r.get("sp") == new and r["t"] >= t_kill - 0.001]
    if not news:
        return None, None, None
    # the probe overlaps attempts and prints them as they complete: order by answer time
    first_new = min(news, key=lambda r: r["t"] + r["ms"] / 1000.0)
    answered = first_new["t"] + first_new["ms"] / 1000.0
    olds = [r for r in probe_records if r.get("ok") and r.get("sp") == old and r["t"] < first_new["t"]]
    gap = first_new["t"] - max(r["t"] for r in olds) if olds else None
    return answered - t_kill, gap, first_new


def assert_no_two_holders(watch):
    rc = watch.stop()
    recs = watch.records()
    two = [r for r in recs if r.get("two_holders")]
    summary = [r for r in recs if "samples" in r]
    print("holder-watch: %s" % (summary[-1] if summary else recs[-3:]))
    assert not two, "two holders of the floating IP: %r" % two
    assert rc == 0, "holder-watch exit %s: %r" % (rc, recs[-5:])
    assert summary and summary[-1]["samples"] > 100, summary


def assert_stays_passive(pair, sp, seconds):
    end = time.monotonic() + seconds
    for _ in range(1000):
        r = pair.roles()
        assert r[sp] == "passive" and r[other(sp)] == "active", "preemption or flap: %r" % r
        if time.monotonic() > end:
            return
        time.sleep(0.05)


def test_kill_of_the_active_sp(pair):
    old = pair.wait_active(timeout=2)
    new = other(old)
    pair.wait_role(new, "passive", 5)
    watch = pair.holder_watch(duration=120)
    probe = pair.probe(duration=60)
    wait_for(lambda: first(probe.records(), lambda r: r.get("ok") and r.get("sp") == old),
             3, 0.02, "the probe answered by SP-%s" % old)

    t_kill = pair.kill(old)
    wait_for(lambda: first(probe.records(), lambda r: r.get("ok") and r.get("sp") == new),
             3, 0.01, "an answer from SP-%s through the floating IP" % new)
    outage, gap, first_new = outage_report(probe.records(), old, new, t_kill)
    print("kill SP-%s: SP-%s answered %.1f ms after the power-off began; "
          "last ok from SP-%s -> first ok from SP-%s: %.1f ms" % (
              old, new, outage * 1000, old, new, (gap or float("nan")) * 1000))
    assert outage < 1.0, "outage %.3f s" % outage

    st = pair.status()
    assert st[new]["role"] == "active" and st[new]["holds_floating_ip"], st
    assert st[old]["state"] == "off" and not st[old]["holds_floating_ip"], st

    # The client now sends to the new holder's MAC (gratuitous ARP after the takeover).
    mac = pair.mac(new)
    entry = wait_for(lambda: (lambda e: e if e and e.get("lladdr") == mac else None)(pair.client_neigh()),
                     2, 0.05, "client ARP entry of the floating IP = SP-%s mgmt0 %s (now %r)" % (
                         new, mac, pair.client_neigh()))
    print("client neighbour entry: %s" % entry)

    # Power the old active SP on again: it comes back passive and stays so.
    pair.start(old)
    pair.wait_role(old, "passive", 15)
    assert_stays_passive(pair, old, 2.0)
    probe.stop()
    late_old = [r for r in probe.records() if r.get("ok") and r.get("sp") == old and r["t"] > first_new["t"]]
    assert not late_old, "the floating IP answered from SP-%s again: %r" % (old, late_old[:3])
    assert_no_two_holders(watch)


def test_hang_of_the_active_sp(pair):
    old = pair.wait_active(timeout=2)
    new = other(old)
    pair.wait_role(new, "passive", 5)
    watch = pair.holder_watch(duration=120)
    probe = pair.probe(duration=60)
    wait_for(lambda: first(probe.records(), lambda r: r.get("ok") and r.get("sp") == old),
             3, 0.02, "the probe answered by SP-%s" % old)

    t_hang = time.monotonic()
    pair.hang(old)
    wait_for(lambda: first(probe.records(), lambda r: r.get("ok") and r.get("sp") == new),
             5, 0.01, "an answer from SP-%s after SP-%s hung" % (new, old))
    outage, gap, _ = outage_report(probe.records(), old, new, t_hang)
    print("hang SP-%s: SP-%s answered %.1f ms after SIGSTOP; gap %.1f ms" % (
        old, new, outage * 1000, (gap or float("nan")) * 1000))
    pair.wait_active(new, 2)
    fenced = wait_for(lambda: [l for l in pair.power_log().splitlines()
                               if "power-off %s" % old in l and "-> ok" in l],
                      2, 0.05, "power.log: SP-%s powered off by the power controller" % old)
    print("power.log: %s" % fenced[0])
    st = pair.status()
    assert st[old]["state"] == "off", "the hung SP was not powered off: %r" % st[old]
    assert st[new]["holds_floating_ip"] and not st[old]["holds_floating_ip"], st
    mac = pair.mac(new)
    wait_for(lambda: (pair.client_neigh() or {}).get("lladdr") == mac, 2, 0.05,
             "client ARP entry of the floating IP = SP-%s mgmt0 %s (now %r)" % (
                 new, mac, pair.client_neigh()))

    pair.start(old)
    pair.wait_role(old, "passive", 15)
    assert_stays_passive(pair, old, 2.0)
    probe.stop()
    assert_no_two_holders(watch)


RETURNS = 15


def test_quick_return_after_kill_stays_passive(pair):
    """Kill the active SP and power it on again as soon as the other has taken over (what
    tools/bench/failover does): every time it must come back passive, with one holder.
    Beats queued on the survivor while the killed SP's link was down (its ARP queue) reach
    the returning SP first; they are old and must not decide the election."""
    watch = pair.holder_watch(duration=200)
    history = []
    for i in range(RETURNS):
        old = pair.wait_active(timeout=5)
        new = other(old)
        pair.wait_role(new, "passive", 10)
        t_kill = pair.kill(old)
        pair.wait_active(new, 3)
        pair.start(old)
        try:
            pair.wait_role(old, "passive", 10)
        except AssertionError:
            history.append((i, old, "did not come back passive: %r" % pair.roles()))
            break
        r = pair.roles()
        history.append((i, old, "back passive %.0f ms after the kill; roles %r" % (
            (time.monotonic() - t_kill) * 1000, r)))
        if r != {old: "passive", new: "active"}:
            break
    print("\n".join("run %d: killed SP-%s, %s" % h for h in history))
    assert all("back passive" in h[2] for h in history) and len(history) == RETURNS, history[-1]
    assert_no_two_holders(watch)
