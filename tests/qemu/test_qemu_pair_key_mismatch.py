"""A board provisioned with another array's pair key (its config partition's pair.key; its
peer keeps the harness's key): every heartbeat, on every path including the midplane
(issue 13: slots are signed too), and every peer-link frame between them fails
authentication. Boards that cannot authenticate each other do not elect: neither takes the
floating IP (never two holders, and no takeover on a forged or foreign beat); each stays
passive, answers on its own management address, raises a fault naming the pair key as the
cause, and logs the refused frames. Neither takes a configuration change, so the first
password change cannot be made and nobody can log in (the Managers cannot be read): the
fault is checked on the consoles. Docs: docs/SECURITY.md, docs/FIRMWARE.md.

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_pair_key_mismatch.py
"""

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
    # Both answer on their own addresses (the service root needs no account).
    assert pair.service_roots() == {"A": "A", "B": "B"}
    # Nobody holds the address: a board that cannot authenticate its peer cannot know it is
    # not active, so it does not take the role (docs/SECURITY.md).
    for _ in range(3):
        assert not pair.client_http("/redfish/v1", timeout=1.0)["ok"], "the floating IP answers"
        time.sleep(0.5)
    # Nor does either take a configuration change: the first password change (a replicated
    # write) is refused on both, so no account can be made and the Manager resources (which
    # would show the fault) cannot be read: the fault is read from the consoles below.
    initial = open(os.path.join(pair.paths.run, "initial-password")).read().strip()
    for sp in ("A", "B"):
        rec = pair.client_http("/redfish/v1/AccountService/Accounts/admin", host=MGMT[sp],
                               method="PATCH", body={"Password": "x" * 24}, auth=initial,
                               timeout=30.0)  # two Argon2id under TCG (login, new hash), then the refusal
        assert rec["status"] == 503, (sp, rec["status"], rec["body"][:300])
    # The alarm each SP raises (spd logs every fault it raises; stderr is the console):
    # frames refused for a bad MAC, the SPs do not hold the same pair key.
    for sp in ("A", "B"):
        deadline = time.monotonic() + 30
        found = None
        while found is None and time.monotonic() < deadline:
            found = next((l for l in pair.console_tail(sp, 400)
                          if "fault raised" in l and "do not hold the same pair key" in l), None)
            if found is None:
                time.sleep(0.5)
        assert found is not None, "no pair-key fault on SP-%s's console:\n%s" % (
            sp, "\n".join(pair.console_tail(sp, 40)))
    # Still nobody after the faults.
    assert not pair.client_http("/redfish/v1", timeout=1.0)["ok"]
    # And the reason, in SP-A's log on its console: frames refused for their MAC.
    console = "\n".join(pair.console_tail("A", 400))
    assert "bad MAC" in console or "bad or missing HMAC" in console, console[-2000:]
