"""The shared drive shelf and the front end (issue 16, docs/QEMU-PAIR.md "Shelf and front
end"): both boards see the same shelf drives (raw files attached to both VMs, vdb.. with the
same serials), each reports its front-end NIC eth2 as its iSCSI port iSCSI0 with its target
IQN and portal, the client on the front-end network reaches both portal addresses, and the
image has loaded the LIO target and mounted configfs. No target listens on 3260 yet (the LIO
back end programs it once volumes are mapped): that is not asserted here.

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_shelf_frontend.py
"""

import json
import subprocess
import time

import pytest

from qemu_support import booted_pair, require_image  # puts tools/ on sys.path
from qemu_pair.common import (FE_CLI_ADDR, FRONTEND, ISCSI_PORT, MGMT, NS_CLI,  # noqa: E402
                              SHELF_DRIVE_MIB, SHELF_DRIVES, shelf_serial)

RUN_DIR = "/run/dualsp-qemu-test-shelf"
SPS = ("A", "B")
SHELF = ["vd" + chr(ord("b") + n) for n in range(SHELF_DRIVES)]   # vda: the config disk


def iqn(sp):
    return "iqn.2026-12.com.dualsp:qemu.sp-%s" % sp.lower()


@pytest.fixture(scope="module")
def pair():
    require_image()
    yield from booted_pair(RUN_DIR, "with the shelf and the front end")


def get_json(pair, path, host, timeout=3.0):
    rec = pair.client_http(path, timeout=timeout, host=host)
    assert rec["ok"] and rec["status"] == 200, (host, path, rec.get("status"), rec.get("err"))
    return json.loads(rec["body"]), rec


def poll(fn, timeout):
    """fn() until it returns a truthy value or the deadline; the last value either way."""
    end = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last or time.monotonic() > end:
            return last
        time.sleep(0.2)


def drives_of(pair, sp):
    """{id: Drive} as SP-<sp> reports them on its own address."""
    coll, rec = get_json(pair, "/redfish/v1/Chassis/Enclosure/Drives", MGMT[sp])
    out = {}
    for m in coll.get("Members", []):
        doc, _ = get_json(pair, m["@odata.id"], MGMT[sp])
        out[doc["Id"]] = doc
    return out, rec


def test_both_sps_see_the_same_shelf_drives(pair):
    seen = {}
    for sp in SPS:
        drives, rec = drives_of(pair, sp)
        seen[sp] = drives
        assert sorted(drives) == SHELF, (sp, sorted(drives), rec.get("sp"))
        for n, name in enumerate(SHELF):
            d = drives[name]
            assert d["CapacityBytes"] == SHELF_DRIVE_MIB * 1024 * 1024, (sp, d)
            assert d["SerialNumber"] == shelf_serial(n), (sp, d)
    # The same drive (by serial) under the same name on both SPs: one shelf, dual-ported.
    assert ({k: v["SerialNumber"] for k, v in seen["A"].items()}
            == {k: v["SerialNumber"] for k, v in seen["B"].items()})


def ports_of(pair, sp, host):
    coll, _ = get_json(pair, "/redfish/v1/Storage/Array/Controllers/SP%s/Ports" % sp, host)
    out = {}
    for m in coll.get("Members", []):
        doc, _ = get_json(pair, m["@odata.id"], host)
        out[doc["Id"]] = doc
    return out


def test_each_sp_reports_its_front_end_iscsi_port(pair):
    # Each SP publishes its ports through the store (once a second): both SPs, asked on
    # their own addresses, describe both SPs' ports.
    for host_sp in SPS:
        for sp in SPS:
            ports = poll(lambda: ports_of(pair, sp, MGMT[host_sp]), 20)
            assert sorted(ports) == ["iSCSI0"], (host_sp, sp, ports)
            text = json.dumps(ports["iSCSI0"])
            assert iqn(sp) in text, (host_sp, sp, text)
            assert "%s" % FRONTEND[sp] in text, (host_sp, sp, text)
    # The fabric's target endpoints name the same portal addresses and IQNs.
    fabric, _ = get_json(pair, "/redfish/v1/Fabrics/iSCSI/Endpoints", MGMT["A"])
    docs = [get_json(pair, m["@odata.id"], MGMT["A"])[0] for m in fabric.get("Members", [])]
    ids = sorted(d["Id"] for d in docs)
    assert ids == ["SPA-iSCSI0", "SPB-iSCSI0"], ids
    text = json.dumps(docs)
    for sp in SPS:
        assert iqn(sp) in text and FRONTEND[sp] in text, text


def test_the_client_reaches_both_portal_addresses(pair):
    for sp in SPS:
        ok = poll(lambda: subprocess.run(
            ["ip", "netns", "exec", NS_CLI, "ping", "-c", "1", "-W", "1", "-I", FE_CLI_ADDR,
             FRONTEND[sp]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=5).returncode == 0, 15)
        assert ok, "no ping reply from SP-%s's portal address %s" % (sp, FRONTEND[sp])


def test_the_image_loaded_the_lio_target_and_mounted_configfs(pair):
    for sp in SPS:
        console = "\n".join(pair.console_tail(sp, 400))
        assert "init: modules loaded" in console, console[-1500:]
        failed = [l for l in console.splitlines() if "init: insmod" in l and "failed" in l]
        assert not failed, failed
        assert "init: configfs mounted at /sys/kernel/config" in console, console[-1500:]
        assert "init: LIO target core present" in console, console[-1500:]
        assert ("init: front-end eth2 %s/24" % FRONTEND[sp]) in console, console[-1500:]
        assert "iSCSI portal %s:%d" % (FRONTEND[sp], ISCSI_PORT) in console, console[-1500:]
        for n, name in enumerate(SHELF):
            assert "%s(%s)" % (name, shelf_serial(n)) in console, console[-1500:]
