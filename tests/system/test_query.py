"""DSP0266 query parameters against both SPs as real processes, over the floating address
(docs/WEB.md "Protocol", "Query parameters"):

- $expand of the Managers (both SPs' Managers, the peer's answered through the peer link), with
  $levels, and of the array's volumes after a pool and volumes are created;
- $filter on the volumes by Oem/DualSP/CurrentOwner and by CapacityBytes, the members staying
  references unless expanded, Members@odata.count the number that matched;
- $select, alone and with $expand;
- $top/$skip, following Members@odata.nextLink to the end;
- an error each: a malformed $filter, $levels beyond MaxLevels, $top not a number, $only.
"""

from conftest import FLOATING
from sp_pair.redfish import http_request

MANAGERS = "/redfish/v1/Managers"
STORAGE = "/redfish/v1/Storage/Array"
POOLS = STORAGE + "/StoragePools"
VOLUMES = STORAGE + "/Volumes"
GIB = 1 << 30


def get(path, query="", timeout=10.0):
    url = path + ("?" + query.replace(" ", "%20") if query else "")
    r = http_request(FLOATING, url, timeout=timeout)
    assert r["status"] is not None, "GET %s: %s" % (url, r["err"])
    return r


def ok(path, query=""):
    r = get(path, query)
    assert r["status"] == 200, "%s?%s: %s %s" % (path, query, r["status"], r["text"])
    return r["json"]


