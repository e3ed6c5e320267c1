"""Failover of the real firmware image: two SP boards booted under QEMU (tools/qemu-pair),
driven from a client on their management LAN.

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu
Image: $DUALSP_IMAGE_DIR (default build/image-$DUALSP_QEMU_ARCH, arch default arm64), built
by `make -f Makefile.cross ARCH=arm64`. One pair is booted for the module; its logs (serial
consoles, power.log) stay in $DUALSP_QEMU_RUN (default /run/dualsp-qemu-test) afterwards.
"""

import hashlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
sys.dont_write_bytecode = True

from qemu_pair import QemuPair  # noqa: E402
from qemu_pair.client import ArpWatch, arp_entry, enter, http_request  # noqa: E402
from qemu_pair.common import FLOATING, MAC_MGMT, MGMT, other  # noqa: E402

ARCH = os.environ.get("DUALSP_QEMU_ARCH", "arm64")
IMAGE = Path(os.environ.get("DUALSP_IMAGE_DIR") or REPO / "build" / ("image-" + ARCH))
RUN_DIR = os.environ.get("DUALSP_QEMU_RUN") or "/run/dualsp-qemu-test"
OUTAGE_BOUND_S = 5.0      # the brief's bound under TCG; the design target on hardware is 0.1 s
PROBE_INTERVAL_S = 0.02
# A peer the heartbeats declared dead is not asked: the answer about it comes from the
# survivor's cache, well inside the 500 ms deadline a forwarded query would wait out
# (peer_link.request_timeout_ms) against a powered-off board that never closes its TCP.
STALE_ANSWER_BOUND_MS = 400


@pytest.fixture(scope="module")
def pair(request):
    if os.geteuid() != 0:
        pytest.fail("the QEMU tests need root (network namespace, tap device)")
    missing = [f for f in ("kernel", "initramfs.cpio.gz", "qemu.json") if not (IMAGE / f).exists()]
    if missing:
        pytest.fail("no firmware image in %s (missing %s): run `make -f Makefile.cross ARCH=%s`"
                    % (IMAGE, ", ".join(missing), ARCH), pytrace=False)
    p = QemuPair(ARCH, str(IMAGE), run_dir=RUN_DIR)
    failed_before = request.session.testsfailed
    got = p.up(timeout=90)
    print("\npair up in %.1f s (image %s): SP-%s active; /init started spd at guest uptime "
          "A %.2f s, B %.2f s" % (got["seconds"], IMAGE, got["active"],
                                  p.boot_marker_time("A") or -1, p.boot_marker_time("B") or -1))
    yield p
    if request.session.testsfailed > failed_before:
        for sp in ("A", "B"):
            print("----- SP-%s console (last 30 lines)" % sp)
            print("\n".join(p.console_tail(sp, 30)))
        print("----- fences\n" + "\n".join(p.fences()))
    p.down(quiet=True, keep_logs=True)


def manager_via_floating(pair, about, timeout=3.0):
    doc, rec = pair.manager(about, timeout=timeout)
    assert doc is not None, rec
    return doc, rec


class Probe:
    """A client polling GET /redfish/v1 on the floating IP every 20 ms from the client
    namespace. Attempts overlap (one starts every interval even while earlier ones wait), so
    the first answer after the takeover is seen within one interval. Each round also reads
    the client's ARP entry for the floating IP."""

    def __init__(self, pair, timeout=1.0):
        self.pair = pair
        self.timeout = timeout
        self.futures = []
        self.arp = []                      # (t, mac)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        c = self.pair.client
        enter()                            # this thread reads the client's ARP table
        next_t = time.monotonic()
        while not self._stop.is_set():
            self.futures.append(c.submit(http_request, FLOATING, "/redfish/v1", self.timeout))
            self.arp.append((time.monotonic(), arp_entry(FLOATING)))
            next_t += PROBE_INTERVAL_S
            time.sleep(max(0.0, next_t - time.monotonic()))

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return sorted((f.result(timeout=self.timeout + 5) for f in self.futures),
                      key=lambda r: r["t"])


HTTPS_PORT = 443
FINGERPRINT = r"([0-9A-F]{2}:){31}[0-9A-F]{2}"
ARRAY_CERTIFICATE = {}     # the fingerprint both SPs served before the kill


