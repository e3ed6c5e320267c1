"""The Redfish clients people already use, run unchanged against the floating address from the
client namespace (issue 15, "Compatibility with the clients people use"):

- Debian's redfishtool with its default transport options (HTTPS for everything
  authenticated) and a session (-A Session): managers, chassis, the legacy Thermal and Power,
  a log, a PATCH of the enclosure's AssetTag. redfishtool 1.1.5 never verifies a
  certificate (requests with verify=False, hard-coded), so it needs nothing of the array's.
- Debian's python3-sushy (OpenStack Ironic's client) with a session (sushy.auth.SessionAuth)
  over HTTPS, verifying the array's certificate (verify=<file>): the one the SPs serve, taken
  out of band from SP-A's state directory (as an administrator would copy it), never the key.

DMTF's python-redfish-library is not packaged in Debian 12 (`apt-cache search redfish`:
redfishtool, python3-sushy, python3-sushy-cli, ilorest), so it is not run here; the Redfish
validator runs it from its own checkout (docs/REDFISH-VALIDATOR.md).

Each test asserts what the client read, not only that it ran. One pair for the module: the
tests only read, except one PATCH whose value no other test looks at.
"""

import json
import os
import subprocess

import pytest

from conftest import FLOATING, MGMT, NS, PYTHON, STATE, pair_up
from sp_pair.redfish import http_request, resolve_auth

SESSIONS = "/redfish/v1/SessionService/Sessions"


@pytest.fixture(scope="module")
def pair():
    """One fresh pair for the module's clients (each test would otherwise pay an `up`)."""
    with pair_up() as p:
        yield p


# requests lets these override a session's own `verify` (its merge_environment_settings), so
# sushy's verify=<the array's certificate> would be replaced by the system's CA bundle.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def client_env():
    """The client's environment: no proxy (the test LAN is local), no CA bundle override,
    nothing of the tests."""
    return {k: v for k, v in os.environ.items()
            if "proxy" not in k.lower()
            and k not in ("DUALSP_AUTH", "PYTHONPATH") + CA_BUNDLE_VARIABLES}


def session_count():
    r = http_request(FLOATING, SESSIONS, timeout=2.0)
    assert r["status"] == 200, r
    return r["json"]["Members@odata.count"]


# --- redfishtool ---

def redfishtool(*args):
    """redfishtool as Debian ships it, from the client namespace, with its default transport
    options and a session (-A Session: it logs in, and logs out when the command ends). It
    takes the password only as an argument, so a failure's message shows the command without
    it. Returns the JSON it printed."""
    user, password = resolve_auth().split(":", 1)
    cmd = ["ip", "netns", "exec", NS["cli"], "redfishtool", "-r", FLOATING, "-A", "Session",
           "-u", user, "-p", password, "-T", "5"] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60, env=client_env())
    shown = " ".join("***" if a == password else a for a in cmd)
    assert p.returncode == 0, "%s: exit %d\n%s\n%s" % (shown, p.returncode, p.stdout, p.stderr)
    assert password not in p.stdout + p.stderr
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise AssertionError("%s: not JSON:\n%s\n%s" % (shown, p.stdout, p.stderr))


