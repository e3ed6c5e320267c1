"""DSP0266 protocol rules against both SPs as real processes (docs/WEB.md "Protocol"):

- the OData service document and $metadata, whose references cover every @odata.type the
  service answers with;
- an unknown method is 501 with a Redfish body (CivetWeb refuses it before spweb's handler),
  a known one the resource does not take 405 with Allow; OData-Version 4.1 is 412; an
  unimplemented $ query parameter is 501, other parameters are ignored (the implemented ones:
  test_query.py);
- Allow, Link and ETag on reads; If-Match guards a PATCH, with the same ETag on both SPs.
"""

import xml.etree.ElementTree as ET

from conftest import FLOATING, MGMT
from sp_pair.redfish import http_request

ENCLOSURE = "/redfish/v1/Chassis/Enclosure"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def get(path, host=FLOATING, method="GET", headers=None, body=None):
    r = http_request(host, path, method, body, timeout=3.0, headers=headers)
    assert r["status"] is not None, "%s %s: %s" % (method, path, r["err"])
    return r


def assert_redfish_error(r, status, message_id):
    assert r["status"] == status, "%s %s" % (r["status"], r["text"])
    assert r["headers"].get("content-type", "").startswith("application/json"), r["headers"]
    assert r["json"]["error"]["@Message.ExtendedInfo"][0]["MessageId"].endswith(message_id), r["text"]


def odata_types(body, out):
    if isinstance(body, dict):
        for k, v in body.items():
            if k == "@odata.type":
                out.add(v)
            odata_types(v, out)
    elif isinstance(body, list):
        for v in body:
            odata_types(v, out)
    return out


def test_odata_documents_methods_and_query_parameters(pair):
    pair.wait_active()
    service = get("/redfish/v1/odata")
    assert service["status"] == 200, service["text"]
    assert service["json"]["@odata.context"] == "/redfish/v1/$metadata"
    urls = {v["name"]: v["url"] for v in service["json"]["value"]}
    assert urls["Service"] == "/redfish/v1/" and urls["Managers"] == "/redfish/v1/Managers"
    assert all(v["kind"] == "Singleton" for v in service["json"]["value"])

    metadata = get("/redfish/v1/$metadata")
    assert metadata["status"] == 200
    assert metadata["headers"]["content-type"].split(";")[0] == "application/xml"
    root = ET.fromstring(metadata["text"])
    included = {i.get("Namespace") for r in root.findall(EDMX + "Reference")
                for i in r.findall(EDMX + "Include")}
    container = root.find("%sDataServices/%sSchema/%sEntityContainer" % (EDMX, EDM, EDM))
    assert container is not None and container.get("Extends").startswith("ServiceRoot.v1_")
    # Every type a walk of the main resources meets is referenced.
    seen = set()
    for path in ("/redfish/v1", "/redfish/v1/Managers", "/redfish/v1/Managers/SPA",
                 "/redfish/v1/Managers/SPB/LogServices/Events/Entries?$top=3", "/redfish/v1/Chassis",
                 ENCLOSURE, ENCLOSURE + "/Sensors", "/redfish/v1/EventService",
                 "/redfish/v1/SessionService", "/redfish/v1/Nothing"):
        odata_types(get(path)["json"], seen)
    assert len(seen) > 8, seen
    missing = {t for t in seen if t.lstrip("#").rsplit(".", 1)[0] not in included}
    assert not missing, "not in $metadata: %s" % missing

    # Methods: unknown (CivetWeb's own 400 before) and known but not taken.
    for host in (FLOATING, MGMT["A"], MGMT["B"]):
        assert_redfish_error(get("/redfish/v1/", host, "FAKEMETHODFORTEST"), 501, ".GeneralError")
    put = get("/redfish/v1/", method="PUT", body={})
    assert_redfish_error(put, 405, ".OperationNotAllowed")
    assert put["headers"]["allow"] == "GET, HEAD"

    assert_redfish_error(get("/redfish/v1/", headers={"OData-Version": "4.1"}), 412,
                         ".PreconditionFailed")
    assert get("/redfish/v1/", headers={"OData-Version": "4.0"})["status"] == 200

    for query in ("$only", "$count=true", "$rpvunknown"):
        assert_redfish_error(get("/redfish/v1/?" + query), 501, ".QueryParameterUnsupported")
    assert get("/redfish/v1/?rpvunknown")["status"] == 200
    events = "/redfish/v1/Managers/SPA/LogServices/Events/Entries"
    assert get(events + "?$skip=0&$top=2")["status"] == 200
    assert_redfish_error(get(events + "?$top=2&$orderby=Id"), 501, ".QueryParameterUnsupported")

    # Reads: Allow, Link and ETag, the same for HEAD.
    for method in ("GET", "HEAD"):
        r = get("/redfish/v1/", method=method)
        assert r["status"] == 200
        assert r["headers"]["allow"] == "GET, HEAD"
        assert r["headers"]["link"] == (
            "<https://redfish.dmtf.org/schemas/v1/%s.json>; rel=describedby"
            % get("/redfish/v1/")["json"]["@odata.type"].lstrip("#").rsplit(".", 1)[0])
        assert r["headers"]["etag"].startswith('W/"')
    assert get("/redfish/v1/Managers/SPA")["headers"]["allow"] == "GET, HEAD, PATCH"
    features = get("/redfish/v1/")["json"]["ProtocolFeaturesSupported"]
    assert features["TopSkipQuery"] is True and features["OnlyMemberQuery"] is False

    # A POST to a collection's Members creates in the collection.
    created = get("/redfish/v1/EventService/Subscriptions/Members", method="POST",
                  body={"Destination": "http://198.18.0.100/", "Protocol": "Redfish"})
    assert created["status"] == 201, created["text"]
    location = created["headers"]["location"]
    assert get(location)["json"]["Destination"] == "http://198.18.0.100/"


def test_if_match_guards_a_change_on_either_sp(pair):
    active = pair.wait_active()
    passive = "B" if active == "A" else "A"
    tags = {sp: get(ENCLOSURE, MGMT[sp])["headers"]["etag"] for sp in ("A", "B")}
    assert tags["A"] == tags["B"], "both SPs describe one enclosure: %s" % tags

    first = get(ENCLOSURE, method="PATCH", body={"AssetTag": "R7-12"},
                headers={"If-Match": tags[active]})
    assert first["status"] == 200, first["text"]
    # The tag a client read before that change no longer holds, through either SP.
    for host in (FLOATING, MGMT[passive]):
        stale = get(ENCLOSURE, host, "PATCH", body={"AssetTag": "lost update"},
                    headers={"If-Match": tags[active]})
        assert_redfish_error(stale, 412, ".PreconditionFailed")
    for sp in ("A", "B"):
        assert get(ENCLOSURE, MGMT[sp])["json"]["AssetTag"] == "R7-12"
    # The current tag, read from the passive SP, lets a change through it (forwarded to spd).
    current = get(ENCLOSURE, MGMT[passive])["headers"]["etag"]
    assert current != tags[active]
    r = get(ENCLOSURE, MGMT[passive], "PATCH", body={"AssetTag": "R7-13"},
            headers={"If-Match": current})
    assert r["status"] == 200, r["text"]
    assert get(ENCLOSURE)["json"]["AssetTag"] == "R7-13"
    r = get(ENCLOSURE, method="PATCH", body={"AssetTag": "R7-14"}, headers={"If-Match": "*"})
    assert r["status"] == 200, r["text"]
