"""Issue 15's acceptance: 500 numbered create/change operations through spctl, one process
each, against the floating address while the active SP is killed twice (power loss, each
brought back as passive) and hands the role over once (spctl failover), all while the
operations run. spctl retries within its deadline and carries an Idempotency-Key on every
change (docs/SPCTL.md), so:

- no operation is reported failed (exit status 0 for each of the 500),
- none is applied twice (one volume per create, one Created event per volume, one rename
  event per rename),
- every one is present afterwards, on both SPs,
- and `spctl events follow`, started before the first operation, shows every event of the
  run once, in order, with consecutive ids (it resumes with Last-Event-ID over each
  failover), the same events as the array's log.

Operations: 400 volume creates (`op-001` ...) and 100 renames, every fifth operation renaming
the volume the one before it created (`op-004` -> `op-004-r005`), sent by 4 workers at once
so that each kill meets operations in flight (some made but not answered: their retry gets
the first result, Idempotent-Replayed).
"""

import collections
import hashlib
import json
import os
import signal
import ssl
import subprocess
import threading
import time

import pytest

from conftest import BUILD, FLOATING, MGMT, NS, STATE, event_log, other, wait_for
from sp_pair.redfish import http_request

SPCTL = BUILD / "tools" / "spctl" / "spctl"
STORAGE = "/redfish/v1/Storage/Array"
DRIVES = "/redfish/v1/Chassis/Enclosure/Drives"
POOLS = STORAGE + "/StoragePools"
VOLUMES = STORAGE + "/Volumes"
GIB = 1 << 30
OPERATIONS = 500
# The disruptions, by the number of operations answered before each starts.
KILL_1, KILL_2, HAND_OVER = 80, 230, 380
SPCTL_DEADLINE_S = 60
# Operations in flight at once (each its own spctl process), so a kill meets some mid-way.
WORKERS = 4


def pin_of_array_certificate():
    """sha256:<hex> of the certificate the SPs serve (SP-A's state directory, out of band)."""
    pem = (STATE / "spa" / "spweb-https.pem").read_text()
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    der = ssl.PEM_cert_to_DER_cert(pem[pem.index(begin):pem.index(end) + len(end)] + "\n")
    return "sha256:" + hashlib.sha256(der).hexdigest()


class Spctl:
    """spctl in the client namespace, as an administrator runs it: the password in the
    environment, the session token cached under its own XDG_CACHE_HOME, the array's
    certificate pinned."""

    def __init__(self, pair, tmp_path):
        user, password = pair.credentials()
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
                    "XDG_CACHE_HOME": str(tmp_path / "cache"), "SPCTL_USER": user,
                    "SPCTL_PASSWORD": password, "LC_ALL": "C.UTF-8"}
        self.pin = pin_of_array_certificate()

    def argv(self, *args):
        return ["ip", "netns", "exec", NS["cli"], str(SPCTL), "-a", FLOATING, "--pin", self.pin,
                "--deadline", str(SPCTL_DEADLINE_S), "--json", "-v", *args]

    def run(self, *args):
        p = subprocess.run(self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=SPCTL_DEADLINE_S + 30, env=self.env)
        return p.returncode, p.stdout, p.stderr

    def follow(self, after_id, out_path, err_path):
        return subprocess.Popen(self.argv("events", "follow", "--from", str(after_id)),
                                stdout=open(out_path, "w"), stderr=open(err_path, "w"),
                                env=self.env)


def make_pool():
    body = {"Name": "ops", "SupportedRAIDTypes": ["RAID5"],
            "CapacitySources": [{"ProvidingDrives": [
                {"@odata.id": DRIVES + "/Disk%d" % s} for s in range(6)]}]}
    r = http_request(FLOATING, POOLS, "POST", body, timeout=10)
    assert r["status"] == 201, r
    return r["headers"]["location"].rsplit("/", 1)[1]


def volumes_on(host):
    r = http_request(host, VOLUMES + "?$expand=.&$top=1000", timeout=20)
    assert r["status"] == 200, r
    return [m for m in r["json"]["Members"]]


