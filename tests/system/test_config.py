"""Issue 5: nothing acknowledged is lost. The replicated configuration store and event log,
driven over Redfish through the floating IP while SPs are killed, the peer link is cut, the
journal is damaged and the disk is full."""

import json
import os
import random
import re
import shutil
import subprocess
import threading
import time

import pytest

from conftest import (FLOATING, MGMT, auth_header_line, event_log, http_request, other,
                      wait_for)

CHASSIS = "/redfish/v1/Chassis/Enclosure"
ENTRIES = "/redfish/v1/Managers/SPA/LogServices/Events/Entries"
TAG = re.compile(r"AssetTag = '([^']*)'")


def patch(host, path, body, timeout=1.5):
    return http_request(host, path, "PATCH", body, timeout)


def events(host=FLOATING, timeout=2.0):
    """The whole array event log as one SP serves it, oldest first."""
    return event_log(host, "A", timeout)


def answer_of(r):
    """A failed request's answer in a few words: the status and the Redfish message, or the
    connection error."""
    if r["status"] is None:
        return r["err"]
    err = (r["json"] or {}).get("error") or {}
    info = (err.get("@Message.ExtendedInfo") or [{}])[0]
    return "%s %s" % (r["status"], info.get("Message") or err.get("message") or r["text"])


def wait_takeover_logged(sp, timeout=5):
    """Until the event log shows SP `sp` active with a new epoch. A change the old active had
    replicated but not confirmed when it died is on the survivor at once, while its event shows
    only once the survivor has acknowledged it with its own takeover (docs/CONFIG-STORE.md,
    "Events are visible only when acknowledged"): read the log's history after this."""
    def logged():
        return any("SP-%s is now active" % sp in e["Message"] for e in events(timeout=1.0))
    wait_for(logged, timeout, what="SP-%s's takeover in the event log" % sp)


def tag_history(host=FLOATING):
    """AssetTag values in the order the event log recorded their changes."""
    out = []
    for e in events(host):
        m = TAG.search(e["Message"])
        if m and e["MessageId"].endswith("ResourceChanged"):
            out.append(m.group(1))
    return out


def asset_tag(host):
    r = http_request(host, CHASSIS, timeout=1.0)
    return r["json"].get("AssetTag") if r["status"] == 200 else None


def wait_served_by(pair, sp, timeout=5):
    """Until the floating IP is answered by SP `sp`'s web server."""
    def served():
        r = http_request(FLOATING, "/redfish/v1/Managers/SP" + sp, timeout=0.5)
        return r["status"] == 200 and r["json"]["Oem"]["DualSP"].get("ServedBy") == sp
    wait_for(served, timeout, what="the floating IP served by SP-" + sp)


def wait_in_sync(pair, timeout=5):
    """Both SPs serve the same configuration and event log."""
    def same():
        a, b = asset_tag(MGMT["A"]), asset_tag(MGMT["B"])
        if a != b:
            return False
        ea = http_request(MGMT["A"], ENTRIES + "?$top=1", timeout=1.0)
        eb = http_request(MGMT["B"], ENTRIES + "?$top=1", timeout=1.0)
        return (ea["status"] == eb["status"] == 200 and
                ea["json"]["Members@odata.count"] == eb["json"]["Members@odata.count"])
    wait_for(same, timeout, what="both SPs with the same configuration")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_acknowledged_patches_survive_a_kill_of_the_active_sp(pair, seed):
    """200 numbered PATCHes through the floating IP; the active SP is killed at a random
    moment. Every change that got a 2xx is on the new active, with its value, once, in order."""
    rng = random.Random(seed)
    kill_at = rng.randrange(20, 180)
    old = pair.wait_active()
    acked, failed = [], []
    killed = threading.Event()

    t0 = time.monotonic()

    def writer():
        deadline = time.monotonic() + 60
        for n in range(1, 201):
            if time.monotonic() > deadline:
                break
            value = "w%d-%04d" % (seed, n)
            r = patch(FLOATING, CHASSIS, {"AssetTag": value})
            if r["status"] and 200 <= r["status"] < 300:
                acked.append(value)
            else:
                failed.append((value, round(time.monotonic() - t0, 3), answer_of(r)))
            if n == kill_at:
                killed.set()

    t = threading.Thread(target=writer)
    t.start()
    assert killed.wait(30), "the writer did not reach the kill point"
    pair.kill(old)
    t.join(70)
    assert not t.is_alive()
    new = other(old)
    wait_served_by(pair, new)
    wait_takeover_logged(new)
    history = tag_history()
    mine = [v for v in history if v.startswith("w%d-" % seed)]
    assert len(mine) == len(set(mine)), "a change is in the event log twice: %s" % mine
    assert mine == sorted(mine), "changes out of order: %s" % mine
    missing = [v for v in acked if v not in mine]
    assert not missing, "acknowledged but lost on SP-%s: %s" % (new, missing)
    assert len(acked) >= 150, "too few acknowledged (%d, failed %d: %s)" % (
        len(acked), len(failed), failed)
    # The current value is the newest change the new active has, at least the last acked.
    assert asset_tag(FLOATING) == mine[-1] >= acked[-1]
    print("seed %d: kill after %d, %d acked, %d failed, %d in the log; failed: %s" % (
        seed, kill_at, len(acked), len(failed), len(mine), failed))


