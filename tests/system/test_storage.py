"""The array's storage with both SPs as real processes (docs/STORAGE.md): pools and volumes
created through the floating address are the same on both SPs; a change sent to the passive
SP's own address is decided by the active one; the pool and its volumes (their durable names
included) survive a kill of the active SP and the survivor takes new changes; a failed drive
of the shelf degrades its pool on both SPs; a refusal changes nothing.
"""

from conftest import FLOATING, MGMT, other, wait_for
from sp_pair.redfish import http_request

STORAGE = "/redfish/v1/Storage/Array"
DRIVES = "/redfish/v1/Chassis/Enclosure/Drives"
POOLS = STORAGE + "/StoragePools"
VOLUMES = STORAGE + "/Volumes"
GIB = 1 << 30


def req(path, method="GET", body=None, host=FLOATING, timeout=5.0):
    return http_request(host, path, method, body, timeout=timeout)


def pool_body(slots, raid="RAID5", owner=None):
    body = {"Name": "pool", "SupportedRAIDTypes": [raid],
            "CapacitySources": [{"ProvidingDrives": [
                {"@odata.id": DRIVES + "/Disk%d" % s} for s in slots]}]}
    if owner:
        body["Oem"] = {"DualSP": {"DefaultOwner": owner}}
    return body


def volume_body(pool_id, size, name="vol"):
    return {"Name": name, "CapacityBytes": size,
            "CapacitySources": [{"ProvidingPools": [{"@odata.id": POOLS + "/" + pool_id}]}]}


def wwn(host, path):
    r = req(path, host=host)
    assert r["status"] == 200, (host, path, r["status"], r["text"])
    return r["json"]["Identifiers"][0]["DurableName"]


def test_pools_and_volumes_are_the_arrays_through_a_failover(pair):
    active = pair.wait_active()
    passive = other(active)
    r = req(STORAGE)
    assert r["status"] == 200, r
    assert r["json"]["Drives@odata.count"] == 12, r["json"]

    r = req(POOLS, "POST", pool_body([0, 1, 2], owner="SPB"))
    assert r["status"] == 201, r["text"]
    pool = r["headers"]["location"].rsplit("/", 1)[1]
    assert r["json"]["Capacity"]["Data"]["AllocatedBytes"] == 2 * 4000787030016
    r = req(VOLUMES, "POST", volume_body(pool, 10 * GIB, "db"))
    assert r["status"] == 201, r["text"]
    vol = r["headers"]["location"]
    assert r["json"]["Oem"]["DualSP"]["CurrentOwner"] == "SPB"
    name = r["json"]["Identifiers"][0]["DurableName"]
    # The same on both SPs' own addresses: the passive's copy of the store has it.
    for sp in ("A", "B"):
        assert wwn(MGMT[sp], vol) == name

    # A change through the passive SP's own address: decided on the active one.
    r = req(VOLUMES, "POST", volume_body(pool, 5 * GIB, "logs"), host=MGMT[passive])
    assert r["status"] == 201, r["text"]
    logs = r["headers"]["location"]
    assert wwn(MGMT[active], logs) == r["json"]["Identifiers"][0]["DurableName"]
    assert "storage: create_volume 2 by" in pair.log_text(active)  # decided there
    assert "storage: create_volume" not in pair.log_text(passive)

    # More than the pool has: refused, nothing added.
    r = req(VOLUMES, "POST", volume_body(pool, 3 * 4000787030016))
    assert r["status"] == 400, r["text"]
    assert r["json"]["error"]["code"].endswith("PropertyValueOutOfRange"), r["text"]
    assert req(VOLUMES)["json"]["Members@odata.count"] == 2

    # The active SP dies: the survivor has both volumes, same names, and takes changes.
    pair.kill(active)
    pair.wait_active(passive, timeout=10)

    def survivor_serves():
        r = req(vol, timeout=1.0)
        return r["status"] == 200 and r["json"]["Identifiers"][0]["DurableName"] == name
    wait_for(survivor_serves, 10, 0.1, "the volume through the floating address after the kill")
    r = req(VOLUMES + "/" + logs.rsplit("/", 1)[1], "PATCH", {"CapacityBytes": 6 * GIB})
    assert r["status"] == 200, r["text"]
    assert r["json"]["CapacityBytes"] == 6 * GIB
    r = req(POOLS + "/" + pool)
    assert r["json"]["Capacity"]["Data"]["ConsumedBytes"] == 16 * GIB, r["json"]