def test_redfishtool_reads_and_changes_the_array_with_a_session_over_https(pair):
    if not os.access("/usr/bin/redfishtool", os.X_OK):
        pytest.fail("redfishtool missing (tools/install-deps installs it)")
    sessions_before = session_count()

    managers = redfishtool("Managers", "list")
    assert sorted(m["Id"] for m in managers["Members"]) == ["SPA", "SPB"], managers
    for sp in ("A", "B"):
        doc = redfishtool("Managers", "-I", "SP" + sp, "get")
        assert doc["Id"] == "SP" + sp and doc["Status"]["Health"] == "OK", doc

    chassis = redfishtool("Chassis", "list")
    assert [c["Id"] for c in chassis["Members"]] == ["Enclosure"], chassis
    enclosure = redfishtool("Chassis", "-I", "Enclosure", "get")
    assert enclosure["ChassisType"] == "Enclosure", enclosure
    assert enclosure["Thermal"]["@odata.id"] == "/redfish/v1/Chassis/Enclosure/Thermal"
    assert enclosure["Power"]["@odata.id"] == "/redfish/v1/Chassis/Enclosure/Power"

    # The legacy resources: every reading of both SPs, as the harness's boards have them
    # (tools/sp_pair/hardware.py: SP-B runs 1.5 degrees warmer).
    thermal = redfishtool("Chassis", "-I", "Enclosure", "Thermal")
    temps = {t["Name"]: t for t in thermal["Temperatures"]}
    assert temps["SP-A CPU 0 temperature"]["ReadingCelsius"] == 47.5, temps
    assert temps["SP-B CPU 0 temperature"]["ReadingCelsius"] == 49.0, temps
    assert temps["SP-A CPU 0 temperature"]["UpperThresholdCritical"] == 95
    assert len(temps) == 6 and thermal["Temperatures@odata.count"] == 6
    assert [t["MemberId"] for t in thermal["Temperatures"]] == [str(i) for i in range(6)]
    fans = {f["Name"]: f for f in thermal["Fans"]}
    assert sorted(fans) == ["SP-A Fan 0", "SP-A Fan 1", "SP-B Fan 0", "SP-B Fan 1"], fans
    assert fans["SP-A Fan 0"]["Reading"] == 7200 and fans["SP-A Fan 0"]["ReadingUnits"] == "RPM"
    assert fans["SP-B Fan 1"]["Status"] == {"State": "Enabled", "Health": "OK"}
    assert thermal["Status"]["Health"] == "OK", thermal["Status"]

    power = redfishtool("Chassis", "-I", "Enclosure", "Power")
    supplies = {s["Name"]: s for s in power["PowerSupplies"]}
    assert sorted(supplies) == ["SP-A PSU 0", "SP-A PSU 1", "SP-B PSU 0", "SP-B PSU 1"], supplies
    assert supplies["SP-A PSU 0"]["PowerOutputWatts"] == 182.5
    assert supplies["SP-B PSU 1"]["PowerCapacityWatts"] == 550
    assert supplies["SP-A PSU 0"]["SerialNumber"].startswith("SIMA"), supplies["SP-A PSU 0"]
    volts = {v["Name"]: v["ReadingVolts"] for v in power["Voltages"]}
    assert volts == {"SP-A SP board 12 V rail": 12.06, "SP-B SP board 12 V rail": 12.06}, volts

    # A log: each Manager's log services, and the array event log's entries.
    logs = redfishtool("Managers", "-I", "SPA", "Logs", "list")
    listed = json.dumps(logs)
    assert "/redfish/v1/Managers/SPA/LogServices/Log" in listed, logs
    assert "/redfish/v1/Managers/SPA/LogServices/Events" in listed, logs

    # A change through redfishtool's own PATCH (If-Match with the ETag it read first).
    tag = "R7-12 redfishtool"
    changed = redfishtool("Chassis", "-I", "Enclosure", "setAssetTag", tag)
    assert changed == {"AssetTag": tag}, changed
    for host in (FLOATING, MGMT["A"], MGMT["B"]):  # held by both SPs, as every change
        r = http_request(host, "/redfish/v1/Chassis/Enclosure", timeout=2.0)
        assert r["status"] == 200 and r["json"]["AssetTag"] == tag, (host, r["status"], r["json"])
    entries = redfishtool("raw", "GET", "/redfish/v1/Managers/SPA/LogServices/Events/Entries?$top=1000")
    assert any("AssetTag = '%s'" % tag in e.get("Message", "") for e in entries["Members"]), entries

    # Each command logged in and out again: no session left behind.
    assert session_count() == sessions_before


# --- sushy ---

