"""Slow clients against both SPs as real processes (docs/SECURITY.md "Hostile input"): bodies
dripped one byte at a time and event streams held open must not take every CivetWeb worker.

spweb runs with a short request timeout (web.request_timeout_ms, spweb --request-timeout-ms)
so the whole-body deadline shows within the test; the drip interval is well below it, so only
the deadline on the whole body (not CivetWeb's per-read timeout) can end a drip.
"""

import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import FLOATING, NS, PYTHON, Pair, require_binaries, require_root, wait_for
from sp_pair.redfish import http_request

TIMEOUT_MS = 1500          # web.request_timeout_ms for these tests
DRIPS = 12                 # as many as spweb had workers before
DRIP_INTERVAL_S = 0.5      # a byte every half second: no single read ever times out
MAX_CLIENT_REQUESTS = 4    # web.max_client_requests for these tests (the default is 12)
MAX_STREAMS = 4            # kMaxEventStreams
GET_BOUND_S = 1.0          # a plain GET from elsewhere while the attack goes on
ATTACKER = Path(__file__).resolve().parent / "slow_client.py"
EXTRA_SOURCES = ["198.18.0.101", "198.18.0.102", "198.18.0.103"]


@pytest.fixture
def pair():
    require_root()
    require_binaries()
    p = Pair()
    try:
        p.up("--set", "web.request_timeout_ms=%d" % TIMEOUT_MS,
             "--set", "web.max_client_requests=%d" % MAX_CLIENT_REQUESTS)
        yield p
    finally:
        p.down()


def add_client_addresses(addresses):
    for a in addresses:
        subprocess.run(["ip", "-n", NS["cli"], "addr", "add", a + "/24", "dev", "cli0"],
                       check=True, timeout=5)


class Attack:
    """slow_client.py in the client namespace, by pid."""

    def __init__(self, *args):
        cmd = ["ip", "netns", "exec", NS["cli"], PYTHON, str(ATTACKER), "--target", FLOATING] + \
              [str(a) for a in args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline()
        assert line.strip(), "attacker printed nothing: %s" % self.proc.stderr.read()
        assert json.loads(line).get("ready"), line

    def result(self, timeout=40):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate(timeout=5)
        lines = [l for l in out.splitlines() if l.startswith("{")]
        assert lines, "attacker: %s" % err
        return json.loads(lines[-1])


def timed_get():
    """A GET from the root namespace (another source address than the attacker's)."""
    t0 = time.monotonic()
    r = http_request(FLOATING, "/redfish/v1", timeout=5.0)
    return r, time.monotonic() - t0


def test_dripped_bodies_get_408_and_leave_workers_for_others(pair):
    pair.wait_active()
    attack = Attack("--sources", "198.18.0.100", "--drips", DRIPS,
                    "--drip-interval", DRIP_INTERVAL_S, "--duration", 15)
    r, took = timed_get()
    assert r["status"] == 200 and took < GET_BOUND_S, \
        "GET during the drip attack: %s in %.2f s (%s)" % (r["status"], took, r["err"])
    out = attack.result()
    statuses = [d["status"] for d in out["drips"]]
    # One client is served MAX_CLIENT_REQUESTS at once; the others are refused at once.
    assert statuses.count(503) == DRIPS - MAX_CLIENT_REQUESTS, statuses
    assert statuses.count(408) == MAX_CLIENT_REQUESTS, statuses
    bound = TIMEOUT_MS / 1000.0 + DRIP_INTERVAL_S + 1.0
    for d in out["drips"]:
        assert d["ended_s"] is not None and d["ended_s"] < bound, out["drips"]
    # The workers are back: the same client is served again.
    assert pair.client_http("/redfish/v1")["status"] == 200


def test_event_streams_have_their_own_budget(pair):
    pair.wait_active()
    add_client_addresses(EXTRA_SOURCES)
    sources = ["198.18.0.100"] + EXTRA_SOURCES
    # Three streams from each of four addresses (under each client's limit) and twelve drips
    # from the first: more than every worker spweb has.
    attack = Attack("--sources", ",".join(sources), "--streams-per-source", 3, "--drips", DRIPS,
                    "--drip-interval", DRIP_INTERVAL_S, "--duration", 6)
    r, took = timed_get()
    assert r["status"] == 200 and took < GET_BOUND_S, \
        "GET with streams and drips open: %s in %.2f s (%s)" % (r["status"], took, r["err"])
    out = attack.result()
    stream_statuses = [s["status"] for s in out["streams"]]
    assert stream_statuses.count(200) == MAX_STREAMS, stream_statuses
    assert stream_statuses.count(503) == len(stream_statuses) - MAX_STREAMS, stream_statuses
    # The first address's streams count among its requests: fewer drips get in from there.
    first = [s["status"] for s in out["streams"] if s["source"] == "198.18.0.100"]
    admitted = MAX_CLIENT_REQUESTS - first.count(200)
    statuses = [d["status"] for d in out["drips"]]
    assert statuses.count(408) == admitted, (first, statuses)
    assert statuses.count(503) == DRIPS - admitted, (first, statuses)
