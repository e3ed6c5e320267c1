"""A board provisioned with another array's pair key (its config partition's pair.key; its
peer keeps the harness's key): every peer-link frame and network heartbeat between them
fails authentication. The midplane is not keyed, so the boards still see each other there
and one stays active. Nothing crosses the network unauthenticated: the active answers
about its peer only from what the midplane says (stale), raises the peer-link alarm naming
the pair key as the cause, and logs the refused frames. Docs: docs/FIRMWARE.md, docs/ELECTION.md (partitions).

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_pair_key_mismatch.py
"""

import json
import os
import tempfile
import time

import pytest

from qemu_support import booted_pair, config_partition, require_image

RUN_DIR = "/run/dualsp-qemu-test-key"
OTHER_KEY = "a5" * 32


@pytest.fixture(scope="module")
def pair():
    require_image()
    with tempfile.TemporaryDirectory(prefix="dualsp-qemu-key-") as tmp:
        disk = config_partition(os.path.join(tmp, "config-a.tar"),
                                {"pair.key": OTHER_KEY + "\n"})
        yield from booted_pair(RUN_DIR, "with mismatched keys", {"A": disk})


def test_mismatched_keys_authenticate_nothing_and_raise_the_peer_link_alarm(pair):
    act = pair.wait_active(timeout=10)
    passive = "B" if act == "A" else "A"
    pair.wait_role(passive, "passive", 20)
    # No forwarded answer: what the active knows of its peer comes from the midplane.
    doc, rec = pair.manager(passive, timeout=3.0)
    assert doc is not None, rec
    assert doc["Oem"]["DualSP"]["Stale"] is True, doc["Oem"]
    assert doc["Oem"]["DualSP"]["ServedBy"] == act, doc["Oem"]
    assert pair.holders() == [act]  # the midplane keeps the roles: never two active
    # The alarm an administrator sees: the peer link is down while heartbeats arrive, and
    # why (frames refused for a bad MAC: not the same pair key). A fault of the active SP
    # (the event log takes it once the two SPs can write it together, never here).
    deadline = time.monotonic() + 10
    found = None
    while found is None and time.monotonic() < deadline:
        doc, rec = pair.manager(act, timeout=3.0)
        for fault in ((doc or {}).get("Oem", {}).get("DualSP", {}).get("Faults") or []):
            if "peer link" in (fault.get("Message") or fault.get("Text") or "").lower():
                found = fault
        if found is None:
            time.sleep(0.5)
    assert found is not None, "no peer-link fault on SP-%s: %r" % (act, doc)
    text = found.get("Message") or found.get("Text") or ""
    assert "do not hold the same pair key" in text, found
    # And the reason, in SP-A's log on its console: frames refused for their MAC.
    console = "\n".join(pair.console_tail("A", 400))
    assert "bad MAC" in console or "bad or missing HMAC" in console, console[-2000:]
