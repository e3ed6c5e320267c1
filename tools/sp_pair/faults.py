"""Injected hardware faults (`sp-pair fault A|B NAME`, `clear A|B [NAME]`): each edits what the
hardware would show, the SP's hardware description (docs/HARDWARE-SIM.md) or, for the
management link, the network. spd finds them the way it finds real ones; no backdoor."""

import contextlib
import fcntl
import json
import os

from . import hardware, netns
from .common import NS_LAN, HarnessError

# Injected into the SP's own parts: the first CPU sensor, fan and PSU of hardware.description().
CPU_SENSOR, FAN_SENSOR, PSU_SENSOR = "CPU0Temp", "Fan0", "PSU0Power"
# How far above its upper_critical an overheating CPU reads.
OVERHEAT_C = 10

# The "faults" entries (docs/HARDWARE-SIM.md); message ids from
# /work/shared/redfish/registries/Platform.1.3.2.json.
ENTRIES = {
    "memory-ecc": {"id": "memory-ecc", "component": "DIMM0",
                   "message_id": "Platform.1.3.2.MemoryUncorrectableError",
                   "text": "Memory device 'DIMM0' detected an uncorrectable error.",
                   "severity": "Critical"},
    "boot-media": {"id": "boot-media", "component": "BootMedia0",
                   "message_id": "Platform.1.3.2.DeviceBootTimeout",
                   "text": "Boot medium 'BootMedia0' is not responding.",
                   "severity": "Critical"},
}

# name -> what it does (for --help, errors and docs/HARNESS.md)
NAMES = {
    "temperature-critical": "CPU0Temp reads upper_critical + %d Cel" % OVERHEAT_C,
    "fan-failed": "Fan0 failed, 0 RPM",
    "psu-failed": "PSU0Power failed, 0 W",
    "memory-ecc": "faults entry memory-ecc (DIMM0, Platform.1.3.2.MemoryUncorrectableError)",
    "boot-media": "faults entry boot-media (BootMedia0, Platform.1.3.2.DeviceBootTimeout)",
    "mgmt-link-down": "the LAN end of the SP's management veth down: mgmt0 loses carrier",
}
NETWORK_FAULTS = ("mgmt-link-down",)


def names_text():
    return ", ".join(NAMES)


def lan_port(sp):
    return netns.LAN_PORT[sp]


# ---------------------------------------------------------------- the description