def test_with_the_peer_link_cut_changes_go_over_the_management_network(pair):
    """The dedicated peer link is cut: the peer link runs over the management network, so
    every change is still written on both SPs before it is acknowledged."""
    active = pair.wait_active()
    passive = other(active)
    pair.cut(active, "peer")
    def route():
        m = pair.manager(active)
        return m and m["Oem"]["DualSP"].get("PeerLinkRoute")
    wait_for(lambda: route() == "management", 3, 0.05,
             lambda: "the peer link over the management network (now %r)" % route())
    for n in range(20):
        r = patch(FLOATING, CHASSIS, {"AssetTag": "cut-%02d" % n}, timeout=8)
        assert r["status"] == 200, r
        # Written on the passive before the answer: no waiting here.
        assert asset_tag(MGMT[passive]) == "cut-%02d" % n
    wait_for(lambda: [e for e in events() if "runs over the management network" in e["Message"]],
             3, 0.1, "the route change as an event")
    pair.heal()
    wait_for(lambda: route() == "peer-link", 3, 0.05, "the peer link back on its own link")


def test_while_the_sps_cannot_talk_no_change_is_taken_and_nothing_diverges(pair):
    """The peer link and the management network between the SPs are cut (the midplane still
    carries heartbeats, so there is no failover): the active SP waits for its passive, then
    refuses the change (503, Retry-After) without applying it; the passive refuses at once on
    its own address (it never takes a change alone). After healing, changes are taken again
    and both SPs hold the same configuration."""
    active = pair.wait_active()
    passive = other(active)
    assert patch(FLOATING, CHASSIS, {"AssetTag": "before"})["status"] == 200
    pair.cut(active, "peer")
    pair.cut(active, "mgmt")
    # Once no route answers (declared down within peer_link.dead_after_ms), nothing is sent.
    # (A change sent in the instant of the cut gets no confirmation: 500, outcome unknown.)
    wait_for(lambda: (pair.manager(active) or {"Oem": {"DualSP": {}}})["Oem"]["DualSP"].get(
        "PeerLinkRoute", "x") is None, 3, 0.05, "no route of the peer link up")
    t0 = time.monotonic()
    r = patch(FLOATING, CHASSIS, {"AssetTag": "refused"}, timeout=8)
    took = time.monotonic() - t0
    assert r["status"] == 503, r
    assert r["headers"].get("retry-after"), r
    assert "not applied anywhere" in r["text"], r["text"]
    assert 1.5 <= took <= 6, took
    r = patch(MGMT[passive], CHASSIS, {"AssetTag": "refused-too"}, timeout=8)
    assert r["status"] == 503, r
    assert asset_tag(MGMT[active]) == asset_tag(MGMT[passive]) == "before"
    pair.heal()
    wait_for(lambda: patch(FLOATING, CHASSIS, {"AssetTag": "after"}, timeout=8)["status"] == 200,
             5, 0.2, "changes taken again after healing")
    wait_in_sync(pair, timeout=5)
    assert asset_tag(MGMT["A"]) == asset_tag(MGMT["B"]) == "after"
    history = tag_history()
    assert "refused" not in history and "refused-too" not in history, history
    ids = [int(e["Id"]) for e in events()]
    assert ids == list(range(ids[0], ids[0] + len(ids))), "event ids with gaps: %s" % ids


