"""Event subscriptions as a way to make the SPs send requests (docs/SECURITY.md "Hostile
input"), against both SPs as real processes: a Destination on the SP itself, its peer's
link, a link-local metadata service or the unspecified address, or one with CR/LF that would
smuggle a second request, is refused with 400 naming Destination; subscriptions stop at their
limit with CreateLimitReachedForResource.
"""

from conftest import FLOATING, MGMT
from sp_pair.redfish import http_request

SUBSCRIPTIONS = "/redfish/v1/EventService/Subscriptions"
LIMIT = 16


def post(destination, host=FLOATING):
    return http_request(host, SUBSCRIPTIONS, "POST",
                        {"Destination": destination, "Protocol": "Redfish"}, timeout=5.0)


def message(r):
    info = r["json"]["error"]["@Message.ExtendedInfo"][0]
    return info["MessageId"].rsplit(".", 1)[-1], info.get("MessageArgs", [])


def count(pair):
    r = pair.http(SUBSCRIPTIONS, timeout=5.0)
    assert r["status"] == 200, r
    return r["json"]["Members@odata.count"]


def test_destinations_on_the_sps_or_special_addresses_are_refused(pair):
    pair.wait_active()
    for destination in ("http://127.0.0.1:8080/", "http://169.254.169.254/latest/meta-data/",
                        "http://0.0.0.0:22/", "http://198.18.1.12:7500/", "http://198.18.1.11/",
                        "http://198.18.0.11/", "http://198.18.0.12:80/", "http://198.18.0.10/",
                        "http://224.0.0.251/", "http://255.255.255.255/",
                        "https://127.0.0.1/", "https://198.18.1.12:7500/"):
        for host in (FLOATING, MGMT["A"], MGMT["B"]):
            r = post(destination, host)
            assert r["status"] == 400, (destination, host, r["status"], r["text"])
            key, args = message(r)
            assert key == "PropertyValueOutOfRange" and "Destination" in args, r["text"]
    assert count(pair) == 0


def test_a_destination_with_crlf_is_refused(pair):
    pair.wait_active()
    smuggle = ("http://198.18.0.100:8089/x HTTP/1.1\r\nHost: a\r\n\r\n"
               "DELETE /redfish/v1/EventService/Subscriptions/1 HTTP/1.1\r\nX: y")
    for destination in (smuggle, "http://198.18.0.100:8089/a\nb", "http://198.18.0.100/a b",
                        "http://localhost/", "https://listener.example/",
                        "ftp://198.18.0.100/"):
        r = post(destination)
        assert r["status"] == 400, (destination, r["status"], r["text"])
        key, args = message(r)
        assert key == "PropertyValueFormatError" and "Destination" in args, r["text"]
        assert "\r" not in r["text"] and "\n" not in r["text"]  # quoted back JSON-escaped
    assert count(pair) == 0


def test_subscriptions_stop_at_their_limit(pair):
    pair.wait_active()
    for i in range(LIMIT):
        r = post("http://198.18.0.100:%d/events" % (9000 + i))
        assert r["status"] == 201, (i, r["status"], r["text"])
    r = post("http://198.18.0.100:9999/events")
    assert r["status"] == 400, r["text"]
    assert message(r)[0] == "CreateLimitReachedForResource", r["text"]
    assert count(pair) == LIMIT