def read_description(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise HarnessError("cannot read the hardware description %s: %s" % (path, e.strerror))
    except ValueError as e:
        raise HarnessError("the hardware description %s is not JSON: %s" % (path, e))
    if not isinstance(doc, dict):
        raise HarnessError("the hardware description %s is not a JSON object" % path)
    return doc


@contextlib.contextmanager
def editing(path):
    """Read-modify-write of a description under a lock (two `fault` calls at once lose
    neither edit); written to a temporary name and renamed, so spd never reads half a file."""
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        doc = read_description(path)
        before = json.dumps(doc, sort_keys=True)
        yield doc
        if json.dumps(doc, sort_keys=True) != before:
            hardware.write_json(path, doc)


def _sensor(doc, sensor_id, path):
    for s in doc.get("sensors") or []:
        if isinstance(s, dict) and s.get("id") == sensor_id:
            return s
    raise HarnessError("%s has no sensor %s" % (path, sensor_id))


def _normal(sp, sensor_id):
    """The sensor as a healthy board of this SP shows it (what `up` writes)."""
    for s in hardware.description(sp)["sensors"]:
        if s["id"] == sensor_id:
            return s
    raise AssertionError(sensor_id)


def inject(doc, sp, name, path=""):
    """Applies fault `name` to description `doc` (in place). Idempotent."""
    if name == "temperature-critical":
        s = _sensor(doc, CPU_SENSOR, path)
        limit = s.get("upper_critical") or _normal(sp, CPU_SENSOR)["upper_critical"]
        s["upper_critical"] = limit
        s["reading"] = limit + OVERHEAT_C
    elif name in ("fan-failed", "psu-failed"):
        s = _sensor(doc, FAN_SENSOR if name == "fan-failed" else PSU_SENSOR, path)
        s["failed"] = True
        s["reading"] = 0
    elif name in ENTRIES:
        faults = [f for f in doc.get("faults") or [] if not (isinstance(f, dict) and f.get("id") == name)]
        doc["faults"] = faults + [dict(ENTRIES[name])]
    else:
        raise AssertionError(name)


def remove(doc, sp, name, path=""):
    """Undoes fault `name` in `doc` (in place): the part reads as on a healthy board."""
    if name in ("temperature-critical", "fan-failed", "psu-failed"):
        sid = {"temperature-critical": CPU_SENSOR, "fan-failed": FAN_SENSOR,
               "psu-failed": PSU_SENSOR}[name]
        s = _sensor(doc, sid, path)
        normal = _normal(sp, sid)
        s["reading"] = normal["reading"]
        if name == "temperature-critical":
            s["upper_critical"] = normal["upper_critical"]
        else:
            s["failed"] = False
    elif name in ENTRIES:
        if "faults" in doc:
            doc["faults"] = [f for f in doc["faults"] or []
                             if not (isinstance(f, dict) and f.get("id") == name)]
    else:
        raise AssertionError(name)


def in_description(doc):
    """The fault names a description shows, plus the ids of other "faults" entries (written
    by hand), in NAMES order."""
    out = []
    sensors = {s.get("id"): s for s in doc.get("sensors") or [] if isinstance(s, dict)}
    cpu = sensors.get(CPU_SENSOR) or {}
    if cpu.get("upper_critical") and (cpu.get("reading") or 0) >= cpu["upper_critical"]:
        out.append("temperature-critical")
    if (sensors.get(FAN_SENSOR) or {}).get("failed"):
        out.append("fan-failed")
    if (sensors.get(PSU_SENSOR) or {}).get("failed"):
        out.append("psu-failed")
    ids = [f.get("id") for f in doc.get("faults") or [] if isinstance(f, dict)]
    out += [n for n in ENTRIES if n in ids]
    out += [i for i in ids if i not in ENTRIES and i not in out]
    return out


# ---------------------------------------------------------------- the management link

def mgmt_link_down(sp):
    """True when the LAN end of the SP's management veth is administratively down."""
    if not netns.ns_exists(NS_LAN):
        return False
    p = netns.ip(["-j", "link", "show", "dev", lan_port(sp)], ns=NS_LAN, check=False)
    try:
        return "UP" not in json.loads(p.stdout)[0].get("flags", [])
    except (ValueError, IndexError, KeyError):
        return False


def set_mgmt_link(sp, up):
    """Plugs or pulls the SP's management cable: the LAN end of its veth (a bridge port in
    dualsp-lan) up or down. mgmt0 in the SP keeps its addresses and loses or regains carrier."""
    if not netns.ns_exists(NS_LAN):
        raise HarnessError("namespace %s does not exist; run `sp-pair up`" % NS_LAN)
    netns.ip(["link", "set", "dev", lan_port(sp), "up" if up else "down"], ns=NS_LAN)


# ---------------------------------------------------------------- the verbs

def check_mode(lay, name):
    if lay.mode == "loopback" and name in NETWORK_FAULTS:
        raise HarnessError("%s needs the netns topology (a management link to pull); loopback "
                           "mode has none. Use `sp-pair up --netns` (as root)" % name)


def fault(lay, sp, name):
    """Injects one fault; returns a line saying what changed."""
    check_mode(lay, name)
    if name == "mgmt-link-down":
        set_mgmt_link(sp, False)
        return "SP-%s: fault mgmt-link-down: %s %s down (mgmt0 has no carrier)" % (
            sp, NS_LAN, lan_port(sp))
    path = lay.hardware_path(sp)
    with editing(path) as doc:
        inject(doc, sp, name, path)
    return "SP-%s: fault %s: %s (%s)" % (sp, name, NAMES[name], path)


def clear(lay, sp, name=None):
    """Clears one fault, or every fault (name None): the parts read as on a healthy board,
    every "faults" entry goes, the management link is up. Returns a line."""
    if name is not None:
        check_mode(lay, name)
        names = [name]
    else:
        names = [n for n in NAMES if not (lay.mode == "loopback" and n in NETWORK_FAULTS)]
    path = lay.hardware_path(sp)
    file_names = [n for n in names if n not in NETWORK_FAULTS]
    if file_names:
        with editing(path) as doc:
            for n in file_names:
                remove(doc, sp, n, path)
            if name is None and doc.get("faults"):
                doc["faults"] = []
    if "mgmt-link-down" in names:
        set_mgmt_link(sp, True)
    return "SP-%s: cleared %s" % (sp, name or "every fault")


def injected(lay, sp):
    """The faults SP `sp` shows now: from its description and (netns) its management link."""
    try:
        out = in_description(read_description(lay.hardware_path(sp)))
    except HarnessError as e:
        out = ["(%s)" % e]
    if lay.mode == "netns" and mgmt_link_down(sp):
        out.append("mgmt-link-down")
    return out
