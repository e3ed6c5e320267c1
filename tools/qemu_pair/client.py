"""The client namespace (dualsp-qcli) and everything done from inside it: HTTP to the SPs,
its ARP table, ARP probes for the floating address.

Sockets are opened by threads that have entered the namespace with setns(2) (a network
namespace is per thread, and a socket stays in the namespace it was created in), so a test
polls every few milliseconds without forking `ip netns exec` each time.
"""

import base64
import concurrent.futures
import ctypes
import http.client
import json
import os
import socket
import struct
import threading
import time

from .common import (CLI_ADDR, CLI_IF, FE_CLI_ADDR, FE_IF, FLOATING, FRONTEND_PREFIX_LENGTH,
                     MAC_CLI, MAC_FE_CLI, NS_CLI, WEB_PORT, HarnessError, run)

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def ns_path(ns=NS_CLI):
    return "/run/netns/" + ns


def ns_exists(ns=NS_CLI):
    return os.path.exists(ns_path(ns))


def enter(ns=NS_CLI):
    """Moves the calling thread into the network namespace."""
    fd = os.open(ns_path(ns), os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (ns, os.strerror(err)))
    finally:
        os.close(fd)


def create_namespace():
    """dualsp-qcli with lo, a persistent tap qcli0 (198.18.0.100/24, management LAN) and a
    tap qfe0 (198.18.2.100/24, the front end: the host's iSCSI network) that the switch
    QEMU, started inside the namespace, attaches to by name."""
    run(["ip", "netns", "add", NS_CLI])
    run(["ip", "netns", "exec", NS_CLI, "sysctl", "-q", "-w",
         "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
    cmds = ["link set lo up",
            "tuntap add dev %s mode tap" % CLI_IF,
            "link set %s address %s" % (CLI_IF, MAC_CLI),
            "addr add %s/24 dev %s" % (CLI_ADDR, CLI_IF),
            "link set %s up" % CLI_IF,
            "tuntap add dev %s mode tap" % FE_IF,
            "link set %s address %s" % (FE_IF, MAC_FE_CLI),
            "addr add %s/%d dev %s" % (FE_CLI_ADDR, FRONTEND_PREFIX_LENGTH, FE_IF),
            "link set %s up" % FE_IF]
    run(["ip", "-n", NS_CLI, "-batch", "-"], input="\n".join(cmds) + "\n")


def delete_namespace():
    if ns_exists():
        run(["ip", "netns", "del", NS_CLI], check=False)


def netns_pids():
    """Live pids in dualsp-qcli (what `ip netns pids` prints)."""
    try:
        target = os.stat(ns_path())
    except OSError:
        return []
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            st = os.stat("/proc/%s/ns/net" % name)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            out.append(int(name))
    return sorted(out)


class Client:
    """A pool of threads inside dualsp-qcli. call(fn, ...) runs fn there and returns its
    result; submit(fn, ...) returns a Future (for overlapping probes)."""

    def __init__(self, workers=64):
        if not ns_exists():
            raise HarnessError("no namespace %s (run `qemu-pair up`)" % NS_CLI)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="qcli", initializer=enter)

    def submit(self, fn, *args, **kwargs):
        return self._pool.submit(fn, *args, **kwargs)

    def call(self, fn, *args, **kwargs):
        return self._pool.submit(fn, *args, **kwargs).result()

    def close(self):
        # The threads hold the namespace open; they must go before it can really vanish.
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- HTTP (runs in the namespace) ---
    def http(self, host, path, timeout=2.0, method="GET", body=None, auth=None, headers=None):
        return self.call(http_request, host, path, timeout, method, body, auth=auth,
                         headers=headers)

    def manager(self, host, sp, timeout=2.0, auth=None):
        """(Manager resource dict or None, record) of SP-<sp> asked at host."""
        rec = self.http(host, "/redfish/v1/Managers/SP" + sp, timeout, auth=auth)
        doc = None
        if rec["status"] == 200:
            try:
                doc = json.loads(rec["body"])
            except ValueError:
                doc = None
        return doc, rec

    def arp_entry(self, ip=FLOATING):
        return self.call(arp_entry, ip)


def http_request(host, path, timeout=2.0, method="GET", body=None, port=WEB_PORT, auth=None,
                 headers=None):
    """One request on a fresh connection. A record: {"t" (monotonic start), "ms", "ok",
    "status", "sp" (X-DualSP-SP), "body", "err", "headers" (lower-case names)}.
    auth: "user:password" sent as HTTP Basic (QemuPair passes the pair's administrator), or
    None: none; `headers` are added last (an X-Auth-Token, a test's own Authorization)."""
    t0 = time.monotonic()
    rec = {"t": t0, "ok": False, "status": None, "sp": None, "body": b"", "err": None,
           "headers": {}}
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        h = {"Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if auth:
            h["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode("ascii")
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        rec["body"] = resp.read()
        rec["status"] = resp.status
        rec["headers"] = {k.lower(): v for k, v in resp.getheaders()}
        rec["sp"] = resp.getheader("X-DualSP-SP")
        rec["ok"] = 200 <= resp.status < 300
    except (OSError, http.client.HTTPException) as e:
        rec["err"] = "%s: %s" % (type(e).__name__, e)
    finally:
        conn.close()
    rec["ms"] = (time.monotonic() - t0) * 1000
    return rec


def arp_entry(ip=FLOATING):
    """The MAC of ip in this thread's namespace's neighbour table (None when absent or
    incomplete). /proc/thread-self/net is the calling thread's namespace."""
    try:
        with open("/proc/thread-self/net/arp") as f:
            next(f, None)
            for line in f:
                parts = line.split()
                if len(parts) >= 4 and parts[0] == ip:
                    mac = parts[3].lower()
                    return None if mac == "00:00:00:00:00:00" else mac
    except OSError:
        pass
    return None


class ArpWatch:
    """Asks "who has <floating>?" on the client LAN every `interval` seconds from a raw
    socket in the namespace and records who answers. Every host that holds the address
    answers (Linux replies for any local address), so two different MACs answering one
    request is two holders. A reply is counted for the request it follows."""

    def __init__(self, client, ip=FLOATING, interval=0.05):
        self.ip = ip
        self.interval = interval
        self.replies = []          # (t, seq, mac)
        self.requests = 0
        self.error = None
        self._stop = threading.Event()
        self._sock = client.call(self._open)
        self._thread = threading.Thread(target=self._run, name="arp-watch", daemon=True)
        self._thread.start()

    @staticmethod
    def _open():
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
        s.bind((CLI_IF, 0x0806))
        s.settimeout(0.005)
        return s

    def _request(self):
        src_mac = bytes.fromhex(MAC_CLI.replace(":", ""))
        arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src_mac,
                          socket.inet_aton(CLI_ADDR), b"\0" * 6, socket.inet_aton(self.ip))
        return b"\xff" * 6 + src_mac + b"\x08\x06" + arp

    def _run(self):
        frame = self._request()
        want = socket.inet_aton(self.ip)
        seq = 0
        next_send = time.monotonic()
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_send:
                    seq += 1
                    self._sock.send(frame)
                    self.requests = seq
                    next_send = now + self.interval
                try:
                    data = self._sock.recv(128)
                except socket.timeout:
                    continue
                # ARP reply (op 2) whose sender protocol address is the floating address
                if len(data) >= 42 and data[12:14] == b"\x08\x06" and data[20:22] == b"\x00\x02" \
                        and data[28:32] == want:
                    mac = ":".join("%02x" % b for b in data[22:28])
                    self.replies.append((time.monotonic(), seq, mac))
        except OSError as e:
            self.error = str(e)

    def stop(self):
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def two_holders(self):
        """[(seq, macs)] of requests answered by more than one MAC."""
        by_seq = {}
        for _, seq, mac in self.replies:
            by_seq.setdefault(seq, set()).add(mac)
        return [(seq, sorted(macs)) for seq, macs in sorted(by_seq.items()) if len(macs) > 1]

    def holders_seen(self):
        """The MACs that answered, in order of their first answer."""
        out = []
        for _, _, mac in self.replies:
            if mac not in out:
                out.append(mac)
        return out
