"""Unit tests of the campaign's invariant checks (no root, no pair):
/usr/bin/python3 -m pytest -q tests/chaoslib/test_checks.py"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True

from chaoslib import checks  # noqa: E402
from chaoslib.clients import classify  # noqa: E402
from chaoslib.model import Model, PowerTimeline  # noqa: E402


def entry(i, msg, mid="ResourceEvent.1.4.3.ResourceChanged"):
    return {"Id": str(i), "Message": msg, "MessageId": mid, "MessageArgs": []}


def tag(v):
    return "One or more resource properties have changed. (AssetTag = '%s')" % v


def w(v, outcome, t=1.0):
    return {"value": v, "outcome": outcome, "status": 200, "t0": t, "t1": t + 0.01}


def test_classify():
    assert classify({"status": 200, "json": None, "text": ""}) == "acknowledged"
    assert classify({"status": 204, "json": None, "text": ""}) == "acknowledged"
    assert classify({"status": 503, "json": {"error": {"message": "unhealthy"}}, "text": ""}) == "refused"
    assert classify({"status": 503, "json": {"error": {"message": "x; the change may have been "
                                                                  "applied: read it back"}},
                     "text": ""}) == "unknown"
    assert classify({"status": None, "json": None, "text": None, "err": "timeout"}) == "unknown"
    assert classify({"status": 500, "json": None, "text": ""}) == "unknown"


def test_writes():
    log = [entry(1, tag("c-1-1")), entry(2, tag("c-1-2")), entry(3, tag("c-1-2")),
           entry(4, tag("c-1-4")), entry(5, tag("c-1-5")),
           entry(6, "Both SPs changed 'chassis/AssetTag' (AssetTag = 'c-1-6')", "X.ResourceErrorsDetected")]
    recs = [w("c-1-1", "acknowledged"), w("c-1-2", "acknowledged"), w("c-1-3", "acknowledged"),
            w("c-1-4", "refused"), w("c-1-5", "unknown"), w("c-1-6", "unknown"),
            w("c-1-7", "refused")]
    found = checks.writes(recs, log, "c-1-")
    bad = sorted(f.key[1] for f in found if not f.note)
    assert bad == ["c-1-2", "c-1-3", "c-1-4"], found   # twice, lost, refused but applied
    assert checks.writes([w("c-1-1", "unknown"), w("c-1-9", "unknown")], log[:1], "c-1-") == []


def sse_rec(i, msg, conn=0, t=1.0, mid="ResourceEvent.1.4.3.ResourceChanged"):
    return {"id": i, "ev": {"Message": msg, "MessageId": mid, "MessageArgs": []}, "t": t,
            "conn": conn}


def test_sse_consecutive_ids_pass():
    log = [entry(i, tag("v%d" % i)) for i in range(1, 6)]
    recv = [sse_rec(1, tag("v1")), sse_rec(2, tag("v2")), sse_rec(3, tag("v3"), conn=1),
            sse_rec(4, tag("v4"), conn=1)]
    assert checks.sse(recv, log) == []


def test_sse_findings():
    log = [entry(1, tag("v1")), entry(2, tag("v2")), entry(4, tag("v4")),
           entry(5, tag("v5") + " (restored from SP-A, event 5 there)"),
           entry(6, "SP-B is now active", "ResourceEvent.1.4.3.ResourceStateChanged"),
           entry(7, tag("v7"))]
    recv = [sse_rec(1, tag("v1")), sse_rec(4, tag("v4")),        # 2 missed, 3 a hole
            sse_rec(6, tag("vX")),                               # 5 restored (note); 6 changed
            sse_rec(6, "SP-B is now active", conn=1,
                    mid="ResourceEvent.1.4.3.ResourceStateChanged"),  # repeated
            sse_rec(9, tag("v9"), conn=1)]                       # 7 missed, 8 hole, 9 gone
    found = checks.sse(recv, log)
    kinds = sorted((f.key[0], f.note) for f in found)
    assert kinds == [("changed", False), ("gone", False), ("holes", False), ("missed", False),
                     ("missed", False), ("order", False), ("restored", True)], found
    holes = [f for f in found if f.key == ("holes",)][0]
    assert "2 id(s)" in holes.text and "3, 8" in holes.text


def test_sse_skip_announced_by_a_missing_changes_alert_is_a_note():
    log = [entry(1, tag("v1")), entry(2, "SP-B is now active (epoch 18)"),
           entry(3, "Lost the heartbeats of SP-A on every path."),
           entry(4, "SP-A became active without the configuration versions after 17.968 up to "
                    "18.970 (events 2 to 3), which SP-B acknowledged alone while SP-A was down"),
           entry(5, tag("v5")), entry(6, tag("v6"))]
    found = checks.sse([sse_rec(1, tag("v1")), sse_rec(4, log[3]["Message"], conn=1),
                        sse_rec(6, tag("v6"), conn=1)], log)
    kinds = sorted((f.key[0], f.note) for f in found)
    assert kinds == [("missed", False), ("restored", True)], found   # 2-3 announced, 5 missed
    assert "5 (" in [f for f in found if f.key[0] == "missed"][0].text


def probe(ts, sp="A", ok=True):
    return [{"t": t, "ms": 2.0, "status": 200 if ok else None, "sp": sp} for t in ts]


def grid(a, b, step=0.02):
    return [a + k * step for k in range(int(round((b - a) / step)))]


def test_outage_charged_only_while_an_sp_could_serve():
    power = PowerTimeline(boot_grace=2.0)
    power.record("A", 0.0, "running")
    power.record("B", 0.0, "running")
    model = Model(0.0)
    # answers until 10, none until 12.5, then again: 2.5 s outage, both SPs could serve
    recs = probe(grid(0, 10)) + [{"t": t, "ms": 1000, "status": None} for t in grid(10, 12.5)] + \
        probe(grid(12.5, 14), "B")
    outs, found = checks.outages(recs, power, model, limit=1.0)
    assert len(outs) == 1 and not found[0].note and found[0].invariant == 4
    # the same outage while A was off and B hung: nobody could serve, no violation
    p2 = PowerTimeline(boot_grace=2.0)
    p2.record("A", 0.0, "running")
    p2.record("B", 0.0, "running")
    p2.record("A", 9.9, "off")
    p2.record("B", 9.9, "stopped")
    p2.record("B", 12.0, "running")          # resumed at 12.0: 0.5 s before the answers
    assert checks.outages(recs, p2, model, limit=1.0)[1] == []
    # B's cable pulled and A unhealthy while B runs: A can take over only if B is not running
    m3 = Model(0.0)
    m3.apply({"kind": "fault", "sp": "B", "name": "mgmt-link-down", "t_start": 5.0, "t_end": 5.01})
    m3.apply({"kind": "fault", "sp": "A", "name": "fan-failed", "t_start": 5.0, "t_end": 5.01})
    assert checks.outages(recs, power, m3, limit=1.0)[1] == []
    # a starved reader (no attempt at all for 2 s) is a note, not a violation
    starved = probe(grid(0, 10)) + probe(grid(12.5, 14), "B")
    found = checks.outages(starved, power, model, limit=1.0)[1]
    assert len(found) == 1 and found[0].note


def test_role_change_needs_a_cause():
    recs = probe(grid(0, 20)) + probe(grid(20, 30), "B")
    model = Model(0.0)
    cut = {"kind": "cut", "sp": "A", "path": "peer", "t_start": 17.0, "t_end": 17.1}
    model.apply(cut)
    found = checks.needless_role_changes(recs, [cut], model, quiet=5.0)
    assert len(found) == 1 and found[0].invariant == 5
    # a kill in the window explains it
    kill = {"kind": "kill", "sp": "A", "t_start": 18.0, "t_end": 18.1}
    assert checks.needless_role_changes(recs, [cut, kill], model, quiet=5.0) == []
    # a settle that powered an SP on again explains it
    settle = {"kind": "settle", "t_start": 16.0, "t_end": 21.0, "restarts": [18.5]}
    assert checks.needless_role_changes(recs, [cut, settle], model, quiet=5.0) == []
    settle["restarts"] = []
    assert len(checks.needless_role_changes(recs, [cut, settle], model, quiet=5.0)) == 1
    # every path cut (on either side) explains it
    m2 = Model(0.0)
    steps = [{"kind": "cut", "sp": "A", "path": "peer", "t_start": 16.0, "t_end": 16.1},
             {"kind": "cut", "sp": "B", "path": "mgmt", "t_start": 16.2, "t_end": 16.3},
             {"kind": "cut", "sp": "A", "path": "midplane", "t_start": 16.4, "t_end": 16.5}]
    for s in steps:
        m2.apply(s)
    assert checks.needless_role_changes(recs, steps, m2, quiet=5.0) == []
    # loss on the last clean path: not judged
    m3 = Model(0.0)
    steps = [{"kind": "cut", "sp": "A", "path": "peer", "t_start": 16.0, "t_end": 16.1},
             {"kind": "cut", "sp": "A", "path": "midplane", "t_start": 16.2, "t_end": 16.3},
             {"kind": "loss", "sp": "B", "path": "mgmt", "percent": 30, "t_start": 16.4, "t_end": 16.5}]
    for s in steps:
        m3.apply(s)
    assert checks.needless_role_changes(recs, steps, m3, quiet=5.0) == []


def test_holders():
    assert checks.holders([{"holds": True, "sp": "A", "t": 1}]) == []
    f = checks.holders([{"two_holders": True, "t": 2.0, "order": "ABA"}])
    assert len(f) == 1 and f[0].invariant == 1


def test_slow_reads_are_notes():
    a = probe(grid(0, 5)) + probe(grid(7, 8))            # about A: 2 s without an answer
    b = probe(grid(0, 8), "A")                            # about B: answered all along
    notes = checks.slow_reads({"A": a, "B": b})
    assert len(notes) == 1 and notes[0].note and notes[0].key[1] == "A"
    assert checks.slow_reads({"A": probe(grid(0, 5)) + probe(grid(7, 8)),
                              "B": probe(grid(0, 5)) + probe(grid(7, 8))}) == []
    # the other reader answered only once in the middle: not "the other was answered"
    assert checks.slow_reads({"A": probe(grid(0, 5)) + probe(grid(7, 8)),
                              "B": probe(grid(0, 5)) + probe([6.0]) + probe(grid(7, 8))}) == []
