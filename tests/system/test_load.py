"""No spurious failover while both SPs are healthy: CPU load on every core (stress-ng) and
packet loss on one heartbeat path (iptables statistic, NOTES-test-machine.md) at once."""

import os
import subprocess
import time

from conftest import NS, wait_for

LOAD_SECONDS = 15


def drop_on(ns, iface, probability):
    return ["ip", "netns", "exec", ns, "iptables", "-w", "-I", "INPUT", "-i", iface, "-p", "udp",
            "--dport", "7400", "-m", "statistic", "--mode", "random", "--probability",
            str(probability), "-j", "DROP"]


def test_no_failover_under_cpu_load_and_packet_loss(pair):
    active = pair.wait_active(timeout=5)
    before = pair.status()
    epoch = before[active]["epoch"]
    role_lines = len(pair.grep(r"role \w+ -> "))
    watch = pair.holder_watch(duration=LOAD_SECONDS + 30)
    probe = pair.probe(duration=LOAD_SECONDS + 10, interval=0.05, timeout=0.5)

    # 30 % loss on the peer link of both SPs, and CPU hogs on every core.
    for sp in ("A", "B"):
        subprocess.run(drop_on(NS[sp], "peer0", 0.3), check=True, timeout=10)
    stress = subprocess.Popen(["stress-ng", "--cpu", str(os.cpu_count() or 2), "--timeout",
                               "%ds" % LOAD_SECONDS, "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        stress.wait(LOAD_SECONDS + 20)
    finally:
        if stress.poll() is None:
            stress.kill()
            stress.wait(5)
    pair.heal()

    after = pair.status()
    assert after[active]["role"] == "active", after
    assert after[active]["epoch"] == epoch, "the epoch moved: a takeover happened (%s)" % after
    new_role_lines = pair.grep(r"role \w+ -> ")[role_lines:]
    assert not new_role_lines, "role changes under load: %s" % new_role_lines
    assert not pair.grep(r"alert PeerLost"), "peer declared dead under load"
    assert "power-off" not in pair.power_log(), "an SP was fenced: %s" % pair.power_log()

    probe.stop()
    answers = [r for r in probe.records() if "ok" in r]
    served = [r for r in answers if r["ok"]]
    assert answers and len(served) >= 0.9 * len(answers), "the floating IP stopped answering"
    assert {r["sp"] for r in served} == {active}, "another SP answered for the floating IP"
    assert watch.stop() == 0, "two holders of the floating IP: %s" % watch.records()[-5:]