class Disruptions(threading.Thread):
    """Kills the active SP at KILL_1 and KILL_2 answered operations (bringing it back as
    passive each time) and hands the role over with `spctl failover` at HAND_OVER."""

    def __init__(self, pair, spctl, answered):
        super().__init__(daemon=True)
        self.pair, self.spctl, self.answered = pair, spctl, answered
        self.log, self.error = [], None
        self.stop = threading.Event()

    def wait_answered(self, n):
        end = time.monotonic() + 240
        while self.answered() < n and not self.stop.is_set():
            assert time.monotonic() < end, "the operations did not reach %d" % n
            time.sleep(0.01)

    def note(self, what):
        self.log.append((self.answered(), time.monotonic(), what))
        print("after %d operations: %s" % (self.answered(), what))

    def kill_active(self):
        active = self.pair.wait_active(timeout=20)
        self.pair.kill(active)
        self.note("killed SP-%s (active)" % active)
        self.pair.wait_active(other(active), timeout=20)
        self.note("SP-%s active" % other(active))
        self.pair.start(active)
        self.pair.wait_role(active, "passive", timeout=60)
        self.note("SP-%s back, passive" % active)

    def hand_over(self):
        active = self.pair.wait_active(timeout=20)
        # The returning SP must hold the whole history before the active hands over to it.
        end = time.monotonic() + 60
        refusals = collections.Counter()
        for _ in range(600):
            code, out, err = self.spctl.run("failover", "--yes")
            if code == 0:
                break
            refusals[err.strip().splitlines()[-1] if err.strip() else "exit %d" % code] += 1
            if time.monotonic() >= end:
                raise AssertionError("spctl failover refused for 60 s: " +
                                     "; ".join("%d x %s" % (n, r) for r, n in refusals.items()))
            time.sleep(0.1)
        self.note("spctl failover on SP-%s" % active)
        self.pair.wait_active(other(active), timeout=20)
        self.note("SP-%s active" % other(active))

    def run(self):
        try:
            for n, step in ((KILL_1, self.kill_active), (KILL_2, self.kill_active),
                            (HAND_OVER, self.hand_over)):
                self.wait_answered(n)
                if self.stop.is_set():
                    return
                step()
        except BaseException as e:  # reported by the test
            self.error = e


@pytest.fixture
def spctl_ready():
    if not SPCTL.exists():
        pytest.fail("spctl is not built at %s" % SPCTL)