def test_a_failed_drive_degrades_its_pool_on_both_sps(pair):
    pair.wait_active()
    r = req(POOLS, "POST", pool_body([4, 5], raid="RAID1"))
    assert r["status"] == 201, r["text"]
    pool = r["headers"]["location"]
    pair.run("drive", "fail", "5")

    def degraded(host):
        r = req(pool, host=host, timeout=1.0)
        return r["status"] == 200 and r["json"]["Status"]["Health"] == "Warning"
    for sp in ("A", "B"):
        wait_for(lambda: degraded(MGMT[sp]), 10, 0.1, "the pool degraded on SP-%s" % sp)
    r = req(DRIVES + "/Disk5")
    assert r["json"]["Status"]["Health"] == "Critical", r["json"]
    # A failed drive joins no pool.
    r = req(POOLS, "POST", pool_body([5, 6], raid="RAID1"))
    assert r["status"] in (400, 409), r["text"]
    pair.run("drive", "restore", "5")
    wait_for(lambda: req(pool, timeout=1.0)["json"]["Status"]["Health"] == "OK", 10, 0.1,
             "the pool healthy again")


def test_a_dead_sps_volumes_trespass_to_the_survivor_and_go_home_on_redistribute(pair):
    """Volumes owned by the active SP: kill it, and the survivor takes them (CurrentOwner,
    a Critical event each); the killed SP returns and they stay with the survivor until a
    redistribute sends them back to their default owner."""
    active = pair.wait_active()
    survivor = other(active)
    r = req(POOLS, "POST", pool_body([8, 9, 10], owner="SP" + active))
    assert r["status"] == 201, r["text"]
    pool = r["headers"]["location"].rsplit("/", 1)[1]
    vols = []
    for i in range(2):
        r = req(VOLUMES, "POST", volume_body(pool, GIB, "v%d" % i))
        assert r["status"] == 201, r["text"]
        assert r["json"]["Oem"]["DualSP"]["CurrentOwner"] == "SP" + active
        vols.append(r["headers"]["location"])

    pair.kill(active)
    pair.wait_active(survivor, timeout=10)

    def owner(path, host=FLOATING):
        r = req(path, host=host, timeout=1.0)
        return r["json"]["Oem"]["DualSP"]["CurrentOwner"] if r["status"] == 200 else None
    for v in vols:
        wait_for(lambda: owner(v) == "SP" + survivor, 10, 0.1, "%s trespassed" % v)
        assert req(v)["json"]["Oem"]["DualSP"]["DefaultOwner"] == "SP" + active

    def trespass_events():
        r = req("/redfish/v1/Managers/SP%s/LogServices/Events/Entries?$top=200" % survivor)
        return [e for e in (r["json"] or {}).get("Members", [])
                if "trespassed from SP-%s to SP-%s" % (active, survivor) in e.get("Message", "")
                and "(volume " in e.get("Message", "")]
    wait_for(lambda: len(trespass_events()) == 2, 5, 0.1, "two trespass events")
    assert all(e["Severity"] == "Critical" for e in trespass_events())

    # The killed SP comes back: its volumes stay with the survivor.
    pair.start(active)
    pair.wait_role(active, "passive", timeout=20)
    for v in vols:
        assert owner(v, MGMT[active]) == "SP" + survivor
    r = req(STORAGE)
    target = r["json"]["Actions"]["Oem"]["#DualSPStorage.Redistribute"]["target"]
    r = req(target, "POST", {})
    assert r["status"] == 204, r["text"]
    for v in vols:
        for host in (FLOATING, MGMT[active]):
            wait_for(lambda: owner(v, host) == "SP" + active, 5, 0.1, "%s home on %s" % (v, host))
