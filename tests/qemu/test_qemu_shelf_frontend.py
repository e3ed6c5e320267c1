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
        assert rec.get("sp") == sp, rec.get("sp")   # answered by that SP itself
        seen[sp] = drives
        assert sorted(drives) == SHELF, (sp, sorted(drives), rec.get("sp"))
        for n, name in enumerate(SHELF):
            d = drives[name]
            assert d["CapacityBytes"] == SHELF_DRIVE_MIB * 1024 * 1024, (sp, d)
            assert d["SerialNumber"] == shelf_serial(n), (sp, d)
    # The same drive (by serial) under the same name on both SPs: one shelf, dual-ported.
    assert ({k: v["SerialNumber"] for k, v in seen["A"].items()}
            == {k: v["SerialNumber"] for k, v in seen["B"].items()})


def members(pair, path, host):
    """{Id: resource} of a collection, as `host` answers."""
    coll, _ = get_json(pair, path, host)
    out = {}
    for m in coll.get("Members", []):
        doc, _ = get_json(pair, m["@odata.id"], host)
        out[doc["Id"]] = doc
    return out


def test_each_sp_reports_its_front_end_iscsi_port(pair):
    # Each SP publishes its ports through the store (about once a second): both SPs, asked on
    # their own addresses, describe both SPs' ports and target endpoints.
    for host in SPS:
        for sp in SPS:
            path = "/redfish/v1/Storage/Array/Controllers/SP%s/Ports" % sp
            ports = poll(lambda: members(pair, path, MGMT[host]), 20)
            assert sorted(ports) == ["iSCSI0"], (host, sp, ports)
            port = ports["iSCSI0"]
            assert port["PortProtocol"] == "iSCSI", (host, sp, port)
            assert port["LinkStatus"] == "LinkUp", (host, sp, port)
        endpoints = members(pair, "/redfish/v1/Fabrics/iSCSI/Endpoints", MGMT[host])
        assert sorted(endpoints) == ["SPA-iSCSI0", "SPB-iSCSI0"], (host, sorted(endpoints))
        for sp in SPS:
            e = endpoints["SP%s-iSCSI0" % sp]
            assert [i["DurableName"] for i in e["Identifiers"]] == [iqn(sp)], (host, e)
            assert e["IPTransportDetails"] == [{"TransportProtocol": "iSCSI",
                                                "IPv4Address": {"Address": FRONTEND[sp]},
                                                "Port": ISCSI_PORT}], (host, e)
            assert e["ConnectedEntities"][0]["EntityRole"] == "Target", (host, e)


# An ICMP echo from the client namespace (the host has no ping binary): raw socket, root.
PING = r"""
import os, socket, struct, sys, time
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
dst, src = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.bind((src, 0))
ident = os.getpid() & 0xffff
body = struct.pack("!HH", ident, 1) + b"dualsp-ping"
s.sendto(struct.pack("!BBH", 8, 0, csum(struct.pack("!BBH", 8, 0, 0) + body)) + body, (dst, 0))
end = time.monotonic() + 1.0
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        break
    ihl = (data[0] & 15) * 4
    if addr[0] == dst and data[ihl] == 0 and struct.unpack("!H", data[ihl + 4:ihl + 6])[0] == ident:
        sys.exit(0)
sys.exit(1)
"""


def ping(dst):
    return subprocess.run(["ip", "netns", "exec", NS_CLI, "/usr/bin/python3", "-c", PING, dst,
                           FE_CLI_ADDR], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=10).returncode == 0


def test_the_client_reaches_both_portal_addresses(pair):
    for sp in SPS:
        assert poll(lambda: ping(FRONTEND[sp]), 15), \
            "no echo reply from SP-%s's portal address %s" % (sp, FRONTEND[sp])


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
