"""HTTPS with both SPs as real processes (docs/SECURITY.md "TLS"): the two SPs serve one
certificate, made by the active SP at first boot and shared through the replicated store, so
a client that pinned it goes on through the floating address after the active SP is killed,
with its session; nothing below TLS 1.2 is served; ReplaceCertificate installs an
administrator's certificate on both SPs and it survives a restart; a bad one changes nothing;
the key is never in a log, an answer or the store's files in clear.
"""

import glob
import hashlib
import http.client
import json
import os
import ssl
import subprocess

import pytest

from conftest import FLOATING, MGMT, other, wait_for
from sp_pair.redfish import resolve_auth

HTTPS_PORT = 443
SESSIONS = "/redfish/v1/SessionService/Sessions"
REPLACE = "/redfish/v1/CertificateService/Actions/CertificateService.ReplaceCertificate"
CERT_URI = "/redfish/v1/Managers/SP%s/NetworkProtocol/HTTPS/Certificates/1"


def fingerprint_of(host, timeout=1.0):
    """SHA-256 of the certificate `host` serves (hex, upper case), or None."""
    try:
        pem = ssl.get_server_certificate((host, HTTPS_PORT), timeout=timeout)
    except (OSError, ssl.SSLError):
        return None
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()


def pinned_request(host, path, pin, method="GET", body=None, headers=None, auth=None,
                   timeout=3.0):
    """One HTTPS request that accepts only the certificate whose SHA-256 is `pin` (a
    self-signed certificate pinned, as a script would): (status, headers, json or None,
    TLS version). Raises ssl.SSLError / OSError on failure, AssertionError on another
    certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the pin below is the check
    conn = http.client.HTTPSConnection(host, HTTPS_PORT, timeout=timeout, context=ctx)
    try:
        conn.connect()
        served = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest().upper()
        assert served == pin, "served %s, pinned %s" % (served, pin)
        version = conn.sock.version()
        h = {"Connection": "close", "Accept": "application/json"}
        if auth:
            import base64
            h["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = None
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, doc, version
    finally:
        conn.close()


def admin():
    creds = resolve_auth()
    assert creds and ":" in creds
    return tuple(creds.split(":", 1))


def one_fingerprint(hosts=(MGMT["A"], MGMT["B"], FLOATING)):
    prints = {h: fingerprint_of(h) for h in hosts}
    values = set(prints.values())
    return values.pop() if len(values) == 1 and None not in values else None


def make_certificate(cn):
    """(certificate PEM, key PEM) from the openssl command: an administrator's own."""
    out = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-subj", "/CN=" + cn, "-days", "30", "-keyout", "/dev/stdout",
         "-out", "/dev/stdout"], capture_output=True, text=True, timeout=30, check=True).stdout
    key = out[out.index("-----BEGIN PRIVATE KEY-----"):out.index("-----END PRIVATE KEY-----") + 25]
    cert = out[out.index("-----BEGIN CERTIFICATE-----"):out.index("-----END CERTIFICATE-----") + 25]
    return cert + "\n", key + "\n"


def test_one_certificate_through_a_failover_with_the_session(pair):
    active = pair.wait_active()
    pin = wait_for(one_fingerprint, 10, 0.1, "both SPs and the floating address serving one "
                   "certificate")
    status, headers, _, version = pinned_request(
        FLOATING, SESSIONS, pin, "POST", {"UserName": admin()[0], "Password": admin()[1]})
    assert status == 201, headers
    assert version in ("TLSv1.2", "TLSv1.3"), version
    token = headers["x-auth-token"]
    assert pinned_request(FLOATING, "/redfish/v1/Managers", pin,
                          headers={"X-Auth-Token": token})[0] == 200

    pair.kill(active)
    survivor = other(active)
    pair.wait_active(survivor, timeout=10)

    def served_by_survivor():
        try:
            status, headers, _, _ = pinned_request(FLOATING, "/redfish/v1/Managers", pin,
                                                   headers={"X-Auth-Token": token}, timeout=1.0)
        except (OSError, ssl.SSLError):
            return False
        return status == 200 and headers.get("x-dualsp-sp") == survivor
    wait_for(served_by_survivor, 10, 0.05, "the pinned session served by SP-%s" % survivor)


def client_context(maximum):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")  # this side would offer TLS 1.0 and 1.1
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = maximum
    return ctx


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_nothing_below_tls_1_2(pair):
    pair.wait_active()
    for host in (FLOATING, MGMT["A"], MGMT["B"]):
        # The same client, allowed TLS 1.2, is served: the refusal below is the server's.
        conn = http.client.HTTPSConnection(host, HTTPS_PORT, timeout=3,
                                           context=client_context(ssl.TLSVersion.TLSv1_2))
        conn.connect()
        assert conn.sock.version() == "TLSv1.2"
        conn.close()
        conn = http.client.HTTPSConnection(host, HTTPS_PORT, timeout=3,
                                           context=client_context(ssl.TLSVersion.TLSv1_1))
        with pytest.raises(ssl.SSLError) as refused:
            conn.connect()
        conn.close()
        assert "PROTOCOL_VERSION" in str(refused.value).upper(), refused.value


