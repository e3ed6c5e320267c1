"""The LIO data path on the real firmware (issue 16, docs/STORAGE.md "LIO back end"): a pool,
a volume, a host and a mapping made through the floating address are exported by BOTH SPs'
kernel targets on their front-end portals. A mapped initiator sees the LUN on both portals
with the same LU identifier (VPD 0x83: one LU, two paths); an initiator that is not mapped
sees no LUN; unmapping removes it; deleting the volume removes its device on both SPs.

The host here is libiscsi's command-line tools (iscsi-ls, iscsi-inq) in the client
namespace. ALUA states as a host reads them and I/O across a failover are
test_qemu_host_failover.py's (tools/iscsi_host).

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_lio_target.py
"""

import json
import shutil
import subprocess

import pytest

from qemu_support import (DRIVES, FABRIC, MIB, STORAGE, booted_pair, created, link,
                          poll, require_image)  # puts tools/ on sys.path
from qemu_pair.client import enter  # noqa: E402
from qemu_pair.common import FRONTEND, ISCSI_PORT  # noqa: E402

RUN_DIR = "/run/dualsp-qemu-test-lio"
HOST_IQN = "iqn.2026-12.org.example:qemu-host1"
OTHER_IQN = "iqn.2026-12.org.example:qemu-host2"


@pytest.fixture(scope="module")
def pair():
    require_image()
    if not shutil.which("iscsi-ls"):
        pytest.fail("no iscsi-ls: install libiscsi-bin (tools/debian-packages.txt)")
    yield from booted_pair(RUN_DIR, "for the LIO target")




def in_client(argv, timeout=15):
    """argv run in the client namespace: (exit code, output)."""
    def run():
        enter()
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout + p.stderr
    return run


def luns_seen(pair, sp, initiator):
    """The LUN lines iscsi-ls shows `initiator` on SP-<sp>'s portal."""
    url = "iscsi://%s:%d/" % (FRONTEND[sp], ISCSI_PORT)
    code, out = pair.client.call(in_client(["iscsi-ls", "-s", "-i", initiator, url]))
    return code, out, [line.strip() for line in out.splitlines() if "Lun:" in line]



def test_a_mapped_volume_is_exported_by_both_sps(pair):
    pool = created(pair, STORAGE + "/StoragePools", {
        "SupportedRAIDTypes": ["RAID1"],
        "CapacitySources": [{"ProvidingDrives": [link(DRIVES + "/vdb"), link(DRIVES + "/vdc")]}]})
    vol = created(pair, STORAGE + "/Volumes", {
        "Name": "qemu-lun", "CapacityBytes": 64 * MIB,
        "CapacitySources": [{"ProvidingPools": [link(pool)]}]})
    ini = created(pair, FABRIC + "/Endpoints", {
        "EndpointProtocol": "iSCSI",
        "Identifiers": [{"DurableName": HOST_IQN, "DurableNameFormat": "iQN"}],
        "ConnectedEntities": [{"EntityRole": "Initiator"}]})
    host = created(pair, FABRIC + "/EndpointGroups", {
        "Name": "qemu-host1", "GroupType": "Client", "Links": {"Endpoints": [link(ini)]}})
    conn = created(pair, FABRIC + "/Connections", {
        "ConnectionType": "Storage",
        "VolumeInfo": [{"Volume": link(vol), "LUN": 0, "AccessCapabilities": ["Read", "Write"]}],
        "Links": {"InitiatorEndpointGroups": [link(host)]}})
    pair.lio = {"conn": conn, "vol": vol}

    identifiers = {}
    for sp in ("A", "B"):
        def seen():
            code, out, luns = luns_seen(pair, sp, HOST_IQN)
            return (code == 0 and len(luns) == 1), out, luns
        ok, out, luns = poll(seen, 30)
        print("\nSP-%s portal %s as %s:\n%s" % (sp, FRONTEND[sp], HOST_IQN, out.strip()))
        assert ok, out
        # iscsi-ls prints the size from the last LBA, rounded down: 64 MiB shows as 63M.
        assert "DIRECT_ACCESS" in luns[0] and ("Size:63M" in luns[0] or "Size:64M" in luns[0]), luns
        # The LU's device identification (VPD 0x83): the same LU through both SPs.
        url = "iscsi://%s:%d/iqn.2026-12.com.dualsp:qemu.sp-%s/0" % (
            FRONTEND[sp], ISCSI_PORT, sp.lower())
        code, inq = pair.client.call(in_client(["iscsi-inq", "-i", HOST_IQN, "-e", "1", "-c",
                                                 "131", url]))
        assert code == 0, inq
        naa = [line for line in inq.splitlines() if "NAA" in line or "naa" in line.lower()]
        identifiers[sp] = "\n".join(inq.splitlines())
        print("SP-%s VPD 0x83:\n%s" % (sp, inq.strip()))
        assert naa, inq
    # The LU's T10 designator carries its unit serial (the volume's WWN): the same on both.
    def t10(text):
        lines = text.splitlines()
        return [lines[i + 1].strip() for i, line in enumerate(lines[:-1])
                if "T10_VENDORT_ID" in line]
    print("T10 designators: A %s, B %s" % (t10(identifiers["A"]), t10(identifiers["B"])))
    assert t10(identifiers["A"]) and t10(identifiers["A"]) == t10(identifiers["B"])
    doc = json.loads(pair.client_http(vol, timeout=5)["body"])
    wwn = [i["DurableName"] for i in doc.get("Identifiers", []) if i.get("DurableName")]
    print("volume identifiers: %s" % wwn)
    assert any(w.lower().replace("naa.", "") in t10(identifiers["A"])[0].lower() for w in wwn), wwn


def test_an_initiator_not_mapped_sees_no_lun(pair):
    for sp in ("A", "B"):
        code, out, luns = luns_seen(pair, sp, OTHER_IQN)
        assert luns == [], out


def test_unmapping_removes_the_lun(pair):
    rec = pair.client_http(pair.lio["conn"], timeout=10, method="DELETE")
    assert rec["status"] in (200, 204), rec
    for sp in ("A", "B"):
        def gone():
            code, out, luns = luns_seen(pair, sp, HOST_IQN)
            return (luns == []), out, luns
        ok, out, _ = poll(gone, 30)
        assert ok, out


def test_deleting_the_volume_removes_its_device_on_both_sps(pair):
    """A deleted volume's backstore goes from both SPs' targets and its device-mapper device
    with it (the release hook, docs/STORAGE.md "Volume devices"), as each console says."""
    vol = pair.lio["vol"]
    rec = pair.client_http(vol, timeout=10, method="DELETE")
    assert rec["status"] in (200, 204), rec
    object_name = "dualsp_" + "".join(
        c if c.isalnum() or c in "-_" else "_" for c in vol.rsplit("/", 1)[1])
    said = "storage: device-mapper device %s gone with its backstore" % object_name
    for sp in ("A", "B"):
        def gone():
            console = pair.console_tail(sp, 400)
            return any(said in line for line in console), console, None
        ok, console, _ = poll(gone, 30)
        print("\nSP-%s: %s" % (sp, [line for line in console if object_name in line][-1:]))
        assert ok, "\n".join(console[-40:])
        assert not any("device-mapper: remove" in line for line in console), console[-40:]
    assert pair.client_http(vol, timeout=5)["status"] == 404
