"""The load the campaign puts on the pair while it breaks it: the writer, the SSE follower,
the power observer (threads) and the background tools (probe, holder-watch: processes)."""

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

FLOATING = "198.18.0.10"
CHASSIS = "/redfish/v1/Chassis/Enclosure"
SSE_PATH = "/redfish/v1/EventService/SSE"


def http_request(host, path, method="GET", body=None, timeout=1.0, headers=None):
    """The harness's request helper (tools/sp_pair/redfish.py), with this module's timeout."""
    from sp_pair import redfish
    return redfish.http_request(host, path, method, body, timeout, headers)


def auth_line():
    """The Authorization header line (CRLF included) for a raw request, or ""."""
    from sp_pair import redfish
    return "".join("%s: %s\r\n" % kv for kv in redfish.auth_headers().items())


def error_message(r):
    j = r.get("json")
    if isinstance(j, dict) and isinstance(j.get("error"), dict):
        return str(j["error"].get("message") or "")
    return (r.get("text") or "")[:300]


def classify(r):
    """A PATCH's outcome: 2xx acknowledged; 503 refused (must not be applied), except spd's
    own "the change may have been applied" (docs/CONFIG-STORE.md: a forwarded write timed
    out), which is unknown; anything else (no answer, 500, 504, ...) unknown."""
    s = r["status"]
    if s is not None and 200 <= s < 300:
        return "acknowledged"
    if s == 503 and "may have been applied" not in error_message(r):
        return "refused"
    return "unknown"


class Writer(threading.Thread):
    """PATCHes {"AssetTag": "chaos-<seed>-<n>"} through the floating IP, one at a time."""

    def __init__(self, seed, deadline, timeout=3.0, gap=0.05):
        super().__init__(daemon=True)
        self.prefix = "chaos-%s-" % seed
        self.deadline = deadline
        self.timeout = timeout
        self.gap = gap
        self.records = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.run_ok = threading.Event()     # cleared = paused
        self.run_ok.set()
        self.idle = threading.Event()       # set while no write is in flight
        self.idle.set()

    def run(self):
        n = 0
        for _ in range(10 ** 7):
            if self.stop.is_set() or time.monotonic() > self.deadline:
                break
            if not self.run_ok.wait(0.2):
                continue
            self.idle.clear()
            if not self.run_ok.is_set():      # paused between the check and now
                self.idle.set()
                continue
            n += 1
            value = "%s%d" % (self.prefix, n)
            t0 = time.monotonic()
            r = http_request(FLOATING, CHASSIS, "PATCH", {"AssetTag": value}, self.timeout)
            t1 = time.monotonic()
            rec = {"n": n, "value": value, "t0": t0, "t1": t1, "status": r["status"],
                   "err": r["err"], "sp": r["headers"].get("x-dualsp-sp"),
                   "outcome": classify(r)}
            if rec["outcome"] != "acknowledged":
                rec["msg"] = error_message(r) if r["status"] else r["err"]
            with self.lock:
                self.records.append(rec)
            self.idle.set()
            time.sleep(self.gap)
        self.idle.set()

    def pause(self, timeout=10.0):
        self.run_ok.clear()
        return self.idle.wait(timeout)

    def resume(self):
        self.run_ok.set()

    def snapshot(self):
        with self.lock:
            return list(self.records)


