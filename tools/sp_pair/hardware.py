"""What `up` provisions beside the configs: each SP's hardware description (the sim back end's
sensors, inventory, the shelf's drives and its I/O figures, docs/HARDWARE-SIM.md) and the
array's pair key (peer-link auth)."""

import json
import os

PAIR_KEY_BYTES = 32


def _serial(sp, n):
    return "SIM%s%04d" % (sp, n)


# The array's drive shelf, cabled to both SPs: slots 0-7 4 TB SAS HDDs, 8-11 1.92 TB SAS SSDs
# (the capacities such drives report).
SHELF_SLOTS = 12
HDD_SLOTS = range(0, 8)
HDD_BYTES = 4000787030016
SSD_BYTES = 1920383410176


def drives():
    """The shelf as both SPs see it: the same drives, ids and serial numbers in each
    description (SIMD0001 is slot 0's), all healthy."""
    out = []
    for slot in range(SHELF_SLOTS):
        hdd = slot in HDD_SLOTS
        out.append({"slot": slot, "id": "Disk%d" % slot,
                    "capacity_bytes": HDD_BYTES if hdd else SSD_BYTES,
                    "media_type": "HDD" if hdd else "SSD", "protocol": "SAS",
                    "manufacturer": "DualSP Sim", "model": "SIM-HDD-4T" if hdd else "SIM-SSD-1T9",
                    "serial_number": _serial("D", slot + 1), "failed": False})
    return out


# Each SP's front-end ports (host-facing): two iSCSI portals on the array's host network
# 198.18.2.0/24 (issue 16 puts them on a real NIC under QEMU; in the netns harness they are
# data only) and one 16 Gb FC port. One target IQN per SP, as LIO names a target.
def ports(sp):
    """The front-end ports SP `sp` reports: iSCSI0/iSCSI1 with its target IQN and a portal
    each, and FC0 with a WWPN that differs per SP."""
    base = 10 if sp == "A" else 20
    iqn = "iqn.2026-12.dualsp.sim:array.sp%s" % sp.lower()
    return [
        {"id": "iSCSI0", "protocol": "iSCSI", "identifier": iqn,
         "address": "198.18.2.%d:3260" % base, "link_up": True, "speed_mbps": 25000},
        {"id": "iSCSI1", "protocol": "iSCSI", "identifier": iqn,
         "address": "198.18.2.%d:3260" % (base + 1), "link_up": True, "speed_mbps": 25000},
        {"id": "FC0", "protocol": "FC", "identifier": "5001405%s00000001" % ("a" if sp == "A" else "b"),
         "link_up": True, "speed_mbps": 16000},
    ]


def performance():
    """The shelf's I/O as an SP sees it: idle until a test sets figures (docs/METRICS.md).
    Without cpu_percent and memory_percent an SP shows what /proc says: the host's CPU and
    memory, since both SPs are processes on it."""
    return {"read_iops": 0, "write_iops": 0, "read_bytes_per_second": 0,
            "write_bytes_per_second": 0}


def description(sp):
    """The simulated hardware of SP `sp`: every part an SP board carries, serial numbers that
    differ per SP, readings a healthy board shows (SP-B runs a little warmer), and the shelf's
    drives, the same for both SPs."""
    warm = 0.0 if sp == "A" else 1.5
    sensors = [
        {"id": "CPU0Temp", "name": "CPU 0 temperature", "kind": "Temperature",
         "reading": 47.5 + warm, "units": "Cel", "upper_critical": 95},
        {"id": "BoardTemp", "name": "SP board temperature", "kind": "Temperature",
         "reading": 38.0 + warm, "units": "Cel", "upper_critical": 80},
        {"id": "InletTemp", "name": "Inlet air temperature", "kind": "Temperature",
         "reading": 24.0, "units": "Cel", "upper_critical": 45},
        {"id": "Fan0", "name": "Fan 0", "kind": "Rotational", "reading": 7200, "units": "RPM",
         "failed": False},
        {"id": "Fan1", "name": "Fan 1", "kind": "Rotational", "reading": 7150, "units": "RPM",
         "failed": False},
        {"id": "PSU0Power", "name": "PSU 0 output power", "kind": "Power", "reading": 182.5,
         "units": "W", "upper_critical": 550, "failed": False},
        {"id": "PSU1Power", "name": "PSU 1 output power", "kind": "Power", "reading": 176.0,
         "units": "W", "upper_critical": 550, "failed": False},
        {"id": "Board12V", "name": "SP board 12 V rail", "kind": "Voltage", "reading": 12.06,
         "units": "V", "upper_critical": 13.2},
    ]
    parts = [
        ("Board", "Board", "SP board", "SIM-SP-1", "SP-1-00"),
        ("CPU0", "Processor", "CPU 0", "SIM-CPU-8C", "CPU-8C-01"),
        ("DIMM0", "Memory", "DIMM 0", "SIM-DDR4-16G", "MEM-16G-01"),
        ("DIMM1", "Memory", "DIMM 1", "SIM-DDR4-16G", "MEM-16G-01"),
        ("Fan0", "Fan", "Fan 0", "SIM-FAN-40", "FAN-40-02"),
        ("Fan1", "Fan", "Fan 1", "SIM-FAN-40", "FAN-40-02"),
        ("PSU0", "PowerSupply", "PSU 0", "SIM-PSU-550", "PSU-550-01"),
        ("PSU1", "PowerSupply", "PSU 1", "SIM-PSU-550", "PSU-550-01"),
        ("BootMedia", "BootMedia", "Boot flash", "SIM-EMMC-32G", "BOOT-32G-01"),
    ]
    inventory = [{"id": pid, "kind": kind, "name": name, "manufacturer": "DualSP Sim",
                  "model": model, "serial_number": _serial(sp, n + 1), "part_number": pn}
                 for n, (pid, kind, name, model, pn) in enumerate(parts)]
    return {"sensors": sensors, "inventory": inventory, "drives": drives(), "ports": ports(sp),
            "performance": performance()}


def write_description(path, sp):
    """A healthy board's description, written atomically (see write_json)."""
    write_json(path, description(sp))


def write_json(path, doc):
    """Atomically (a temporary name, then rename), so a running spd never reads half a file;
    the rename also gives spd a new inode to notice."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def write_pair_key(path):
    """A fresh array key: 32 random bytes, hex, newline; mode 0600 from creation on."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        os.unlink(tmp)  # left by a crashed run with the same pid
    except OSError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (os.urandom(PAIR_KEY_BYTES).hex() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
