"""Queries about the other SP are answered fresh through the active SP (peer link + router),
and stale, with their age, when the peer cannot answer (docs/DESIGN.md "The command path")."""

import json
import time

from conftest import MGMT, other, wait_for

DEADLINE_S = 0.5  # peer_link.request_timeout_ms default


def manager(pair, sp, host="198.18.0.10", timeout=3.0):
    rec = pair.client_get("/redfish/v1/Managers/SP" + sp, host=host, timeout=timeout)
    assert rec["ok"], rec
    return json.loads(rec["body"]), rec


def test_peer_manager_is_the_peers_own_fresh_answer(pair):
    act = pair.wait_active(timeout=5)
    pas = other(act)
    pair.wait_role(pas, "passive", 5)
    via_floating, _ = manager(pair, pas)
    direct, _ = manager(pair, pas, host=MGMT[pas])
    oem, own = via_floating["Oem"]["DualSP"], direct["Oem"]["DualSP"]
    assert oem["Stale"] is False, oem
    assert oem["AnsweredBy"] == pas and oem["ServedBy"] == act, oem
    assert oem["BootId"] == own["BootId"], (oem, own)
    assert abs(oem["UptimeSeconds"] - own["UptimeSeconds"]) <= 2, (oem, own)
    assert via_floating["Status"]["State"] == "StandbySpare", via_floating["Status"]

    # The passive SP restarts (Manager.Reset, forwarded through the active SP): a new boot id
    # and a reset uptime come back through the floating address.
    rec = pair.client_post("/redfish/v1/Managers/SP%s/Actions/Manager.Reset" % pas,
                           {"ResetType": "GracefulRestart"})
    assert rec["status"] in (200, 202, 204), rec
    def restarted():
        try:  # the peer may be mid-restart: no answer, or one cut short
            doc, _ = manager(pair, pas)
        except (AssertionError, ValueError):
            return None
        o = doc["Oem"]["DualSP"]
        return o if not o["Stale"] and o["BootId"] != own["BootId"] else None
    new = wait_for(restarted, 15, 0.2, "SP-%s answering with a new boot id" % pas)
    assert new["UptimeSeconds"] <= own["UptimeSeconds"] + 15, new
    assert pair.active() == act, "the reset of the passive SP moved the active role"


def check_stale_within_deadline(pair, about):
    doc, rec = manager(pair, about, timeout=3.0)
    oem = doc["Oem"]["DualSP"]
    assert rec["ms"] <= (DEADLINE_S + 0.1) * 1000, "took %.0f ms" % rec["ms"]
    assert oem["Stale"] is True and oem["AgeMs"] is not None and oem["AgeMs"] >= 0, oem
    return doc, rec


def test_hung_peer_is_answered_stale_within_the_deadline(pair):
    act = pair.wait_active(timeout=5)
    pas = other(act)
    pair.wait_role(pas, "passive", 5)
    fresh, _ = manager(pair, pas)
    pair.hang(pas)
    try:
        for _ in range(3):  # every request, not only the first, answers in time
            doc, rec = check_stale_within_deadline(pair, pas)
            assert doc["Oem"]["DualSP"]["BootId"] == fresh["Oem"]["DualSP"]["BootId"]
            print("hung SP-%s: stale answer in %.0f ms, age %s ms" % (
                pas, rec["ms"], doc["Oem"]["DualSP"]["AgeMs"]))
    finally:
        # The active SP fences a passive that stays silent on every path while the chassis
        # says it is stopped (docs/ELECTION.md rule 9): on a slow machine that can happen
        # before the three requests are done, and then there is nothing left to resume.
        if pair.run("resume", pas, check=False).returncode != 0:
            assert pair.grep(r"the hung passive SP-%s was fenced" % pas, sps=(act,)), \
                "SP-%s could not be resumed and was not fenced" % pas
    assert pair.active() == act


def test_dead_peer_is_answered_stale(pair):
    act = pair.wait_active(timeout=5)
    pas = other(act)
    pair.wait_role(pas, "passive", 5)
    manager(pair, pas)
    pair.kill(pas)
    doc, rec = check_stale_within_deadline(pair, pas)
    print("dead SP-%s: stale answer in %.0f ms, age %s ms" % (
        pas, rec["ms"], doc["Oem"]["DualSP"]["AgeMs"]))


def test_after_failover_the_survivor_answers_about_the_dead_sp_stale(pair):
    old = pair.wait_active(timeout=5)
    new = other(old)
    pair.wait_role(new, "passive", 5)
    pair.kill(old)
    pair.wait_active(new, 3)
    doc, rec = check_stale_within_deadline(pair, old)
    assert doc["Oem"]["DualSP"]["ServedBy"] == new, doc["Oem"]
    own, _ = manager(pair, new)
    assert own["Oem"]["DualSP"]["Stale"] is False and own["Status"]["State"] == "Enabled"


def test_log_entries_of_the_peer(pair):
    act = pair.wait_active(timeout=5)
    pas = other(act)
    pair.wait_role(pas, "passive", 5)
    rec = pair.client_get("/redfish/v1/Managers/SP%s/LogServices/Log/Entries?$top=20" % pas)
    assert rec["ok"], rec
    doc = json.loads(rec["body"])
    assert 0 < len(doc["Members"]) <= 20, doc
    assert any("SP-%s spd" % pas in m["Message"] for m in doc["Members"]), doc["Members"][:3]
    assert doc["Oem"]["DualSP"]["AnsweredBy"] == pas


def test_reset_of_the_active_sp_hands_over_first(pair):
    """Manager.Reset of the active SP: it hands the role over before it restarts, so the peer
    does not take its silence for a death and fence it; it comes back passive."""
    act = pair.wait_active(timeout=5)
    pas = other(act)
    pair.wait_role(pas, "passive", 5)
    watch = pair.holder_watch(duration=60)
    before, _ = manager(pair, act)
    rec = pair.client_post("/redfish/v1/Managers/SP%s/Actions/Manager.Reset" % act,
                           {"ResetType": "GracefulRestart"})
    assert rec["status"] == 204, rec
    pair.wait_active(pas, 3)

    def back_passive():
        try:  # while it reboots, its own address may not answer or cut an answer short
            doc, _ = manager(pair, act, host=MGMT[act])
        except (AssertionError, ValueError):
            return None
        o = doc["Oem"]["DualSP"]
        return o if o["BootId"] != before["Oem"]["DualSP"]["BootId"] and o["Role"] == "passive" else None
    wait_for(back_passive, 15, 0.2, "SP-%s restarted and passive" % act)
    assert "power-off" not in pair.power_log(), "the restarting SP was fenced: %s" % pair.power_log()
    assert pair.active() == pas
    assert watch.stop() == 0, "two holders of the floating IP: %r" % watch.records()[-5:]