SUSHY_SCRIPT = r"""
import json, sys
import sushy
from sushy import auth, exceptions

args = json.loads(sys.stdin.read())
session = auth.SessionAuth(username=args["user"], password=args["password"])
root = sushy.Sushy("https://" + args["host"], auth=session, verify=args["cafile"])
out = {"session": session.get_session_resource_id(), "token": bool(session.get_session_key())}
try:
    if args["what"] == "inventory":
        out["managers"] = sorted(m.identity for m in root.get_manager_collection().get_members())
        manager = root.get_manager("/redfish/v1/Managers/SPA")
        out["manager"] = {"id": manager.identity, "firmware": manager.firmware_version,
                          "type": str(manager.manager_type)}
        chassis = root.get_chassis_collection().get_members()
        out["chassis"] = [c.identity for c in chassis]
        enclosure = chassis[0]
        out["chassis_type"] = str(enclosure.chassis_type)
        out["temperatures"] = {t.name: t.reading_celsius for t in enclosure.thermal.temperatures}
        out["fans"] = {f.name: [f.reading, str(f.reading_units)] for f in enclosure.thermal.fans}
        out["supplies"] = {p.name: p.power_capacity_watts for p in enclosure.power.power_supplies}
        out["systems"] = sorted(root.get_system_collection().members_identities)
        update = root.get_update_service()
        out["update_enabled"] = update.service_enabled
    elif args["what"] == "events":
        events = root.get_event_service()
        out["event_service"] = {"enabled": events.service_enabled,
                                "retries": events.delivery_retry_attempts}
        out["subscriptions"] = events.subscriptions.members_identities
        out["submit_test_event"] = events._actions.submit_test_event is not None
except exceptions.SushyError as e:
    out["error"] = [type(e).__name__, str(e)]
session.close()
print(json.dumps(out))
"""


class SushyMissingAttribute(AssertionError):
    """sushy refused a resource for a member it requires (MissingAttributeError)."""


def array_certificate(tmp_path):
    """The array's certificate (without its key), as an administrator takes it out of band: the
    PEM spd wrote for SP-A's spweb from the replicated store (docs/SECURITY.md "TLS")."""
    path = STATE / "spa" / "spweb-https.pem"
    pem = path.read_text()
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    assert begin in pem, "no certificate in %s" % path
    out = tmp_path / "array-certificate.pem"
    out.write_text(pem[pem.index(begin):pem.index(end) + len(end)] + "\n")
    return str(out)


def sushy(what, tmp_path):
    """SUSHY_SCRIPT in the client namespace (the password on stdin, never in argv)."""
    user, password = resolve_auth().split(":", 1)
    args = {"host": FLOATING, "user": user, "password": password, "what": what,
            "cafile": array_certificate(tmp_path)}
    p = subprocess.run(["ip", "netns", "exec", NS["cli"], PYTHON, "-c", SUSHY_SCRIPT],
                       input=json.dumps(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60, env=client_env())
    assert p.returncode == 0 and p.stdout.strip(), "sushy %s: exit %d\n%s" % (what, p.returncode, p.stderr)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    # A session, not HTTP Basic: sushy logged in and was given a token and the session's URI.
    assert out["token"] and out["session"].startswith(SESSIONS + "/"), out
    if out.get("error", [None])[0] == "MissingAttributeError":
        raise SushyMissingAttribute(out["error"][1])
    assert "error" not in out, out
    return out


def test_sushy_reads_managers_chassis_systems_and_the_update_service(pair, tmp_path):
    sessions_before = session_count()
    out = sushy("inventory", tmp_path)
    assert out["managers"] == ["SPA", "SPB"], out
    assert out["manager"]["id"] == "SPA" and out["manager"]["firmware"], out["manager"]
    assert out["chassis"] == ["Enclosure"] and "enclosure" in out["chassis_type"].lower(), out
    assert out["temperatures"]["SP-A CPU 0 temperature"] == 47.5, out["temperatures"]
    assert out["temperatures"]["SP-B Inlet air temperature"] == 24.0, out["temperatures"]
    assert out["fans"]["SP-B Fan 0"][0] == 7200 and "rpm" in out["fans"]["SP-B Fan 0"][1].lower(), out["fans"]
    assert out["supplies"] == {"SP-A PSU 0": 550, "SP-A PSU 1": 550, "SP-B PSU 0": 550,
                               "SP-B PSU 1": 550}, out["supplies"]
    assert out["systems"] == ["/redfish/v1/Systems/Array"], out
    assert out["update_enabled"] is False, out
    assert session_count() == sessions_before  # sushy logged out


def test_sushy_opens_the_event_service(pair, tmp_path):
    out = sushy("events", tmp_path)
    assert out["event_service"] == {"enabled": True, "retries": 3}, out
    assert out["subscriptions"] == [], out
    assert out["submit_test_event"], out