def assert_error(r, status, message):
    assert r["status"] == status, "%s %s" % (r["status"], r["text"])
    assert r["json"]["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith(message), r["text"]


def is_link(value):
    return isinstance(value, dict) and list(value) == ["@odata.id"]


def member_ids(collection):
    return [m["@odata.id"].rsplit("/", 1)[1] for m in collection["Members"]]


def create_pool_and_volumes(count):
    r = http_request(FLOATING, POOLS, "POST", {
        "Name": "pool", "SupportedRAIDTypes": ["RAID5"],
        "CapacitySources": [{"ProvidingDrives": [
            {"@odata.id": "/redfish/v1/Chassis/Enclosure/Drives/Disk%d" % s}
            for s in (0, 1, 2)]}]}, timeout=5.0)
    assert r["status"] == 201, r["text"]
    pool = r["headers"]["location"]
    for i in range(count):
        owner = "SPA" if i % 2 == 0 else "SPB"
        r = http_request(FLOATING, VOLUMES, "POST", {
            "Name": "vol%d" % i, "CapacityBytes": (i + 1) * GIB,
            "CapacitySources": [{"ProvidingPools": [{"@odata.id": pool}]}],
            "Oem": {"DualSP": {"DefaultOwner": owner}}}, timeout=5.0)
        assert r["status"] == 201, r["text"]


def test_managers_expanded_selected_and_filtered(pair):
    pair.wait_active()
    features = ok("/redfish/v1")["ProtocolFeaturesSupported"]
    assert features["ExpandQuery"] == {"ExpandAll": True, "Levels": True, "Links": True,
                                       "NoLinks": True, "MaxLevels": 3}, features
    assert features["FilterQuery"] and features["SelectQuery"] and features["TopSkipQuery"]
    assert features["OnlyMemberQuery"] is False

    managers = ok(MANAGERS, "$expand=.")
    assert [m["Id"] for m in managers["Members"]] == ["SPA", "SPB"], managers
    for m in managers["Members"]:
        assert m["@odata.type"].startswith("#Manager."), m
        assert is_link(m["LogServices"]), m  # one level
    deeper = ok(MANAGERS, "$expand=.($levels=2)")
    for m in deeper["Members"]:
        assert [x["@odata.id"].rsplit("/", 1)[1] for x in m["LogServices"]["Members"]] == \
            ["Log", "Events"], m["LogServices"]
    links = ok(MANAGERS + "/SPA", "$expand=~")
    assert links["Links"]["ManagerForChassis"][0]["Id"] == "Enclosure", links["Links"]
    assert is_link(links["LogServices"])

    selected = ok(MANAGERS, "$expand=*&$select=Id,Status/Health")
    for m in selected["Members"]:
        assert set(m) == {"@odata.id", "@odata.type", "Id", "Status"}, m
        assert set(m["Status"]) == {"Health"}, m
    filtered = ok(MANAGERS, "$filter=Id eq 'SPB' or Id eq 'nobody'")
    assert filtered["Members"] == [{"@odata.id": MANAGERS + "/SPB"}], filtered
    assert filtered["Members@odata.count"] == 1

    # An error each.
    assert_error(get(MANAGERS, "$expand=.($levels=4)"), 400, ".QueryParameterOutOfRange")
    assert_error(get(MANAGERS, "$filter=Id eq"), 400, ".QueryParameterValueFormatError")
    assert_error(get(MANAGERS, "$only"), 501, ".QueryParameterUnsupported")
    assert_error(get(MANAGERS + "/SPA", "$top=1"), 400, ".QueryNotSupportedOnResource")


def test_volumes_expanded_filtered_selected_and_paged(pair):
    pair.wait_active()
    create_pool_and_volumes(6)
    plain = ok(VOLUMES)
    assert plain["Members@odata.count"] == 6
    assert all(is_link(m) for m in plain["Members"])

    expanded = ok(VOLUMES, "$expand=.")
    volumes = {v["Id"]: v for v in expanded["Members"]}
    assert len(volumes) == 6 and expanded["Members@odata.count"] == 6, expanded
    for v in volumes.values():
        assert v["@odata.type"].startswith("#Volume."), v
        assert is_link(v["Oem"]["DualSP"]["StoragePool"]), v  # one level
    assert get(VOLUMES, "$expand=.")["headers"]["etag"].startswith('W/"')

    # By owner and by size: the same volumes as the expanded collection says.
    for owner in ("SPA", "SPB"):
        r = ok(VOLUMES, "$filter=Oem/DualSP/CurrentOwner eq '%s'" % owner)
        want = sorted(i for i, v in volumes.items() if v["Oem"]["DualSP"]["CurrentOwner"] == owner)
        assert sorted(member_ids(r)) == want and want, (owner, r)
        assert r["Members@odata.count"] == len(want)
        assert all(is_link(m) for m in r["Members"])
    big = ok(VOLUMES, "$filter=CapacityBytes gt %d and not (Name eq 'vol5')" % (3 * GIB))
    assert sorted(member_ids(big)) == sorted(
        i for i, v in volumes.items() if v["CapacityBytes"] > 3 * GIB and v["Name"] != "vol5")
    assert big["Members@odata.count"] == 2, big

    selected = ok(VOLUMES, "$expand=.&$select=Name,CapacityBytes")
    for v in selected["Members"]:
        assert set(v) == {"@odata.id", "@odata.type", "Name", "CapacityBytes"}, v
    one = ok(expanded["Members"][0]["@odata.id"], "$select=Oem/DualSP/CurrentOwner")
    assert list(one["Oem"]["DualSP"]) == ["CurrentOwner"], one

    # Pages of two, following the next links to the end.
    seen, query, pages = [], "$top=2&$expand=.&$select=Id", 0
    path = VOLUMES
    while pages < 10:
        page = ok(path, query)
        pages += 1
        assert page["Members@odata.count"] == 6
        seen += [m["Id"] for m in page["Members"]]
        if "Members@odata.nextLink" not in page:
            break
        path, query = page["Members@odata.nextLink"].split("?", 1)
    assert pages == 3 and seen == [m["Id"] for m in expanded["Members"]], (pages, seen)

    # An error each.
    assert_error(get(VOLUMES, "$top=two"), 400, ".QueryParameterValueTypeError")
    assert_error(get(VOLUMES, "$filter=CapacityBytes gt 'x' and"), 400,
                 ".QueryParameterValueFormatError")
    assert_error(get(VOLUMES, "$select=Name,,Id"), 400, ".QueryParameterValueFormatError")