class SseFollower(threading.Thread):
    """Follows the SSE stream on the floating IP; after any disconnect reconnects with
    Last-Event-ID (the first connection asks from 0: every event). A stream silent for
    `silent` seconds (the server sends a keep-alive every 5 s) is taken as dead: a powered-off
    SP never closes its end."""

    def __init__(self, deadline, silent=6.5):
        super().__init__(daemon=True)
        self.deadline = deadline
        self.silent = silent
        self.events = []          # {"id", "ev", "t", "conn"}
        self.connections = []     # {"t", "status", "end", "why", "last_id"}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def last_id(self):
        with self.lock:
            return self.events[-1]["id"] if self.events else 0

    def run(self):
        for attempt in range(200000):
            if self.stop.is_set() or time.monotonic() > self.deadline:
                break
            self.follow_once(attempt)
            self.stop.wait(0.05)

    def follow_once(self, conn_no):
        last = self.last_id()
        rec = {"t": time.monotonic(), "status": None, "end": None, "why": None, "last_id": last}
        with self.lock:
            self.connections.append(rec)
        try:
            s = socket.create_connection((FLOATING, 80), timeout=0.5)
        except OSError as e:
            rec["why"], rec["end"] = "connect: %s" % e, time.monotonic()
            return
        try:
            s.settimeout(0.5)
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n%s"
                       "Last-Event-ID: %d\r\n\r\n" % (SSE_PATH, FLOATING, auth_line(), last)).encode())
            buf, head, quiet_since = b"", None, time.monotonic()
            for _ in range(10 ** 8):
                if self.stop.is_set() or time.monotonic() > self.deadline:
                    rec["why"] = "stopped"
                    break
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    if time.monotonic() - quiet_since > self.silent:
                        rec["why"] = "silent %.1f s" % self.silent
                        break
                    continue
                except OSError as e:
                    rec["why"] = "recv: %s" % e
                    break
                if not chunk:
                    rec["why"] = "closed"
                    break
                quiet_since = time.monotonic()
                buf += chunk
                if head is None:
                    if b"\r\n\r\n" not in buf:
                        continue
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    try:
                        rec["status"] = int(head.split(b"\r\n")[0].split()[1])
                    except (IndexError, ValueError):
                        rec["status"] = -1
                    if rec["status"] != 200:
                        rec["why"] = "HTTP %s" % rec["status"]
                        self.stop.wait(0.5)
                        break
                buf = buf.replace(b"\r\n", b"\n")
                while b"\n\n" in buf:
                    block, buf = buf.split(b"\n\n", 1)
                    self.block(block, conn_no)
        finally:
            s.close()
            rec["end"] = time.monotonic()

    def block(self, block, conn_no):
        eid, data = None, []
        for line in block.split(b"\n"):
            if line.startswith(b"id:"):
                try:
                    eid = int(line[3:].strip())
                except ValueError:
                    eid = None
            elif line.startswith(b"data:"):
                data.append(line[5:].strip())
        if eid is None:
            return
        try:
            doc = json.loads(b"\n".join(data).decode("utf-8", "replace"))
            ev = (doc.get("Events") or [{}])[0]
        except (ValueError, AttributeError, IndexError):
            ev = {"Message": "(unparsed) %r" % data[:1]}
        with self.lock:
            self.events.append({"id": eid, "ev": ev, "t": time.monotonic(), "conn": conn_no})

    def snapshot(self):
        with self.lock:
            return list(self.events), list(self.connections)


class PowerObserver(threading.Thread):
    """Samples each SP's power state (off / stopped / running, as sp-pair status says) every
    `interval` seconds into a PowerTimeline."""

    def __init__(self, timeline, deadline, interval=0.05):
        super().__init__(daemon=True)
        self.timeline = timeline
        self.deadline = deadline
        self.interval = interval
        self.stop = threading.Event()

    def sample(self):
        from sp_pair import control, procs
        from sp_pair.common import NS_SP
        for sp in ("A", "B"):
            t = time.monotonic()
            self.timeline.record(sp, t, control.sp_state(procs.pids_in_netns(NS_SP[sp])))

    def run(self):
        for _ in range(10 ** 8):
            if self.stop.is_set() or time.monotonic() > self.deadline:
                break
            try:
                self.sample()
            except Exception:      # a namespace going away at `down`
                pass
            self.stop.wait(self.interval)


def keep_running(tools, deadline, period=0.1):
    """A daemon thread that restarts any of `tools` (Background) within `period` of its end
    until `deadline`: a reader bounded to 600 s (tools/probe) is replaced at once, not at the
    next step of the campaign (up to 3 s later: a blind spot that looked like an outage)."""
    def loop():
        while time.monotonic() < deadline:
            for b in tools:
                b.ensure()
            time.sleep(period)
    t = threading.Thread(target=loop, daemon=True, name="keep-running")
    t.start()
    return t


class Background:
    """A tool writing JSON lines (tools/probe, tools/holder-watch), restarted when it ends
    while still wanted (each tool bounds its own duration), stopped via its stop file, then
    SIGTERM, then SIGKILL, by pid."""

    def __init__(self, name, cmd, state, max_restarts=20):
        self.name = name
        self.cmd = cmd
        self.out_path = os.path.join(state, "chaos-%s.jsonl" % name)
        self.stop_file = os.path.join(state, "chaos-%s.stop" % name)
        for p in (self.out_path, self.stop_file):
            try:
                os.unlink(p)
            except OSError:
                pass
        self.out = open(self.out_path, "a")
        self.proc = None
        self.restarts = -1
        self.max_restarts = max_restarts
        self.wanted = True
        self.exit_codes = []
        self.lock = threading.Lock()   # ensure() runs from a keeper thread and the campaign
        self.ensure()

    def ensure(self):
        """Starts the tool if it is not running (and still wanted)."""
        with self.lock:
            self._ensure()

    def _ensure(self):
        if not self.wanted:
            return
        if self.proc is not None and self.proc.poll() is None:
            return
        if self.proc is not None:
            self.exit_codes.append(self.proc.returncode)
        if self.restarts >= self.max_restarts:
            return
        self.restarts += 1
        self.proc = subprocess.Popen(self.cmd + ["--stop-file", self.stop_file], stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def records(self):
        out = []
        try:
            with open(self.out_path) as f:
                for line in f:
                    if line.endswith("\n") and line.startswith("{"):
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            pass
        except OSError:
            pass
        return out

    def stop(self, timeout=5):
        with self.lock:
            self.wanted = False
        if self.proc is None:
            return None
        open(self.stop_file, "w").close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(2)
        self.exit_codes.append(self.proc.returncode)
        self.out.close()
        return self.proc.returncode