def tls_peer(host, version=None, timeout=3.0):
    """(SHA-256 fingerprint of the certificate served, TLS version) of host's HTTPS port, or
    (None, why not). version: that TLS version only, the client's own floor lowered
    (SECLEVEL=0) so that a refusal is the server's."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version is not None:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ctx.maximum_version = version
    try:
        with socket.create_connection((host, HTTPS_PORT), timeout) as raw, \
                ctx.wrap_socket(raw) as s:
            der = s.getpeercert(binary_form=True)
            return ":".join("%02X" % b for b in hashlib.sha256(der).digest()), s.version()
    except (OSError, ssl.SSLError) as e:
        return None, "%s: %s" % (type(e).__name__, e)


def tls_suite(host, cipher, timeout=3.0):
    """The suite host's HTTPS negotiates when the client offers only `cipher` (OpenSSL's name,
    TLS 1.2), or None when the server refuses it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(cipher + ":@SECLEVEL=0")
    try:
        with socket.create_connection((host, HTTPS_PORT), timeout) as raw, \
                ctx.wrap_socket(raw) as s:
            return s.cipher()[0]
    except (OSError, ssl.SSLError):
        return None


# webserver/tls_cipher_lists.hpp in OpenSSL's names, by the certificate's key type; the
# firmware's mbedTLS is built with these and nothing weaker (tools/firmware/mbedtls-config.h).
SUITES = {"EC": ["ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
                 "ECDHE-ECDSA-AES128-GCM-SHA256"],
          "RSA": ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
                  "ECDHE-RSA-AES128-GCM-SHA256"]}
REFUSED_SUITES = {"EC": ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA"],
                  "RSA": ["ECDHE-RSA-AES128-SHA256", "AES128-GCM-SHA256", "AES256-SHA",
                          "DHE-RSA-AES128-GCM-SHA256"]}


def suites_served(pair, host, key_type):
    """({suite: negotiated or None} of the suites that must work, same of those that must
    not) on host, for a certificate of key_type."""
    return ({c: pair.client.call(tls_suite, host, c) for c in SUITES[key_type]},
            {c: pair.client.call(tls_suite, host, c) for c in REFUSED_SUITES[key_type]})


def served_certificates(pair):
    """{host: fingerprint or why not} of SP-A's, SP-B's and the floating address's HTTPS."""
    return {h: fingerprint or why for h, (fingerprint, why) in
            ((h, pair.client.call(tls_peer, h)) for h in (MGMT["A"], MGMT["B"], FLOATING))}


# A configuration change acknowledged before the kill; the survivor and the SP that boots
# again (its store was on tmpfs: it gets it back from the peer) must both have it.
ASSET_TAG = "qemu-rack-%d" % os.getpid()


def asset_tag(pair, host=FLOATING):
    rec = pair.client_http("/redfish/v1/Chassis/Enclosure", host=host, timeout=3.0)
    return json.loads(rec["body"]).get("AssetTag") if rec["ok"] else None


def test_no_secret_on_a_command_line_and_credentials_needed(pair):
    """The pair key and the administrator's password reach each board on its config
    partition, never on a command line: not in the host's `ps` (every local user sees it),
    not in a VM's -append (the guest's /proc/cmdline). The Managers need the credentials."""
    key = open(os.path.join(pair.paths.run, "pair.key")).read().strip()
    cred = pair.credentials()
    assert cred and cred.startswith("admin:"), "no credentials after up"
    password = cred.split(":", 1)[1]
    st = os.stat(os.path.join(pair.paths.run, "credentials"))
    assert st.st_mode & 0o077 == 0, oct(st.st_mode)
    ps = subprocess.run(["ps", "-e", "-ww", "-o", "args="], stdout=subprocess.PIPE, text=True,
                        timeout=10).stdout
    assert key not in ps, "the pair key is on a command line"
    assert password not in ps, "the administrator's password is on a command line"
    for sp in ("A", "B"):
        pid = pair.vm_pid(sp)
        assert pid, "SP-%s's VM is not running" % sp
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            args = f.read().split(b"\0")
        append = args[args.index(b"-append") + 1].decode()
        assert "dualsp.config=/dev/vda" in append and "pair_key" not in append, append
        assert key.encode() not in b" ".join(args)
        console = "\n".join(pair.console_tail(sp, 400))
        assert key not in console and password not in console
    act = pair.wait_active(timeout=10)
    rec = pair.client_http("/redfish/v1/Managers/SP" + act, auth=False, timeout=3.0)
    assert rec["status"] == 401, rec
    assert pair.client_http("/redfish/v1", auth=False, timeout=3.0)["status"] == 200


