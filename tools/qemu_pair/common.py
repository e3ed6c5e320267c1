"""Names, addresses and paths of the QEMU pair, pair.json, small helpers."""

import datetime
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(REPO, "tools")
SELF = os.path.join(TOOLS, "qemu-pair")
SPS = ("A", "B")

DEFAULT_RUN_DIR = "/run/dualsp-qemu"
MIDPLANE = "/dev/shm/dualsp-qemu-midplane"
MIDPLANE_SIZE = 1024 * 1024
# The chassis power register in the midplane (platform/midplane_segment.hpp):
# u64 power_off_request[2] at 256, u64 power_off_done[2] at 272 (index 0 = SP-A).
POWER_REQUEST_OFFSET = 256
POWER_DONE_OFFSET = 272

# The client's namespace (its own name: the host harness owns dualsp-lan/-spa/-spb/-cli).
NS_CLI = "dualsp-qcli"
CLI_IF = "qcli0"
CLI_ADDR = "198.18.0.100"
FLOATING = "198.18.0.10"
MGMT = {"A": "198.18.0.11", "B": "198.18.0.12"}
LINK = {"A": "198.18.1.11", "B": "198.18.1.12"}
# The front end (host-facing network, docs/QEMU-PAIR.md "Front end"): each SP's iSCSI portal
# on its eth2, the client's tap in the client namespace on the switch's third hub.
FRONTEND = {"A": "198.18.2.11", "B": "198.18.2.12"}
FRONTEND_PREFIX_LENGTH = 24
FRONTEND_IF = "eth2"           # in the guest
FE_IF = "qfe0"                 # the client's tap
FE_CLI_ADDR = "198.18.2.100"
ISCSI_PORT = 3260
WEB_PORT = 80
# Locally administered MACs (02:d5:51: the QEMU pair; sp-pair uses 02:d5:50:).
MAC_MGMT = {"A": "02:d5:51:00:00:11", "B": "02:d5:51:00:00:12"}
MAC_LINK = {"A": "02:d5:51:01:00:11", "B": "02:d5:51:01:00:12"}
MAC_CLI = "02:d5:51:00:00:64"
MAC_FRONTEND = {"A": "02:d5:51:02:00:11", "B": "02:d5:51:02:00:12"}
MAC_FE_CLI = "02:d5:51:02:00:64"
# Fixed PCI slots, so the guest's eth0/eth1 follow the slot order.
PCI_MGMT, PCI_LINK, PCI_MIDPLANE, PCI_CONFIG = "0x2", "0x3", "0x4", "0x5"
# The front-end NIC (eth2: the third NIC in PCI order), then the shelf's drives: slot 0x7 +
# n for drive n, after the config disk, so the guest names them vdb, vdc, ... (vda is the
# config disk) the same in both VMs.
PCI_FRONTEND = "0x6"
PCI_SHELF_FIRST = 0x7
# The drive shelf both boards are cabled to (dual-ported drives): raw sparse files in the
# run directory, attached to both VMs.
SHELF_DRIVES = 4
SHELF_DRIVE_MIB = 128
SHELF_MAX_DRIVES = 0x20 - PCI_SHELF_FIRST   # the PCI slots left on the bus


def shelf_serial(n):
    """virtio-blk serial of shelf drive n (at most 20 characters): the same in both VMs."""
    return "DUALSP-SHELF-%02d" % n

# `-name` of each QEMU process: a pid is only ever signalled after its command line shows it
# (a recycled pid is never hit).
NAME_SWITCH = "dualsp-qemu-switch"


def vm_name(sp):
    return "dualsp-qemu-sp-" + sp.lower()


def other(sp):
    return "B" if sp == "A" else "A"


def default_image(arch):
    return os.environ.get("DUALSP_IMAGE_DIR") or os.path.join(REPO, "build", "image-" + arch)


class Paths:
    """Files of one run directory."""

    def __init__(self, run_dir):
        self.run = os.path.abspath(run_dir)

    def __getattr__(self, name):
        files = {"pair_json": "pair.json", "power_log": "power.log", "switch_pid": "switch.pid",
                 "switch_log": "switch.log", "chassis_pid": "chassis.pid",
                 "chassis_log": "chassis.log"}
        if name in files:
            return os.path.join(self.run, files[name])
        raise AttributeError(name)

    def console(self, sp):
        return os.path.join(self.run, "console-%s.log" % sp.lower())

    def qemu_log(self, sp):
        return os.path.join(self.run, "qemu-%s.log" % sp.lower())

    def vm_pid(self, sp):
        return os.path.join(self.run, "vm-%s.pid" % sp.lower())

    def shelf_drive(self, n):
        return os.path.join(self.run, "shelf-%02d.img" % n)

    def port(self, lan, sp):
        """The switch's unix socket for one VM's NIC: lan is "mgmt", "link" or "fe"."""
        return os.path.join(self.run, "%s-%s.sock" % (lan, sp.lower()))


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path, obj):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def utc_stamp():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def log_line(path, text):
    try:
        with open(path, "a") as f:
            f.write("%s %s\n" % (utc_stamp(), text))
    except OSError:
        pass


# The host harness's error type and command runner: one way to run a tool and report it.
from sp_pair.common import HarnessError, run  # noqa: E402,F401


def eprint(*a):
    print(*a, file=sys.stderr, flush=True)


def wait_until(pred, timeout, interval=0.05):
    """pred() polled until truthy (returned) or the deadline (returns the last value)."""
    end = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / interval) + 2):
        last = pred()
        if last or time.monotonic() >= end:
            return last
        time.sleep(interval)
    return last


def tail(path, n=20):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 65536))
            return f.read().decode("utf-8", "replace").splitlines()[-n:]
    except OSError:
        return ["(no %s)" % path]
