"""Constants, the pair description (addresses per mode), pair.json, small helpers."""

import datetime
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPS = ("A", "B")

# Network namespaces of the netns topology (docs/DESIGN.md "Addresses and ports in tests").
NS_LAN = "dualsp-lan"
NS_CLI = "dualsp-cli"
NS_SP = {"A": "dualsp-spa", "B": "dualsp-spb"}
HOST_IF = "dualsp-host"
HOST_ADDR = "198.18.0.1"
CLI_ADDR = "198.18.0.100"
HEARTBEAT_PORT = 7400
PEER_LINK_PORT = 7500
MGMT_IF = "mgmt0"
PEER_IF = "peer0"
# Locally administered MACs, so ARP tables read well.
MAC = {"A": "02:d5:50:00:00:11", "B": "02:d5:50:00:00:12",
       "cli": "02:d5:50:00:00:64", "host": "02:d5:50:00:00:01"}

DEFAULT_NETNS_STATE = "/run/dualsp-pair"


def default_loopback_state():
    return "/tmp/dualsp-pair-%d" % os.getuid()


class Layout:
    """Addresses, ports and names of one pair, for one mode ("netns" or "loopback")."""

    def __init__(self, mode, state, build):
        self.mode = mode
        self.state = os.path.abspath(state)
        self.build = os.path.abspath(build)
        self.spd = os.path.join(self.build, "sp", "spd")
        self.spweb = os.path.join(self.build, "webserver", "spweb")
        if mode == "netns":
            self.array_id = "sp-pair"
            self.floating = "198.18.0.10"
            self.web_port = 80
            # HTTPS as the firmware serves it; plain HTTP stays on for the tests and scripts
            # (web.plain_http "serve", docs/HARNESS.md "HTTPS").
            self.https_port = 443
            self.mgmt = {"A": "198.18.0.11", "B": "198.18.0.12"}
            self.link = {"A": "198.18.1.11", "B": "198.18.1.12"}
            self.mgmt_if, self.peer_if = MGMT_IF, PEER_IF
            self.web_listen = {"A": "0.0.0.0", "B": "0.0.0.0"}
        else:
            # Loopback: one namespace, so a separate array id keeps its midplane apart from a
            # netns pair that may run at the same time.
            self.array_id = "sp-pair-lo%d" % os.getuid()
            self.floating = "127.0.0.10"
            self.web_port = 8080
            self.https_port = 0  # plain HTTP only: the loopback floating port is HTTP's
            self.mgmt = {"A": "127.0.0.11", "B": "127.0.0.12"}
            self.link = {"A": "127.0.1.11", "B": "127.0.1.12"}
            self.mgmt_if, self.peer_if = "", ""
            self.web_listen = dict(self.mgmt)

    # --- paths ---
    def sp_dir(self, sp):
        return os.path.join(self.state, "sp" + sp.lower())

    def log_dir(self, sp):
        return os.path.join(self.sp_dir(sp), "log")

    def settings_path(self, sp):
        return os.path.join(self.state, "settings-%s.json" % sp.lower())

    def hardware_path(self, sp):
        return os.path.join(self.state, "hw-%s.json" % sp.lower())

    @property
    def pair_key(self):
        return os.path.join(self.state, "pair.key")

    def console_path(self, sp):
        return os.path.join(self.sp_dir(sp), "console.log")

    @property
    def pair_json(self):
        return os.path.join(self.state, "pair.json")

    @property
    def power_sock(self):
        return os.path.join(self.state, "power.sock")

    @property
    def power_log(self):
        return os.path.join(self.state, "power.log")

    @property
    def midplane_file(self):
        return "/dev/shm/dualsp-%s-midplane" % self.array_id

    def shm_files(self, sp=None):
        """The array's shared-memory files: each SP's status board and local-bus queues
        (spd <-> spweb; a board without power keeps none of them), and the midplane when sp
        is None."""
        sps = [sp] if sp else ["A", "B"]
        out = []
        for s in sps:
            prefix = "dualsp-%s-sp%s-" % (self.array_id, s.lower())
            try:
                names = os.listdir("/dev/shm")
            except OSError:
                names = []
            out += ["/dev/shm/" + n for n in sorted(names)
                    if n.startswith(prefix) and (n.endswith("-status") or "-bus" in n)]
        return out + ([] if sp else [self.midplane_file])

    def https_url(self, addr=None, path="/redfish/v1"):
        """The HTTPS URL, or None when this layout serves plain HTTP only."""
        if not self.https_port:
            return None
        port = "" if self.https_port == 443 else ":%d" % self.https_port
        return "https://%s%s%s" % (addr or self.floating, port, path)

    def url(self, addr=None, path="/redfish/v1"):
        addr = addr or self.floating
        port = "" if self.web_port == 80 else ":%d" % self.web_port
        return "http://%s%s%s" % (addr, port, path)

    # --- the SP configuration (docs/SETTINGS.md) ---
    def config(self, sp):
        peer = "B" if sp == "A" else "A"
        return {
            "sp": sp,
            "array_id": self.array_id,
            "state_dir": self.sp_dir(sp),
            "log_level": "info",
            "platform": {"backend": "sim", "power_controller": self.power_sock, "fence_gpio": "",
                         "hardware": self.hardware_path(sp)},
            "management": {"interface": self.mgmt_if, "address": self.mgmt[sp]},
            "peer": {"management_address": self.mgmt[peer], "link_address": self.link[peer]},
            "peer_link": {"interface": self.peer_if, "address": self.link[sp],
                          "port": PEER_LINK_PORT, "key_file": self.pair_key},
            "floating": {
                "mode": "netlink" if self.mode == "netns" else "loopback",
                "address": self.floating, "prefix_length": 24,
                "interface": self.mgmt_if,
                "port": 0 if self.mode == "netns" else self.web_port,
                "garp_count": 5, "garp_interval_ms": 20,
            },
            "heartbeat": {"port": HEARTBEAT_PORT},
            "web": {"spweb": self.spweb, "listen": self.web_listen[sp], "port": self.web_port,
                    "https_port": self.https_port, "plain_http": "serve"},
        }


def layout_from_pair_json(state, build=None):
    """The Layout recorded by `up` in <state>/pair.json, or None."""
    info = read_pair_json(state)
    if not info:
        return None, None
    lay = Layout(info.get("mode", "netns"), state, build or info.get("build") or default_build())
    if info.get("array_id"):
        lay.array_id = info["array_id"]
    return lay, info


def default_build():
    return os.environ.get("DUALSP_BUILD_DIR") or os.path.join(REPO, "build")


def read_pair_json(state):
    try:
        with open(os.path.join(state, "pair.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_pair_json(state, info):
    path = os.path.join(state, "pair.json")
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(info, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def set_deep(obj, dotted, value):
    """set_deep(cfg, "heartbeat.mgmt.dead_ms", 100)."""
    keys = dotted.split(".")
    for k in keys[:-1]:
        obj = obj.setdefault(k, {})
    obj[keys[-1]] = value


def utc_stamp():
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def run(cmd, check=True, timeout=10, input=None):
    """Runs a command, returns CompletedProcess (text). Raises HarnessError when check fails."""
    try:
        p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise HarnessError("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    except FileNotFoundError as e:
        raise HarnessError("%s: %s" % (cmd[0], e))
    if check and p.returncode != 0:
        raise HarnessError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                               (p.stderr or p.stdout).strip()))
    return p


class HarnessError(Exception):
    pass


def eprint(*a):
    print(*a, file=sys.stderr, flush=True)


def deadline(seconds):
    end = time.monotonic() + seconds
    return lambda: time.monotonic() < end