def test_a_replaced_certificate_is_served_by_both_sps_and_kept(pair):
    pair.wait_active()
    pin = wait_for(one_fingerprint, 10, 0.1, "one certificate")
    cert, key = make_certificate("array.example.test")
    other_cert, other_key = make_certificate("other.example.test")

    # A key that is not the certificate's: refused, nothing changes.
    status, _, doc, _ = pinned_request(
        FLOATING, REPLACE, pin, "POST",
        {"CertificateString": cert + other_key, "CertificateType": "PEM",
         "CertificateUri": {"@odata.id": CERT_URI % "A"}}, auth=admin())
    assert status == 400, doc
    assert "does not belong" in doc["error"]["message"], doc
    assert one_fingerprint() == pin

    status, _, doc, _ = pinned_request(
        FLOATING, REPLACE, pin, "POST",
        {"CertificateString": cert + key, "CertificateType": "PEM",
         "CertificateUri": {"@odata.id": CERT_URI % "A"}}, auth=admin())
    assert status == 200, doc
    assert doc["Subject"]["CommonName"] == "array.example.test", doc
    new_pin = doc["Fingerprint"].replace(":", "")
    wait_for(lambda: one_fingerprint() == new_pin, 10, 0.1, "both SPs serving the new one")
    status, _, doc, _ = pinned_request(FLOATING, CERT_URI % "B", new_pin, auth=admin())
    assert status == 200 and doc["Fingerprint"].replace(":", "") == new_pin, doc

    # A restarted SP serves it from its store at once.
    passive = other(pair.wait_active())
    pair.kill(passive)
    pair.start(passive)
    pair.wait_role(passive, "passive", timeout=20)
    wait_for(lambda: fingerprint_of(MGMT[passive]) == new_pin, 10, 0.1,
             "SP-%s serving the replaced certificate after its restart" % passive)

    # The key: in no log, no answer, and sealed in the store's files.
    key_line = key.splitlines()[1]
    for path in glob.glob(os.path.join(pair.state, "sp*", "log", "*")):
        with open(path, errors="replace") as f:
            assert key_line not in f.read(), path
    for path in glob.glob(os.path.join(pair.state, "sp*", "config", "*")):
        with open(path, "rb") as f:
            data = f.read()
        assert b"PRIVATE KEY" not in data and key_line.encode() not in data, path


HTTPS_RECEIVER = r"""
import http.server, ssl, sys, time
port, pem, out_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = open(out_path, "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out.write("%s %s %s\n" % (self.path, self.connection.version(), body.decode()))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(pem)
s = http.server.HTTPServer(("198.18.0.100", port), H)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.timeout = 0.5
end = time.monotonic() + 120
while time.monotonic() < end:
    try:
        s.handle_request()
    except (OSError, ssl.SSLError):
        pass  # a refused handshake: the next connection
"""


def test_events_reach_an_https_subscriber(pair, tmp_path):
    """A subscription to an https:// Destination gets its events over TLS (1.2 or newer);
    with VerifyCertificate the same self-signed listener, which no trusted certificate
    vouches for, gets nothing and the active SP logs why."""
    cert, key = make_certificate("listener.example.test")
    pem = tmp_path / "listener.pem"
    pem.write_text(cert + key)
    received = tmp_path / "received.txt"
    receiver = subprocess.Popen(["ip", "netns", "exec", "dualsp-cli", "/usr/bin/python3", "-c",
                                 HTTPS_RECEIVER, "8443", str(pem), str(received)])
    try:
        active = pair.wait_active()
        pin = wait_for(one_fingerprint, 10, 0.1, "one certificate")
        subs = []
        for path, verify in (("/plain", None), ("/verified", True)):
            body = {"Destination": "https://198.18.0.100:8443" + path, "Protocol": "Redfish",
                    "Context": "tls" + path}
            if verify is not None:
                body["VerifyCertificate"] = verify
            status, headers, doc, _ = pinned_request(FLOATING, "/redfish/v1/EventService/"
                                                     "Subscriptions", pin, "POST", body,
                                                     auth=admin())
            assert status == 201, doc
            assert doc["VerifyCertificate"] is bool(verify), doc
            subs.append(headers["location"])
        status, _, _, _ = pinned_request(FLOATING, "/redfish/v1/Chassis/Enclosure", pin,
                                         "PATCH", {"AssetTag": "over-tls"}, auth=admin())
        assert status in (200, 204), status

        def lines():
            return received.read_text().splitlines() if received.exists() else []
        wait_for(lambda: any("over-tls" in l for l in lines()), 10,
                 what="the event delivered over TLS")
        line = next(l for l in lines() if "over-tls" in l)
        path, version, body = line.split(" ", 2)
        assert path == "/plain" and version in ("TLSv1.2", "TLSv1.3"), line
        assert json.loads(body)["Context"] == "tls/plain"
        # The verified subscription: its tries (first + 3 retries, 2 s apart) all refused.
        wait_for(lambda: "/verified: event" in pair.log_text(active) and
                 "dropped after" in pair.log_text(active), 20, 0.2,
                 what="the verified subscription's event dropped")
        log = pair.log_text(active)
        dropped = [l for l in log.splitlines() if "/verified: event" in l and "dropped" in l]
        assert dropped and "certificate" in dropped[0], dropped
        assert not any(l.startswith("/verified") for l in lines()), lines()
        for sub in subs:
            status, _, _, _ = pinned_request(FLOATING, sub, pin, "DELETE", auth=admin())
            assert status == 204
    finally:
        receiver.terminate()
        receiver.wait(5)
