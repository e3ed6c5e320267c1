"""Hosts' access to the array's volumes with both SPs as real processes (docs/STORAGE.md
"Hosts and mappings"): through the floating address, a pool, a volume, a host with two iSCSI
initiators and a Connection at LUN 0; the Connection shows Optimized on the owner's target
group and NonOptimized on the peer's, and each SP's data path (the sim back end's record,
<state>/sp?/datapath.json) says the same; every validation case answers its Redfish error
and changes nothing; the owner is killed: the survivor owns every volume and the states have
flipped, nothing lost; it returns: ownership stays until a redistribute, then the states swap
back. With the auto-failback policy on, the volumes go home by themselves.
"""

import json
import threading
import time

from conftest import FLOATING, MGMT, other, wait_for
from sp_pair.redfish import http_request

STORAGE = "/redfish/v1/Storage/Array"
DRIVES = "/redfish/v1/Chassis/Enclosure/Drives"
POOLS = STORAGE + "/StoragePools"
VOLUMES = STORAGE + "/Volumes"
FABRIC = "/redfish/v1/Fabrics/iSCSI"
ENDPOINTS = FABRIC + "/Endpoints"
GROUPS = FABRIC + "/EndpointGroups"
CONNECTIONS = FABRIC + "/Connections"
GIB = 1 << 30
IQN_1 = "iqn.2026-12.org.example:host1-port1"
IQN_2 = "iqn.2026-12.org.example:host1-port2"
IQN_3 = "iqn.2026-12.org.example:host2"


def req(path, method="GET", body=None, host=FLOATING, timeout=5.0):
    return http_request(host, path, method, body, timeout=timeout)


def link(path):
    return {"@odata.id": path}


def created(path, body):
    r = req(path, "POST", body)
    assert r["status"] == 201, (path, r["status"], r["text"])
    return r["headers"]["location"]


def make_storage(owner):
    pool = created(POOLS, {"SupportedRAIDTypes": ["RAID1"], "CapacitySources": [
        {"ProvidingDrives": [link(DRIVES + "/Disk%d" % s) for s in (0, 1)]}],
        "Oem": {"DualSP": {"DefaultOwner": "SP" + owner}}})
    vol = created(VOLUMES, {"Name": "db", "CapacityBytes": GIB,
                            "CapacitySources": [{"ProvidingPools": [link(pool)]}]})
    return pool, vol


def initiator(iqn):
    return created(ENDPOINTS, {"EndpointProtocol": "iSCSI",
                               "Identifiers": [{"DurableName": iqn, "DurableNameFormat": "iQN"}],
                               "ConnectedEntities": [{"EntityRole": "Initiator"}]})


def host(name, initiators):
    return created(GROUPS, {"Name": name, "GroupType": "Client",
                            "Links": {"Endpoints": [link(i) for i in initiators]}})


def connection(vol, group, lun=None, read_only=False):
    info = {"Volume": link(vol), "AccessCapabilities": ["Read"] if read_only else ["Read", "Write"]}
    if lun is not None:
        info["LUN"] = lun
    return {"ConnectionType": "Storage", "VolumeInfo": [info],
            "Links": {"InitiatorEndpointGroups": [link(group)]}}


def paths(conn, host_addr=FLOATING):
    """{"SPA": state, "SPB": state} of a Connection, from its Oem paths and VolumeInfo."""
    r = req(conn, host=host_addr, timeout=1.0)
    if r["status"] != 200:
        return None
    out = {}
    body = r["json"]
    for path, info in zip(body["Oem"]["DualSP"]["Paths"], body["VolumeInfo"]):
        assert info["AccessState"] == path["AccessState"], body
        out[path["TargetEndpointGroup"]["@odata.id"].rsplit("/", 1)[1]] = path["AccessState"]
    return out


def data_path(pair, sp):
    """What SP `sp` last programmed its (simulated) target with."""
    try:
        return json.loads((pair.state / ("sp" + sp.lower()) / "datapath.json").read_text())
    except (OSError, ValueError):
        return None