def test_500_operations_through_two_kills_and_a_hand_over_none_failed_none_doubled(
        pair, tmp_path, spctl_ready):
    pair.wait_active()
    wait_for(lambda: None not in pair.roles().values(), 10, 0.05, "both SPs answering")
    spctl = Spctl(pair, tmp_path)
    pool = make_pool()
    code, out, err = spctl.run("status")
    assert code == 0, (code, out, err)

    first_log = event_log()
    last_before = max(int(e["Id"]) for e in first_log) if first_log else 0
    follower = spctl.follow(last_before, tmp_path / "follow.out", tmp_path / "follow.err")

    done = [0]
    created = {}   # operation number -> volume id
    renamed = {}   # volume id -> its new name
    failures, timings = [], []
    retried = replayed = 0
    lock = threading.Lock()
    next_op = [1]

    def operation(n):
        if n % 5:
            code, out, err = spctl.run("volume", "create", "--pool", pool, "--name",
                                       "op-%03d" % n, "--capacity", str(GIB))
            if code == 0:
                with lock:
                    created[n] = json.loads(out)["Id"]
            return code, out, err
        # Renames the volume of the operation before, which another worker may still be making.
        end = time.monotonic() + SPCTL_DEADLINE_S + 30
        while n - 1 not in created and time.monotonic() < end:
            with lock:
                if any(f[0] == n - 1 for f in failures):
                    break
            time.sleep(0.01)
        vid = created.get(n - 1)
        if vid is None:
            return -1, "", "no volume from operation %d to rename" % (n - 1)
        code, out, err = spctl.run("volume", "set", vid, "--name", "op-%03d-r%03d" % (n - 1, n))
        if code == 0:
            with lock:
                renamed[vid] = "op-%03d-r%03d" % (n - 1, n)
        return code, out, err

    def worker():
        nonlocal retried, replayed
        for _ in range(OPERATIONS):
            with lock:
                n = next_op[0]
                if n > OPERATIONS:
                    return
                next_op[0] += 1
            t0 = time.monotonic()
            code, out, err = operation(n)
            with lock:
                timings.append((n, time.monotonic() - t0))
                retried += "; retry (" in err
                replayed += "Idempotent-Replayed" in err
                if code != 0:
                    failures.append((n, code, out[-300:], err[-600:]))
                done[0] += 1

    disruptions = Disruptions(pair, spctl, lambda: done[0])
    disruptions.start()
    started = time.monotonic()
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(OPERATIONS * (SPCTL_DEADLINE_S + 30))
        assert not any(w.is_alive() for w in workers), "a worker did not finish"
    finally:
        disruptions.stop.set()
        disruptions.join(120)
    elapsed = time.monotonic() - started
    assert disruptions.error is None, disruptions.error
    assert len(disruptions.log) == 8, disruptions.log  # 3 + 3 + 2 steps
    slow = sorted(timings, key=lambda t: -t[1])[:5]
    print("%d operations in %.1f s; %d retried, %d answered by a replay; slowest %s" % (
        OPERATIONS, elapsed, retried, replayed, ", ".join("#%d %.2f s" % s for s in slow)))
    assert not failures, failures[:10]

    # Every operation present once, on both SPs (the last one back resynchronised).
    active = pair.wait_active(timeout=20)
    wait_for(lambda: pair.roles()[other(active)] == "passive", 60, 0.1, "a passive peer")
    expected = {("op-%03d-r%03d" % (n, n + 1)) if (n + 1) % 5 == 0 else "op-%03d" % n
                for n in range(1, OPERATIONS + 1) if n % 5}
    for sp in ("A", "B"):
        def names():
            return collections.Counter(v["Name"] for v in volumes_on(MGMT[sp])
                                       if v["Name"].startswith("op-"))
        wait_for(lambda: set(names()) == expected, 30, 0.2,
                 lambda: "SP-%s's volumes: missing %s, unexpected %s" % (
                     sp, sorted(expected - set(names()))[:10],
                     sorted(set(names()) - expected)[:10]))
        doubled = {name: k for name, k in names().items() if k > 1}
        assert not doubled, "SP-%s has volumes made twice: %s" % (sp, doubled)

    # One Created event per volume, one rename per renamed volume: no change applied twice.
    log = [e for e in event_log() if int(e["Id"]) > last_before]
    created_events = collections.Counter()
    rename_events = collections.Counter()
    for e in log:
        origin = (e.get("Links") or {}).get("OriginOfCondition", {}).get("@odata.id", "")
        if not origin.startswith(VOLUMES + "/"):
            continue
        vid = origin.rsplit("/", 1)[1]
        if e.get("MessageId", "").endswith(".ResourceCreated"):
            created_events[vid] += 1
        elif e.get("MessageId", "").endswith(".ResourceChanged") and ": Name)" in e["Message"]:
            rename_events[vid] += 1
    assert set(created_events) == set(created.values()), "Created events and volumes differ"
    assert max(created_events.values()) == 1, {v: k for v, k in created_events.items() if k > 1}
    assert set(rename_events) == set(renamed), "rename events and renames differ"
    assert max(rename_events.values()) == 1, {v: k for v, k in rename_events.items() if k > 1}

    # The follower saw the same events, once each, in order, consecutive ids.
    last_id = max(int(e["Id"]) for e in log)

    def followed():
        out = []
        for line in (tmp_path / "follow.out").read_text().splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out
    try:
        wait_for(lambda: followed() and int(followed()[-1]["Id"]) >= last_id, 30, 0.2,
                 lambda: "spctl events follow to reach id %d (at %s)" % (
                     last_id, followed()[-1]["Id"] if followed() else None))
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            follower.wait(10)
        except subprocess.TimeoutExpired:
            follower.kill()
            follower.wait(5)
    seen = [int(e["Id"]) for e in followed()]
    print("events follow: %d events, ids %d..%d; its stderr:\n%s" % (
        len(seen), seen[0], seen[-1], (tmp_path / "follow.err").read_text()[-2000:]))
    assert seen == list(range(last_before + 1, last_before + 1 + len(seen))), (
        "not consecutive from %d, or doubled: %s" % (last_before + 1, seen))
    by_id = {int(e["Id"]): e["Message"] for e in log}
    shown = {int(e["Id"]): e["Message"] for e in followed()}
    assert {i: m for i, m in shown.items() if i <= last_id} == by_id