def _journal(pair, sp):
    return os.path.join(str(pair.state), "sp" + sp.lower(), "config", "journal.log")


@pytest.mark.parametrize("damage", ["torn", "flipped"])
def test_a_damaged_journal_is_recovered_at_start_up_with_an_event(pair, damage):
    active = pair.wait_active()
    passive = other(active)
    # In sync first, so the next changes reach the passive one by one, through its journal.
    assert patch(FLOATING, CHASSIS, {"AssetTag": "j-start"})["status"] == 200
    wait_for(lambda: asset_tag(MGMT[passive]) == "j-start", 3, what="the passive in sync")
    for n in range(5):
        assert patch(FLOATING, CHASSIS, {"AssetTag": "j-%d" % n})["status"] == 200
    pair.kill(passive)
    path = _journal(pair, passive)
    size = os.path.getsize(path)
    assert size > 100
    with open(path, "r+b") as f:
        if damage == "torn":
            f.write(b"")
            f.seek(0, os.SEEK_END)
            f.write(b"\x40\x00\x00\x00\x01\x02")  # a record header and a few bytes: torn
        else:
            f.seek(size // 2)
            b = f.read(1)
            f.seek(size // 2)
            f.write(bytes([b[0] ^ 0x20]))
    pair.start(passive)
    pair.wait_role(passive, "passive", timeout=10)
    wait_for(lambda: any("RecoveredAtStartUp" in e["MessageArgs"] for e in events()), 5,
             what="the recovery event")
    recovered = [e for e in events() if "RecoveredAtStartUp" in e["MessageArgs"]][-1]
    assert ("torn" if damage == "torn" else "checksum") in recovered["Message"], recovered
    # Nothing is lost: the passive has every change again (a flipped byte costs it the
    # records after it, which the active sends back).
    wait_for(lambda: asset_tag(MGMT[passive]) == "j-4", 5, what="the passive's copy complete")
    wait_in_sync(pair)


def test_a_full_disk_refuses_the_write_clearly_and_loses_nothing(pair):
    """The active SP's configuration directory is a tiny tmpfs, filled up: a PATCH is refused
    with 507 InsufficientStorage, the stored values stay, a fault is raised; with space again
    the next PATCH works, and the other SP gets it all when it returns."""
    if shutil.which("mount") is None:
        pytest.skip("no mount(8)")
    a = pair.wait_active()
    b = other(a)
    assert patch(FLOATING, CHASSIS, {"AssetTag": "kept"})["status"] == 200
    wait_for(lambda: asset_tag(MGMT[b]) == "kept", 2, what="the passive's copy")
    # SP-b's configuration moves to a 256 KiB tmpfs.
    pair.kill(b)
    cfg = os.path.join(str(pair.state), "sp" + b.lower(), "config")
    saved = cfg + ".saved"
    shutil.move(cfg, saved)
    os.makedirs(cfg)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", cfg], check=True)
    try:
        for name in os.listdir(saved):
            shutil.copy(os.path.join(saved, name), cfg)
        pair.start(b)
        pair.wait_role(b, "passive", timeout=10)
        wait_for(lambda: asset_tag(MGMT[b]) == "kept", 3, what="SP-%s back in sync" % b)
        # SP-a goes: SP-b, on the small disk, is the active SP (and alone).
        pair.kill(a)
        wait_served_by(pair, b, timeout=5)
        filler = os.path.join(cfg, "filler")
        subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=4k"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # tmpfs hands out whole pages: the journal's last page may still take a few changes.
        acked, refused = ["kept"], None
        for n in range(100):
            r = patch(FLOATING, CHASSIS, {"AssetTag": "fill-%02d" % n})
            if r["status"] == 507:
                refused = r
                break
            assert r["status"] == 200, r
            acked.append("fill-%02d" % n)
        assert refused, "100 changes stored on a full disk"
        text = refused["text"]
        assert "InsufficientStorage" in text and "No space left on device" in text, text
        assert asset_tag(FLOATING) == acked[-1], "a refused change was stored, or one was lost"

        def storage_fault():
            m = pair.manager(b)
            return m and "InsufficientStorage" in json.dumps(m) and m["Status"]["Health"] != "OK"
        wait_for(storage_fault, 2, what="a storage fault on SP-" + b)
        os.unlink(filler)
        r = patch(FLOATING, CHASSIS, {"AssetTag": "fits-again"})
        assert r["status"] == 200, r
        assert asset_tag(FLOATING) == "fits-again"
        # SP-a returns and gets everything, the changes made while it was away included.
        pair.start(a)
        wait_for(lambda: asset_tag(MGMT[a]) == "fits-again", 10, what="SP-%s's copy" % a)
    finally:
        pair.kill(b)
        subprocess.run(["umount", "-l", cfg], check=False)


class SseClient:
    """Follows /redfish/v1/EventService/SSE on the floating IP with a raw socket, and
    reconnects with Last-Event-ID when the connection ends (failover)."""

    def __init__(self, duration):
        self.ids = []
        self.reconnects = 0
        self.streaming = threading.Event()  # a stream's response headers arrived
        self.stop = threading.Event()
        self.deadline = time.monotonic() + duration
        self.thread = threading.Thread(target=self.follow, daemon=True)
        self.thread.start()

    def follow(self):
        import socket
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            try:
                s = socket.create_connection((FLOATING, 80), timeout=0.5)
            except OSError:
                time.sleep(0.02)
                continue
            s.settimeout(0.5)
            last = ("Last-Event-ID: %d\r\n" % self.ids[-1]) if self.ids else ""
            s.sendall(("GET /redfish/v1/EventService/SSE HTTP/1.1\r\nHost: %s\r\n%s"
                       "Accept: text/event-stream\r\n%s\r\n" % (FLOATING, auth_header_line(),
                                                                   last)).encode())
            buf = b""
            silent = 0
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    # The old active's socket may never close (a powered-off host sends no
                    # FIN): two silent seconds and the stream is taken as dead.
                    silent += 1
                    if silent >= 4:
                        break
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                silent = 0
                buf += chunk
                if not self.streaming.is_set() and b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    assert b" 200 " in head.split(b"\r\n")[0], head
                    self.streaming.set()
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    for line in block.split(b"\n"):
                        if line.startswith(b"id:"):
                            self.ids.append(int(line[3:].strip()))
            s.close()
            self.reconnects += 1

    def finish(self):
        self.stop.set()
        self.thread.join(5)


def test_an_sse_client_follows_events_across_a_kill_of_the_active_sp(pair):
    old = pair.wait_active()
    new = other(old)
    client = SseClient(duration=40)
    # Events before, around and after the kill: one per PATCH.
    assert client.streaming.wait(3), "the SSE stream did not open"
    for n in range(10):
        assert patch(FLOATING, CHASSIS, {"AssetTag": "sse-a%d" % n})["status"] == 200
    wait_for(lambda: len(client.ids) >= 10, 3, what="the first events on the stream")
    pair.kill(old)
    wait_served_by(pair, new)
    for n in range(10):
        r = patch(FLOATING, CHASSIS, {"AssetTag": "sse-b%d" % n})
        assert r["status"] == 200, r
    log_ids = [int(e["Id"]) for e in events()]
    first = client.ids[0]
    expected = [i for i in log_ids if i >= first]
    wait_for(lambda: len(client.ids) >= len(expected), 10, what="every event on the stream")
    client.finish()
    assert client.reconnects >= 1, "the stream did not move to the new active SP"
    assert client.ids == sorted(set(client.ids)), "duplicates or disorder: %s" % client.ids
    assert client.ids[:len(expected)] == expected, (client.ids, expected)


NEW_FLOATING = "198.18.0.20"
FLOATING_IF = "/redfish/v1/Managers/SP%s/EthernetInterfaces/Floating"


def test_a_new_floating_address_moves_at_once_and_survives_failover(pair):
    active = pair.wait_active()
    passive = other(active)
    r = http_request(FLOATING, FLOATING_IF % active, timeout=1.0)
    assert r["status"] == 200, r
    assert r["json"]["IPv4StaticAddresses"][0]["Address"] == FLOATING
    body = {"IPv4StaticAddresses": [{"Address": NEW_FLOATING, "SubnetMask": "255.255.255.0",
                                     "Gateway": "198.18.0.1"}]}
    # The answer may be cut: the address it travels on is the one that moves.
    r = patch(FLOATING, FLOATING_IF % active, body, timeout=3.0)
    assert r["status"] in (200, None), r

    def served_at(addr, sp):
        r = http_request(addr, "/redfish/v1/Managers/SP" + sp, timeout=0.5)
        return r["status"] == 200 and r["json"]["Oem"]["DualSP"]["ServedBy"] == sp
    wait_for(lambda: served_at(NEW_FLOATING, active), 3, what="the new floating address")
    assert http_request(FLOATING, "/redfish/v1", timeout=0.5)["status"] is None, \
        "the old floating address still answers"
    r = http_request(NEW_FLOATING, FLOATING_IF % passive, timeout=1.0)
    static = r["json"]["IPv4StaticAddresses"][0]
    assert (static["Address"], static["SubnetMask"], static["Gateway"]) == (
        NEW_FLOATING, "255.255.255.0", "198.18.0.1")
    # A bad setting is refused and changes nothing.
    bad = {"IPv4StaticAddresses": [{"Address": "198.18.0.255", "SubnetMask": "255.255.255.0"}]}
    assert patch(NEW_FLOATING, FLOATING_IF % active, bad)["status"] == 400
    pair.kill(active)
    wait_for(lambda: served_at(NEW_FLOATING, passive), 5,
             what="SP-%s holding the new floating address after the failover" % passive)
    assert http_request(FLOATING, "/redfish/v1", timeout=0.5)["status"] is None


RECEIVER = r"""
import http.server, sys
out = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out.write(body.decode() + "\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("198.18.0.100", int(sys.argv[1])), H)
s.timeout = 0.5
import time
end = time.monotonic() + 120
while time.monotonic() < end:
    s.handle_request()
"""


def test_a_subscription_is_replicated_and_gets_events_after_failover(pair, tmp_path):
    """POST a subscription through the floating IP; a receiver in the client namespace
    gets the change events by HTTP POST, from the active SP and, after a kill, from the
    new one (the subscription was replicated)."""
    received = tmp_path / "received.txt"
    receiver = subprocess.Popen(["ip", "netns", "exec", "dualsp-cli", "/usr/bin/python3", "-c",
                                 RECEIVER, "8088", str(received)])
    try:
        active = pair.wait_active()
        r = http_request(FLOATING, "/redfish/v1/EventService/Subscriptions", "POST",
                         {"Destination": "http://198.18.0.100:8088/events", "Protocol": "Redfish",
                          "Context": "systest"}, timeout=2.0)
        assert r["status"] == 201, r
        sub = r["headers"]["location"]
        assert http_request(MGMT[other(active)], sub, timeout=1.0)["status"] == 200

        def got(text):
            return received.exists() and text in received.read_text()
        assert patch(FLOATING, CHASSIS, {"AssetTag": "push-1"})["status"] == 200
        wait_for(lambda: got("push-1"), 5, what="the event delivered to the subscriber")
        first = [l for l in received.read_text().splitlines() if "push-1" in l][0]
        assert json.loads(first)["Context"] == "systest"
        pair.kill(active)
        wait_served_by(pair, other(active))
        assert patch(FLOATING, CHASSIS, {"AssetTag": "push-2"})["status"] == 200
        wait_for(lambda: got("push-2"), 5, what="delivery by the new active SP")
        # A bad subscription is refused.
        r = http_request(FLOATING, "/redfish/v1/EventService/Subscriptions", "POST",
                         {"Destination": "not a url", "Protocol": "Redfish"}, timeout=2.0)
        assert r["status"] == 400, r
    finally:
        receiver.terminate()
        receiver.wait(5)