def test_floating_ip_serves_the_active_managers(pair):
    act = pair.wait_active(timeout=10)
    pair.wait_role(other(act), "passive", 20)
    doc, rec = manager_via_floating(pair, act)
    assert rec["sp"] == act, rec
    assert doc["Oem"]["DualSP"]["Role"] == "active" and doc["Status"]["State"] == "Enabled", doc
    rec = pair.client_http("/redfish/v1/Managers")
    assert rec["ok"], rec
    members = {m["@odata.id"] for m in json.loads(rec["body"])["Members"]}
    assert members == {"/redfish/v1/Managers/SPA", "/redfish/v1/Managers/SPB"}, members
    # A configuration change through the floating IP, acknowledged by the pair.
    rec = pair.client_http("/redfish/v1/Chassis/Enclosure", method="PATCH", timeout=3.0,
                           body={"AssetTag": ASSET_TAG})
    assert rec["ok"] and rec["status"] == 200, rec
    assert asset_tag(pair) == ASSET_TAG


def test_https_one_array_certificate_tls12_only(pair):
    """Both SPs and the floating address serve the array's one certificate (spd makes it on
    the active SP and both install it from the replicated store; spweb starts with its own
    until then), over TLS 1.2 (mbedTLS 2.28, no 1.3); TLS 1.1 is refused by the server."""
    deadline = time.monotonic() + 30
    while True:
        got = served_certificates(pair)
        if len(set(got.values())) == 1 and re.fullmatch(FINGERPRINT, got[FLOATING]):
            break
        assert time.monotonic() < deadline, "not one certificate on all three: %r" % got
        time.sleep(0.5)
    ARRAY_CERTIFICATE["fingerprint"] = got[FLOATING]
    fingerprint, version = pair.client.call(tls_peer, FLOATING, ssl.TLSVersion.TLSv1_2)
    assert (fingerprint, version) == (got[FLOATING], "TLSv1.2"), version
    refused, why = pair.client.call(tls_peer, FLOATING, ssl.TLSVersion.TLSv1_1)
    assert refused is None and "PROTOCOL_VERSION" in why.upper(), why
    print("\nHTTPS: %s on SP-A, SP-B and %s; TLS 1.2 served, TLS 1.1 refused (%s)" % (
        got[FLOATING][:23], FLOATING, why))


def test_https_serves_exactly_the_firmware_suites(pair):
    """The firmware's mbedTLS (tools/firmware/mbedtls-config.h) negotiates each ECDHE-ECDSA
    AEAD suite with the array's EC certificate and refuses CBC suites."""
    good, bad = suites_served(pair, FLOATING, "EC")
    print("\nHTTPS suites with the EC certificate: %s; refused: %s" % (good, bad))
    assert good == {c: c for c in SUITES["EC"]}, good
    assert bad == {c: None for c in REFUSED_SUITES["EC"]}, bad