def alua(pair, sp, volume_id):
    d = data_path(pair, sp)
    if not d:
        return None
    for v in d["volumes"]:
        if v["id"] == volume_id:
            return v["alua"]
    return None


class DataPathWatch:
    """Every state SP `sp`'s target was programmed with for one volume (the sim back end
    renames each new datapath.json into place), sampled every millisecond on a thread until
    stop() or 30 s."""

    def __init__(self, pair, sp, volume_id):
        self.file = pair.state / ("sp" + sp.lower()) / "datapath.json"
        self.volume_id = volume_id
        self.states = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def stat(self):
        try:
            st = self.file.stat()
            return (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            return None

    def run(self):
        last = None
        deadline = time.monotonic() + 30
        while not self.done.is_set() and time.monotonic() < deadline:
            now = self.stat()
            if now is not None and now != last:
                last = now
                try:
                    d = json.loads(self.file.read_text())
                except (OSError, ValueError):
                    last = None  # caught mid-rename: read it again
                    continue
                state = next((v["alua"] for v in d["volumes"] if v["id"] == self.volume_id),
                             None)
                if not self.states or self.states[-1] != state:
                    self.states.append(state)
            self.done.wait(0.001)

    def stop(self):
        self.done.set()
        self.thread.join(5)
        return self.states


def states_are(pair, conn, vol_id, optimized, non_optimized):
    want = {"SP" + optimized: "Optimized", "SP" + non_optimized: "NonOptimized"}
    return (paths(conn) == want and alua(pair, optimized, vol_id) == "active/optimized" and
            alua(pair, non_optimized, vol_id) == "active/non-optimized")


def counts():
    return {p: req(p)["json"]["Members@odata.count"]
            for p in (VOLUMES, ENDPOINTS, GROUPS, CONNECTIONS)}


def check_error(r, status, message):
    assert r["status"] == status, (r["status"], r["text"])
    assert r["json"]["error"]["code"].endswith(message), r["text"]
    assert r["json"]["error"]["@Message.ExtendedInfo"], r["text"]


def test_a_mapped_volume_is_optimized_on_its_owner_and_flips_on_failover(pair):
    active = pair.wait_active()
    peer = other(active)
    # The ports each SP published, as target endpoints in both SPs' groups.
    wait_for(lambda: req(GROUPS + "/SPA")["status"] == 200 and
             req(GROUPS + "/SPB")["status"] == 200, 10, 0.1, "both SPs' target port groups")
    r = req(GROUPS + "/SP" + active)
    assert r["json"]["GroupType"] == "Server" and r["json"]["Links"]["Endpoints@odata.count"] == 2
    port = req(r["json"]["Links"]["Endpoints"][0]["@odata.id"])["json"]
    assert port["ConnectedEntities"][0]["EntityRole"] == "Target"
    assert port["Identifiers"][0]["DurableNameFormat"] == "iQN"
    assert port["IPTransportDetails"][0]["Port"] == 3260

    pool, vol = make_storage(active)
    vol_id = vol.rsplit("/", 1)[1]
    i1, i2, i3 = initiator(IQN_1), initiator(IQN_2), initiator(IQN_3)
    h1 = host("host1", [i1, i2])
    h2 = host("host2", [i3])
    conn = created(CONNECTIONS, connection(vol, h1, lun=0))
    r = req(conn)
    assert r["json"]["VolumeInfo"][0]["LUN"] == 0
    assert r["json"]["VolumeInfo"][0]["AccessCapabilities"] == ["Read", "Write"]
    wait_for(lambda: states_are(pair, conn, vol_id, active, peer), 5, 0.1,
             lambda: "Optimized on SP-%s: %s, %s" % (active, paths(conn),
                                                     data_path(pair, active)))
    # Both of host1's initiators see LUN 0 through both SPs; host2's sees nothing. The
    # passive SP programs its data path on the turn after the change reaches its store.
    for sp in ("A", "B"):
        def acls_of(sp=sp):
            return {a["initiator"]: a["luns"] for a in data_path(pair, sp)["acls"]}
        wait_for(lambda: [lun["lun"] for lun in acls_of().get(IQN_1, [])] == [0], 5, 0.05,
                 lambda: "SP-%s's data path: %s" % (sp, acls_of()))
        acls = acls_of()
        assert [lun["lun"] for lun in acls[IQN_1]] == [0], acls
        assert [lun["lun"] for lun in acls[IQN_2]] == [0], acls
        assert acls.get(IQN_3, []) == [], acls
    # The volume names its owner's controller and its connection.
    volume = req(vol)["json"]
    assert volume["Links"]["Controllers"] == [link(STORAGE + "/Controllers/SP" + active)]
    assert volume["Connections"] == [link(conn)]
    attached = req(STORAGE + "/Controllers/SP" + active)["json"]["Links"]["AttachedVolumes"]
    assert link(vol) in attached

    # Validation: each refused with its Redfish error, nothing changed.
    before = counts()
    vol2 = created(VOLUMES, {"Name": "logs", "CapacityBytes": GIB,
                             "CapacitySources": [{"ProvidingPools": [link(pool)]}]})
    before[VOLUMES] += 1
    check_error(req(CONNECTIONS, "POST", connection(vol2, h1, lun=0)), 409, "ResourceInUse")
    check_error(req(CONNECTIONS, "POST", connection(vol, h1, lun=5)), 409, "ResourceInUse")
    check_error(req(GROUPS, "POST", {"Name": "dup", "Links": {"Endpoints": [link(i1)]}}), 409,
                "ResourceInUse")
    check_error(req(ENDPOINTS, "POST", {"Identifiers": [{"DurableName": IQN_1.upper()}]}), 409,
                "ResourceAlreadyExists")
    check_error(req(ENDPOINTS, "POST", {"Identifiers": [{"DurableName": "not-an-iqn"}]}), 400,
                "PropertyValueFormatError")
    check_error(req(CONNECTIONS, "POST", connection(VOLUMES + "/99", h1, lun=1)), 400,
                "ResourceNotFound")
    check_error(req(CONNECTIONS, "POST", connection(vol2, GROUPS + "/99", lun=1)), 400,
                "ResourceNotFound")
    check_error(req(CONNECTIONS, "POST", connection(vol2, h1, lun="one")), 400,
                "PropertyValueTypeError")
    check_error(req(CONNECTIONS, "POST", connection(vol2, h1, lun=16384)), 400,
                "PropertyValueOutOfRange")
    body = connection(vol2, h1, lun=1)
    body["Colour"] = "blue"
    check_error(req(CONNECTIONS, "POST", body), 400, "PropertyUnknown")
    check_error(req(vol, "DELETE"), 409, "ResourceInUse")
    check_error(req(h1, "DELETE"), 409, "ResourceInUse")
    check_error(req(i1, "DELETE"), 409, "ResourceInUse")
    assert counts() == before
    # A second volume for host2 only: host1 does not see it; unmapping removes it from host2.
    conn2 = created(CONNECTIONS, connection(vol2, h2, read_only=True))
    wait_for(lambda: [lun["volume"] for a in data_path(pair, active)["acls"]
                      if a["initiator"] == IQN_3 for lun in a["luns"]] == [vol2.rsplit("/", 1)[1]],
             5, 0.1, "host2 sees the second volume")
    assert all(lun["volume"] == vol_id for a in data_path(pair, active)["acls"]
               if a["initiator"] == IQN_1 for lun in a["luns"])
    assert req(conn2, "DELETE")["status"] == 204
    wait_for(lambda: all(not a["luns"] for a in data_path(pair, active)["acls"]
                         if a["initiator"] == IQN_3), 5, 0.1, "host2 sees nothing again")

    # The owner dies: the survivor owns the volume, the states flipped, nothing lost.
    pair.kill(active)
    pair.wait_active(peer, timeout=10)
    wait_for(lambda: paths(conn) == {"SP" + peer: "Optimized", "SP" + active: "Unavailable"},
             10, 0.1, lambda: "Optimized on the survivor: %s" % paths(conn))
    wait_for(lambda: alua(pair, peer, vol_id) == "active/optimized", 5, 0.1,
             "the survivor's data path optimized")
    assert req(vol)["json"]["Oem"]["DualSP"]["CurrentOwner"] == "SP" + peer
    assert counts() == before
    ctl = req(STORAGE + "/Controllers/SP" + active)["json"]
    assert ctl["Status"]["State"] == "UnavailableOffline", ctl

    # It returns: ownership stays with the survivor until a redistribute. Its store still
    # names it the owner until the survivor resynchronises it, which the peer link and the
    # management network cut here hold off (the midplane carries the heartbeats): meanwhile
    # its target claims nothing (transitioning), never active/optimized beside the survivor's.
    (pair.state / ("sp" + active.lower()) / "datapath.json").unlink()  # its target died with it
    pair.cut(active, "peer")
    pair.cut(active, "mgmt")
    watch = DataPathWatch(pair, active, vol_id)
    pair.start(active)
    pair.wait_role(active, "passive", timeout=20)
    wait_for(lambda: alua(pair, active, vol_id) is not None, 10, 0.05,
             "the returned SP programs its target")
    assert alua(pair, active, vol_id) == "transitioning", data_path(pair, active)
    pair.heal()
    wait_for(lambda: states_are(pair, conn, vol_id, peer, active), 10, 0.1,
             lambda: "NonOptimized on the returned SP: %s" % paths(conn))
    # The returned SP programs its target from its own store once resynchronised; the API
    # (the active SP's model) may say NonOptimized a moment before (seen on a loaded machine).
    wait_for(lambda: alua(pair, active, vol_id) == "active/non-optimized", 10, 0.05,
             lambda: "the returned SP's target non-optimized: %s" % data_path(pair, active))
    programmed = watch.stop()
    assert programmed[0] == "transitioning" and programmed[-1] == "active/non-optimized", \
        programmed
    assert "active/optimized" not in programmed, programmed
    target = req(STORAGE)["json"]["Actions"]["Oem"]["#DualSPStorage.Redistribute"]["target"]
    assert req(target, "POST", {})["status"] == 204
    wait_for(lambda: states_are(pair, conn, vol_id, active, peer), 10, 0.1,
             lambda: "home again: %s" % paths(conn))
    # A forced delete takes the volume and its connection.
    assert req(vol + "?force=true", "DELETE")["status"] == 204
    assert req(conn)["status"] == 404


def test_auto_failback_moves_volumes_home_when_their_sp_returns(pair):
    active = pair.wait_active()
    peer = other(active)
    r = req(STORAGE, "PATCH", {"Oem": {"DualSP": {"AutoFailback": True,
                                                   "AutoFailbackDelaySeconds": 2}}})
    assert r["status"] == 200, r["text"]
    assert r["json"]["Oem"]["DualSP"]["AutoFailback"] is True
    check_error(req(STORAGE, "PATCH", {"Oem": {"DualSP": {"AutoFailbackDelaySeconds": -1}}}),
                400, "PropertyValueOutOfRange")
    _, vol = make_storage(active)

    def owner(host_addr=FLOATING):
        r = req(vol, host=host_addr, timeout=1.0)
        return r["json"]["Oem"]["DualSP"]["CurrentOwner"] if r["status"] == 200 else None
    pair.kill(active)
    pair.wait_active(peer, timeout=10)
    wait_for(lambda: owner() == "SP" + peer, 10, 0.1, "trespassed to the survivor")
    pair.start(active)
    pair.wait_role(active, "passive", timeout=20)
    wait_for(lambda: owner() == "SP" + active, 15, 0.2, "home again by the policy")
    r = req("/redfish/v1/Managers/SP%s/LogServices/Events/Entries?$top=200" % peer)
    assert any("automatic failback" in e.get("Message", "")
               for e in r["json"].get("Members", [])), r["text"]
