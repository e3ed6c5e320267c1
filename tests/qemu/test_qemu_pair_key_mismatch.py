"""A board provisioned with another array's pair key (its config partition's pair.key; its
peer keeps the harness's key): every heartbeat, on every path including the midplane
(issue 13: slots are signed too), and every peer-link frame between them fails
authentication. Boards that cannot authenticate each other do not elect: neither takes the
floating IP (never two holders, and no takeover on a forged or foreign beat); each stays
passive, answers on its own management address, raises a fault naming the pair key as the
cause, and logs the refused frames. Docs: docs/SECURITY.md, docs/FIRMWARE.md.

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_pair_key_mismatch.py
"""

import json
import os
import tempfile
import time

import pytest

from qemu_support import booted_pair, config_partition, require_image
from qemu_pair.common import MGMT  # noqa: E402

RUN_DIR = "/run/dualsp-qemu-test-key"
OTHER_KEY = "a5" * 32


@pytest.fixture(scope="module")
def pair():
    require_image()
    with tempfile.TemporaryDirectory(prefix="dualsp-qemu-key-") as tmp:
        disk = config_partition(os.path.join(tmp, "config-a.tar"),
                                {"pair.key": OTHER_KEY + "\n"})
        yield from booted_pair(RUN_DIR, "with mismatched keys", {"A": disk}, expect_active=False)


def test_mismatched_keys_authenticate_nothing_elect_nobody_and_name_the_pair_key(pair):
    for sp in ("A", "B"):
        pair.wait_role(sp, "passive", 20)
    # Nobody holds the address: a board that cannot authenticate its peer cannot know it is
    # not active, so it does not take the role (docs/SECURITY.md).
    assert pair.holders() == [], pair.holders()
    # The alarm an administrator sees on each SP's own address: frames refused for a bad MAC,
    # the SPs do not hold the same pair key.
    for sp in ("A", "B"):
        deadline = time.monotonic() + 20
        found, doc = None, None
        while found is None and time.monotonic() < deadline:
            doc, rec = pair.manager(sp, host=MGMT[sp], timeout=3.0)
            for fault in ((doc or {}).get("Oem", {}).get("DualSP", {}).get("Faults") or []):
                if "pair key" in (fault.get("Message") or fault.get("Text") or ""):
                    found = fault
            if found is None:
                time.sleep(0.5)
        assert found is not None, "no pair-key fault on SP-%s: %r" % (sp, doc)
        text = found.get("Message") or found.get("Text") or ""
        assert "do not hold the same pair key" in text, found
    # Still nobody after the faults: the roles hold.
    assert pair.holders() == [], pair.holders()
    assert pair.roles() == {"A": "passive", "B": "passive"}
    # And the reason, in SP-A's log on its console: frames refused for their MAC.
    console = "\n".join(pair.console_tail("A", 400))
    assert "bad MAC" in console or "bad or missing HMAC" in console, console[-2000:]