def test_kill_of_the_active_the_other_serves_within_the_bound(pair):
    old = pair.wait_active(timeout=10)
    new = other(old)
    pair.wait_role(new, "passive", 20)
    fences_before = len(pair.fences())
    arp = ArpWatch(pair.client)
    probe = Probe(pair)
    try:
        # A baseline of answers from the active SP before the kill: waited for, not assumed
        # (a loaded CI machine once answered none in the 0.5 s this used to sleep).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            done = [f.result() for f in list(probe.futures) if f.done()]
            if sum(1 for r in done if r["ok"] and r["sp"] == old) >= 3:
                break
            time.sleep(0.05)
        t_kill = pair.kill(old)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            done = [f.result() for f in list(probe.futures) if f.done()]
            if any(r["ok"] and r["sp"] == new and r["t"] > t_kill for r in done):
                break
            time.sleep(0.05)
        time.sleep(0.5)                    # answers after the takeover, too
    finally:
        recs = probe.stop()
        arp.stop()

    before = [r for r in recs if r["ok"] and r["t"] + r["ms"] / 1000 <= t_kill]
    served = [r for r in recs if r["ok"] and r["sp"] == new and r["t"] > t_kill]
    assert before and all(r["sp"] == old for r in before), before[-3:]
    assert served, "no answer from SP-%s within 15 s of the kill; last: %r" % (new, recs[-3:])
    first = served[0]
    outage = first["t"] + first["ms"] / 1000 - t_kill
    last_old = max(r["t"] + r["ms"] / 1000 for r in before)
    gap = first["t"] + first["ms"] / 1000 - last_old
    failed = sum(1 for r in recs if not r["ok"] and r["t"] > t_kill)
    print("\nkill of SP-%s: SP-%s served the floating IP %.0f ms after the kill (last answer "
          "before it to first after: %.0f ms; %d probes failed in between)" % (
              old, new, outage * 1000, gap * 1000, failed))
    assert outage < OUTAGE_BOUND_S, "outage %.2f s" % outage
    # Once SP-new has answered, every later answer is its (the dead SP answers nothing).
    late = [r for r in recs if r["ok"] and r["t"] > first["t"]]
    assert all(r["sp"] == new for r in late), [r for r in late if r["sp"] != new][:3]

    # The survivor is active, fenced the dead SP through the chassis, answers about it stale.
    assert pair.wait_active(new, 5) == new
    assert not pair.vm_running(old)
    fences = pair.fences()[fences_before:]
    assert fences and all("fence SP-%s" % old in f for f in fences), fences
    doc, rec = manager_via_floating(pair, old)
    oem = doc["Oem"]["DualSP"]
    print("SP-%s about the dead SP-%s: stale=%s, age %s ms, answered in %.0f ms" % (
        new, old, oem.get("Stale"), oem.get("AgeMs"), rec["ms"]))
    assert oem["Stale"] is True and oem["AgeMs"] is not None and oem["AgeMs"] >= 0, oem
    assert oem["ServedBy"] == new, oem
    assert rec["ms"] <= STALE_ANSWER_BOUND_MS, rec["ms"]
    own, _ = manager_via_floating(pair, new)
    assert own["Oem"]["DualSP"]["Stale"] is False and own["Status"]["State"] == "Enabled", own
    # Nothing acknowledged is lost: the change made before the kill is on the survivor.
    assert asset_tag(pair) == ASSET_TAG

    # Never two holders: no ARP request for the floating IP answered by two MACs, and the
    # client's ARP entry only ever named one of the two boards, the survivor at the end.
    assert arp.error is None, arp.error
    assert arp.requests > 0 and arp.replies, "no ARP replies for %s" % FLOATING
    assert arp.two_holders() == [], arp.two_holders()[:5]
    assert arp.holders_seen()[-1] == MAC_MGMT[new], arp.holders_seen()
    macs = {m for _, m in probe.arp if m}
    assert macs <= {MAC_MGMT["A"], MAC_MGMT["B"]}, macs
    assert probe.arp[-1][1] == MAC_MGMT[new], probe.arp[-3:]


def test_survivor_serves_the_same_certificate(pair):
    """After the failover the floating address still presents the array's certificate: a
    client that pinned it before sees no change."""
    assert ARRAY_CERTIFICATE, "no certificate recorded before the kill"
    act = pair.wait_active(timeout=10)
    fingerprint, version = pair.client.call(tls_peer, FLOATING)
    assert (fingerprint, version) == (ARRAY_CERTIFICATE["fingerprint"], "TLSv1.2"), (
        act, fingerprint, version)
    assert pair.client.call(tls_peer, MGMT[act])[0] == fingerprint


def test_killed_sp_boots_again_and_rejoins_passive(pair):
    act = pair.wait_active(timeout=10)
    off = other(act)
    assert not pair.vm_running(off), "expects the SP killed by the previous test to be off"
    arp = ArpWatch(pair.client)
    try:
        t0 = time.monotonic()
        pair.start(off)
        pair.wait_role(off, "passive", 60)
        rejoin = time.monotonic() - t0
        print("\nSP-%s powered on: passive after %.1f s (/init started spd at guest uptime "
              "%.2f s)" % (off, rejoin, pair.boot_marker_time(off) or -1))
        # Passive in its own words and through the floating IP, which the active still serves.
        doc, rec = manager_via_floating(pair, off)
        assert doc["Status"]["State"] == "StandbySpare", doc["Status"]
        assert doc["Oem"]["DualSP"]["Stale"] is False, doc["Oem"]
        assert rec["sp"] == act, rec
        # Its store was on tmpfs: the change made before its power loss comes back from the
        # peer (resync after boot).
        deadline = time.monotonic() + 10
        while asset_tag(pair, host=MGMT[off]) != ASSET_TAG and time.monotonic() < deadline:
            time.sleep(0.2)
        assert asset_tag(pair, host=MGMT[off]) == ASSET_TAG
        time.sleep(1.0)                    # no late preemption
        assert pair.holders() == [act]
    finally:
        arp.stop()
    assert arp.two_holders() == [], arp.two_holders()[:5]
    assert set(arp.holders_seen()) == {MAC_MGMT[act]}, arp.holders_seen()
    assert pair.fences()[-1:] and "fence SP-%s" % off in pair.fences()[-1], pair.fences()


