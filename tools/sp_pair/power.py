"""The power controller: the chassis's power switches, as a UNIX-socket daemon.

Protocol (one request per connection, one line each way):
    -> "power-off A\\n"     <- "ok powered off A\\n" | "error <reason>\\n"
    -> "ping\\n"            <- "ok pong\\n"
    -> "status A\\n"        <- "ok off\\n" | "ok stopped\\n" | "ok running\\n"
A power-off is exactly `sp-pair kill X`; its answer comes as soon as the SP is off (links
down, every process SIGKILLed), as from a chassis's switch, and the clean-up (processes
reaped, floating address flushed) follows under the SP's power switch. `status X` says whether the SP has no process (off),
has every process SIGSTOPped (stopped: hung) or is running, as `sp-pair status` does.
Requests are carried out one at a time (a status never sees a power-off or a power-on half
done). A request whose sender is an SP process that has itself been powered off before its
request came up is refused ("error requester ... is powered off"): a board without power cannot pull a switch.
"""

import os
import signal
import socket
import struct
import threading
import time

from . import control, procs
from .common import NS_SP, layout_from_pair_json

MAX_LIFETIME = 14 * 24 * 3600


def _peer_pid(conn):
    try:
        data = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", data)[0]
    except OSError:
        return None


def _which_sp(lay, pid, info):
    if not pid:
        return None
    if lay.mode == "netns":
        # One look at the requester's namespace, not a scan of /proc (fencing waits on it).
        mine = procs.netns_id("/proc/%d/ns/net" % pid)
        for sp in ("A", "B"):
            if mine is not None and mine == procs.netns_id("/run/netns/" + NS_SP[sp]):
                return sp
        return None
    for sp in ("A", "B"):
        if pid in control.sp_pids(lay, sp, info):
            return sp
    return None


class Controller:
    def __init__(self, state):
        self.state = state
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def layout(self):
        lay, info = layout_from_pair_json(self.state)
        return lay, info or {}

    def handle(self, conn):
        t0 = time.monotonic()
        pid = _peer_pid(conn)
        lay, info = self.layout()
        who = _which_sp(lay, pid, info) if lay else None
        conn.settimeout(2.0)
        data = b""
        try:
            for _ in range(64):
                chunk = conn.recv(256)
                if not chunk:
                    break
                data += chunk
                if b"\n" in data or len(data) > 1024:
                    break
        except OSError:
            pass
        line = data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        words = line.split()
        answered = []
        steps = []

        def answer(text):
            """The reply, once (a power-off answers as soon as the SP is off)."""
            if answered:
                return
            answered.append(text)
            steps.append(("answered", (time.monotonic() - t0) * 1000))
            try:
                conn.sendall((text + "\n").encode())
            except OSError:
                pass
            conn.close()

        if lay is None:
            reply = "error no pair.json in %s" % self.state
        elif words == ["ping"]:
            reply = "ok pong"
        elif len(words) == 2 and words[0] == "power-off" and words[1].upper() in ("A", "B"):
            target = words[1].upper()
            if control.is_off(lay, target):
                # Off already (a power-off reached that point and nobody started it since):
                # a chassis answers at once. The clean-up under way finishes on its own.
                answer("ok powered off %s" % target)
            with self.lock:
                if who and not procs.alive(pid):
                    reply = "error requester pid %d (SP-%s) is powered off" % (pid, who)
                else:
                    try:
                        _, reply = control.power_off(
                            lay, target, info, steps=steps, spd_first=True,
                            on_off=lambda: answer("ok powered off %s" % target))
                    except Exception as e:  # the controller must always answer
                        reply = "error %s" % e
        elif len(words) == 2 and words[0] == "status" and words[1].upper() in ("A", "B") and \
                control.is_off(lay, words[1].upper()):
            # Off since a power-off reached that point (its clean-up may still hold the
            # switch): no need to wait for it. spd asks this the moment its peer falls silent.
            reply = "ok off"
        elif len(words) == 2 and words[0] == "status" and words[1].upper() in ("A", "B"):
            with self.lock, control.power_switch(lay, words[1].upper()):
                try:
                    reply = "ok " + control.sp_state(control.sp_pids(lay, words[1].upper(), info))
                except Exception as e:  # the controller must always answer
                    reply = "error %s" % e
        else:
            reply = ("error unknown request %r (want 'power-off A|B', 'status A|B' or 'ping')"
                     % line[:80])
        if answered and reply != answered[0]:
            reply = "%s (answered %r)" % (reply, answered[0])
        answer(reply)
        ms = (time.monotonic() - t0) * 1000
        if lay is not None and words != ["ping"]:
            control.log_power(lay, "request from pid %s (%s): %r -> %s (%.1f ms%s)" % (
                pid, ("SP-" + who) if who else "not an SP", line[:80], reply, ms,
                "".join("; %s %.1f" % s for s in steps)))

    def serve(self, sock_path):
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # It powers SPs off: only its owner (root, or the user of a loopback pair, as spd) may
        # connect. The umask makes it 0600 from the bind on, not after a moment of wider mode.
        old_umask = os.umask(0o177)
        try:
            srv.bind(sock_path)
        finally:
            os.umask(old_umask)
        os.chmod(sock_path, 0o600)
        srv.listen(16)
        srv.settimeout(0.5)
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        lay, _ = self.layout()
        if lay:
            control.log_power(lay, "power controller pid %d listening on %s" % (os.getpid(), sock_path))
        end = time.monotonic() + MAX_LIFETIME
        while not self.stop.is_set() and time.monotonic() < end:
            try:
                conn, _ = srv.accept()
            except socket.timeout:
                continue
            except OSError:
                if self.stop.is_set():
                    break
                time.sleep(0.05)
                continue
            if threading.active_count() > 32:
                conn.sendall(b"error busy\n")
                conn.close()
                continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()
        srv.close()
        try:
            os.unlink(sock_path)
        except FileNotFoundError:
            pass
        return 0


def request(sock_path, line, timeout=2.0):
    """Client side (for tests and the CLI): sends one line, returns the reply line."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall((line + "\n").encode())
        data = b""
        for _ in range(64):
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
            if b"\n" in data:
                break
        return data.split(b"\n", 1)[0].decode()
    finally:
        s.close()
