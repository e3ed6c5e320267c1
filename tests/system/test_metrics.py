"""Each SP's performance figures (docs/METRICS.md) through the floating address, with both SPs
as real processes: the figures set in each SP's hardware description (its `performance`
object, docs/HARDWARE-SIM.md) come back in that SP's metric report, the peer's as its own
fresh answer over the peer link (a change shows on the very next read), and a dead peer's
report is a 503 error, never the figures it had before. Every wait is a poll with a deadline.
"""

import json

from conftest import FLOATING, other, wait_for
from sp_pair.hardware import write_json
from sp_pair.redfish import http_request

REPORTS = "/redfish/v1/TelemetryService/MetricReports/"
FIGURES = ("CpuPercent", "MemoryPercent", "ReadIOPS", "WriteIOPS", "ReadBytesPerSecond",
           "WriteBytesPerSecond")
# One set per SP, all different, so no SP's report can pass for the other's.
SETS = {
    "A": {"cpu_percent": 11.5, "memory_percent": 21.25, "read_iops": 1200, "write_iops": 300.5,
          "read_bytes_per_second": 52428800, "write_bytes_per_second": 10485760},
    "B": {"cpu_percent": 33.75, "memory_percent": 44, "read_iops": 80, "write_iops": 2500,
          "read_bytes_per_second": 327680, "write_bytes_per_second": 163840000},
}
KEYS = {"CpuPercent": "cpu_percent", "MemoryPercent": "memory_percent", "ReadIOPS": "read_iops",
        "WriteIOPS": "write_iops", "ReadBytesPerSecond": "read_bytes_per_second",
        "WriteBytesPerSecond": "write_bytes_per_second"}


def set_performance(pair, sp, performance):
    """Edits SP-sp's hardware description as a test edits sensors: atomically (rename)."""
    path = pair.state / ("hw-%s.json" % sp.lower())
    with open(path) as f:
        doc = json.load(f)
    doc["performance"] = performance
    write_json(str(path), doc)


def report(sp, host=FLOATING, timeout=3.0):
    return http_request(host, REPORTS + "SP" + sp, "GET", None, timeout)


def figures_of(doc):
    return {v["MetricId"]: float(v["MetricValue"]) for v in doc["MetricValues"]}


def expected(performance):
    return {figure: float(performance[key]) for figure, key in KEYS.items()}


def report_with(sp, performance):
    """SP-sp's report through the floating address when it shows `performance`; else None."""
    r = report(sp)
    if r["status"] != 200 or figures_of(r["json"]) != expected(performance):
        return None
    return r["json"]


def test_each_sps_report_shows_its_own_figures_and_the_peers_fresh(pair):
    act = pair.wait_active(timeout=5)
    pas = other(act)
    pair.wait_role(pas, "passive", 5)
    for sp in ("A", "B"):
        set_performance(pair, sp, SETS[sp])
    for sp in ("A", "B"):
        doc = wait_for(lambda: report_with(sp, SETS[sp]), 5, 0.05,
                       lambda: "SP-%s's report with its figures (last: %s)" % (sp, report(sp)))
        assert doc["@odata.type"] == "#MetricReport.v1_5_2.MetricReport", doc
        assert doc["Id"] == "SP" + sp
        assert [v["MetricId"] for v in doc["MetricValues"]] == list(FIGURES), doc
        for v in doc["MetricValues"]:
            assert isinstance(v["MetricValue"], str), v
            assert v["Timestamp"] == doc["Timestamp"], v
            assert v["MetricProperty"] == "/redfish/v1/Managers/SP%s#/Oem/DualSP/%s" % (
                sp, v["MetricId"]), v
        oem = doc["Oem"]["DualSP"]
        # which SP answered (whose figures), which served the client, and that it is fresh
        assert oem["AnsweredBy"] == sp and oem["ServedBy"] == act, oem
        assert oem["Stale"] is False and oem["Problems"] is None, oem

    # The same figures on the peer's Manager (Oem.DualSP), where MetricProperty points.
    def manager_figures():
        doc = pair.manager(pas)
        oem = ((doc or {}).get("Oem") or {}).get("DualSP") or {}
        got = {f: oem.get(f) for f in FIGURES}
        return got if got == expected(SETS[pas]) else None
    wait_for(manager_figures, 5, 0.05, "SP-%s's Manager with its figures" % pas)

    # The peer's figures are its answer now: changed again, the very next read shows it.
    for n in range(3):
        changed = dict(SETS[pas], read_iops=5000 + n, cpu_percent=90.0 - n)
        set_performance(pair, pas, changed)
        r = report(pas)
        assert r["status"] == 200, r
        assert figures_of(r["json"]) == expected(changed), (n, r["json"])
        assert r["json"]["Oem"]["DualSP"]["AnsweredBy"] == pas

    # Without cpu_percent/memory_percent the SP's own /proc figures are shown.
    set_performance(pair, pas, {"read_iops": 7})
    r = report(pas)
    assert r["status"] == 200, r
    got = figures_of(r["json"])
    assert got["ReadIOPS"] == 7 and got["WriteIOPS"] == 0, got
    assert 0 <= got["CpuPercent"] <= 100 and 0 < got["MemoryPercent"] <= 100, got


def test_a_dead_peers_report_is_an_error_not_its_old_figures(pair):
    act = pair.wait_active(timeout=5)
    pas = other(act)
    pair.wait_role(pas, "passive", 5)
    set_performance(pair, pas, SETS[pas])
    set_performance(pair, act, SETS[act])
    wait_for(lambda: report_with(pas, SETS[pas]), 5, 0.05, "SP-%s's report" % pas)

    pair.kill(pas)
    for _ in range(3):  # every read, not only the first
        r = report(pas)
        assert r["status"] == 503, r
        error = (r["json"] or {}).get("error") or {}
        assert error.get("code") == "Base.1.22.1.ServiceTemporarilyUnavailable", r["json"]
        assert "SP-%s" % pas in error.get("message", ""), error
        assert "MetricValues" not in (r["json"] or {}), r["json"]
        assert r["headers"].get("retry-after"), r["headers"]
    # The survivor's own report is answered as before, and the dead SP's Manager (which may
    # describe a silent SP from its last known state) says it is stale: the report does not.
    own = report(act)
    assert own["status"] == 200 and figures_of(own["json"]) == expected(SETS[act]), own
    assert own["json"]["Oem"]["DualSP"]["ServedBy"] == act
    doc = pair.manager(pas, timeout=3.0)
    assert doc is None or doc["Oem"]["DualSP"]["Stale"] is True, doc