def test_hung_active_is_fenced_through_the_chassis(pair):
    """A hung board (its QEMU stopped, the process alive) never answers again: the peer must
    fence it, i.e. have the chassis power it off, before it takes the floating IP."""
    old = pair.wait_active(timeout=10)
    new = other(old)
    pair.wait_role(new, "passive", 20)
    fences_before = len(pair.fences())
    pid = pair.signal(old, signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        # The floating IP, polled every 20 ms, until the peer answers on it.
        deadline = t0 + 10
        served = None
        while served is None and time.monotonic() < deadline:
            rec = pair.client_http("/redfish/v1", timeout=0.3)
            if rec["ok"] and rec["sp"] == new:
                served = time.monotonic() - t0
            else:
                time.sleep(0.02)
        fences = pair.fences()[fences_before:]
        print("\nSP-%s hung: SP-%s serves the floating IP %.0f ms later; %s" % (
            old, new, (served or -1) * 1000, fences[-1:]))
        assert served is not None and served < OUTAGE_BOUND_S, served
        assert pair.wait_active(new, 10) == new
        # The chassis really powered the hung VM off (not "already off").
        assert fences and "fence SP-%s" % old in fences[-1], fences
        assert "powered off (pid %d)" % pid in fences[-1], fences
        assert not pair.vm_running(old)
        assert pair.holders() == [new]
        rec = pair.client_http("/redfish/v1", timeout=3.0)
        assert rec["ok"] and rec["sp"] == new, rec
    finally:
        if pair.vm_running(old):
            pair.signal(old, signal.SIGCONT)


REPLACE = "/redfish/v1/CertificateService/Actions/CertificateService.ReplaceCertificate"


def test_an_rsa_certificate_replaces_the_array_certificate(pair):
    """An administrator's RSA 2048 certificate (ReplaceCertificate through the floating
    address) is checked, installed and served by the firmware's mbedTLS with the ECDHE-RSA
    suites; static-RSA and DHE key exchanges stay refused."""
    active = pair.wait_active(timeout=30)
    out = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
         "/CN=array-rsa.example.test", "-days", "30", "-keyout", "/dev/stdout",
         "-out", "/dev/stdout"], capture_output=True, text=True, timeout=60, check=True).stdout
    key = out[out.index("-----BEGIN PRIVATE KEY-----"):out.index("-----END PRIVATE KEY-----") + 25]
    cert = out[out.index("-----BEGIN CERTIFICATE-----"):out.index("-----END CERTIFICATE-----") + 25]
    rec = pair.client_http(REPLACE, timeout=30, method="POST", body={
        "CertificateString": cert + "\n" + key + "\n", "CertificateType": "PEM",
        "CertificateUri": {"@odata.id":
                           "/redfish/v1/Managers/SP%s/NetworkProtocol/HTTPS/Certificates/1"
                           % active}})
    assert rec["status"] == 200, rec
    doc = json.loads(rec["body"])
    assert doc["Subject"]["CommonName"] == "array-rsa.example.test", doc
    want = doc["Fingerprint"].upper()
    deadline = time.monotonic() + 30
    while pair.client.call(tls_peer, FLOATING)[0] != want:
        assert time.monotonic() < deadline, "the floating address never served the RSA one"
        time.sleep(0.2)
    good, bad = suites_served(pair, FLOATING, "RSA")
    print("\nHTTPS suites with the RSA certificate: %s; refused: %s" % (good, bad))
    assert good == {c: c for c in SUITES["RSA"]}, good
    assert bad == {c: None for c in REFUSED_SUITES["RSA"]}, bad
