"""Per-SP operations: find its processes, power it off/on, pause it, read its status."""

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import threading
import time

from . import auth, midplane, netns, procs, redfish
from .common import NS_SP, HarnessError, read_pair_json, utc_stamp, write_pair_json


def env_marker(lay, sp):
    return ("%s:%s" % (lay.state, sp)).encode()


def sp_pids(lay, sp, info=None):
    """Every live process of the SP."""
    if lay.mode == "netns":
        return procs.pids_in_netns(NS_SP[sp])
    if info is None:
        info = read_pair_json(lay.state) or {}
    leader = (info.get(sp) or {}).get("pid")
    return procs.pids_of_session(leader, b"DUALSP_PAIR_SP=" + env_marker(lay, sp))


def sp_state(pids):
    if not pids:
        return "off"
    states = [procs.state_of(p) for p in pids]
    states = [s for s in states if s]
    if states and all(s in ("T", "t") for s in states):
        return "stopped"
    return "running" if states else "off"


@contextlib.contextmanager
def power_switch(lay, sp):
    """The SP's power switch: `start` holds it from launching spd until spd is in the SP's
    namespace, a power-off holds it while it kills. Without it a power-off that comes while
    `ip netns exec` has not yet entered the namespace finds no process, answers "powered
    off", and spd starts anyway. An flock on <state>/power-<sp>.lock (the power controller is
    another process)."""
    path = os.path.join(lay.state, "power-%s.lock" % sp.lower())
    try:
        f = open(path, "a")
    except OSError:
        yield
        return
    with f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def off_marker(lay, sp):
    """Exists from the moment a power-off has made the SP unable to act until its next start."""
    return os.path.join(lay.state, "power-%s.off" % sp.lower())


def is_off(lay, sp):
    return os.path.exists(off_marker(lay, sp))


def power_off(lay, sp, info=None, on_off=None, steps=None, spd_first=False):
    """A power loss: SIGKILL every process, links down, the floating address gone.
    Returns (ok, message).

    on_off(): called once the SP can no longer act (links down and its spd SIGKILLed: it runs
    no other instruction), before the clean-up (the SP's other processes, which cannot reach
    anything without links, SIGKILLed until gone; the address flush; the shared memory); the
    power controller answers a fence there, as a chassis's switch would. The clean-up still
    runs under the power switch, so nobody powers the SP on half cleaned.
    spd_first: SIGKILL spd (its pid from pair.json, checked to be in the SP's namespace)
    before looking for the SP's other processes (the power controller: spd is what
    heartbeats and fences). Without it every process found is SIGKILLed at once, spd among
    them (the bench's faults: the same for spd and for keepalived).
    steps: a list that gets (step, ms since the call)."""
    t0 = time.monotonic()
    with power_switch(lay, sp):
        if steps is not None:
            steps.append(("switch", (time.monotonic() - t0) * 1000))
        return _power_off(lay, sp, info, on_off, steps, t0, spd_first)


def _kill_spd(lay, sp, info):
    """SIGKILLs the SP's spd when pair.json names a live pid in the SP's namespace."""
    pid = (info.get(sp) or {}).get("pid")
    if lay.mode != "netns" or not pid:
        return False
    target = procs.netns_id("/run/netns/" + NS_SP[sp])
    if target is None or procs.netns_id("/proc/%d/ns/net" % pid) != target:
        return False
    return bool(procs.signal_pids([pid], signal.SIGKILL))


def _power_off(lay, sp, info, on_off, steps, t0, spd_first):
    def step(name):
        if steps is not None:
            steps.append((name, (time.monotonic() - t0) * 1000))

    def off():
        with open(off_marker(lay, sp), "w"):
            pass
        if on_off:
            on_off()

    if lay.mode == "netns" and not netns.ns_exists(NS_SP[sp]):
        off()
        return True, "ok powered off %s (no namespace)" % sp
    if info is None:
        info = read_pair_json(lay.state) or {}
    if spd_first and _kill_spd(lay, sp, info):
        step("spd killed")
    else:
        # Everything the SP runs stops at one instant, as when the power goes: its heartbeats
        # on every path (the midplane is not a link) end together. Stopped, not yet killed:
        # a killed process's sockets close and its kernel would answer connections to the
        # floating address with a reset until the links go down, which a board without power
        # never does (its clients see nothing, then the survivor). SIGKILLed below.
        pids = sp_pids(lay, sp, info)
        procs.signal_pids(pids, signal.SIGSTOP)
        step("stopped")
        if lay.mode != "netns":
            procs.signal_pids(pids, signal.SIGKILL)
    if lay.mode == "netns":
        netns.links_down(sp)
        step("links down")
    off()
    left = procs.kill_until_gone(lambda: sp_pids(lay, sp, info), timeout=2.0)
    step("gone")
    if lay.mode == "netns":
        netns.flush_floating(NS_SP[sp], lay.floating)
        step("address flushed")
    if not left:
        # its RAM is gone too: the status board spd shared with spweb
        for path in lay.shm_files(sp):
            midplane.remove(path)
    if left:
        return False, "error %s still has processes %s" % (sp, left)
    return True, "ok powered off %s" % sp


def log_power(lay, line):
    try:
        with open(lay.power_log, "a") as f:
            f.write("%s %s\n" % (utc_stamp(), line))
    except OSError:
        pass


def start_sp(lay, sp):
    """Power on: boot addresses, links up, midplane side connected, spd started."""
    with power_switch(lay, sp):
        return _start_sp(lay, sp)


IN_NAMESPACE_TIMEOUT = 2.0   # s for `ip netns exec` to put spd into the SP's namespace


def _start_sp(lay, sp):
    info = read_pair_json(lay.state) or {}
    left = sp_pids(lay, sp, info)
    if left:
        raise HarnessError("SP-%s still has processes %s; `sp-pair kill %s` first" % (sp, left, sp))
    try:
        os.unlink(off_marker(lay, sp))
    except FileNotFoundError:
        pass
    if not os.access(lay.spd, os.X_OK):
        raise HarnessError("no spd binary at %s (set DUALSP_BUILD_DIR or build it)" % lay.spd)
    if lay.mode == "netns":
        if not netns.ns_exists(NS_SP[sp]):
            raise HarnessError("namespace %s does not exist; run `sp-pair up`" % NS_SP[sp])
        netns.boot_addresses(lay, sp)
    midplane.set_cut(lay.midplane_file, sp, False)
    os.makedirs(lay.log_dir(sp), exist_ok=True)
    cmd = [lay.spd, "--settings", lay.settings_path(sp)]
    if lay.mode == "netns":
        cmd = ["ip", "netns", "exec", NS_SP[sp]] + cmd
    env = dict(os.environ)
    env["DUALSP_PAIR_SP"] = env_marker(lay, sp).decode()
    with open(lay.console_path(sp), "ab") as console:
        console.write(("--- %s sp-pair start %s: %s\n" % (utc_stamp(), sp, " ".join(cmd))).encode())
        console.flush()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=console, stderr=console,
                             start_new_session=True, close_fds=True, env=env, cwd=lay.sp_dir(sp))
    info = read_pair_json(lay.state) or {}
    info.setdefault(sp, {})
    info[sp].update({"pid": p.pid, "started": utc_stamp(), "settings": lay.settings_path(sp)})
    write_pair_json(lay.state, info)
    if lay.mode == "netns":
        # `ip netns exec` enters the namespace, then execs spd (same pid): return only once it
        # has, so every later look at the SP's processes (status, kill, start) sees it
        end = time.monotonic() + IN_NAMESPACE_TIMEOUT
        for _ in range(2000):
            if p.pid in procs.pids_in_netns(NS_SP[sp]) or p.poll() is not None or \
                    time.monotonic() > end:
                break
            time.sleep(0.001)
    return p.pid


def signal_sp(lay, sp, sig):
    pids = sp_pids(lay, sp)
    done = procs.signal_pids(pids, sig)
    if sig == signal.SIGSTOP:
        # A process forked between the listing and the signal (spd starting spweb) would
        # keep running: the SP half hung, and `status` would call it running for ever
        # (chaos seed 31). Stop what appeared until nothing new does (bounded).
        for _ in range(20):
            more = [p for p in sp_pids(lay, sp) if p not in done]
            if not more:
                break
            done += procs.signal_pids(more, sig)
    return done


def sp_status(lay, sp, info=None):
    pids = sp_pids(lay, sp, info)
    st = sp_state(pids)
    role = health = epoch = boot_id = None
    if st == "running":
        # the pair's own credentials (not $DUALSP_AUTH, which may name another pair's)
        cred = auth.read_credentials(lay.state)
        doc = redfish.manager(lay.mgmt[sp], lay.web_port, sp, timeout=0.5, auth=cred or False)
        role, health, epoch, boot_id = redfish.role_of(doc)
    return {"pids": pids, "state": st, "role": role, "health": health, "epoch": epoch,
            "boot_id": boot_id, "holds_floating_ip": holds_floating(lay, sp, pids)}


def holds_floating(lay, sp, pids=None):
    if lay.mode == "netns":
        return netns.ns_exists(NS_SP[sp]) and netns.holds(NS_SP[sp], lay.floating)
    # Loopback: does one of the SP's processes own a listening socket on floating:port?
    if pids is None:
        pids = sp_pids(lay, sp)
    inodes = _listen_inodes(lay.floating, lay.web_port)
    if not inodes:
        return False
    for pid in pids:
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return True
        except OSError:
            continue
    return False


def _listen_inodes(addr, port):
    """Inodes of TCP sockets in LISTEN on addr:port (from /proc/net/tcp)."""
    a = [int(x) for x in addr.split(".")]
    want = "%02X%02X%02X%02X:%04X" % (a[3], a[2], a[1], a[0], port)
    want_any = "00000000:%04X" % port
    out = set()
    try:
        with open("/proc/net/tcp") as f:
            next(f, None)
            for line in f:
                parts = line.split()
                if len(parts) > 9 and parts[3] == "0A" and parts[1] in (want, want_any):
                    out.add(parts[9])
    except OSError:
        pass
    return out


def pair_status(lay, info=None):
    if info is None:
        info = read_pair_json(lay.state) or {}
    result = {}
    threads = [threading.Thread(target=lambda s=s: result.__setitem__(s, sp_status(lay, s, info)))
               for s in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return {"mode": lay.mode, "floating_ip": lay.floating, "url": lay.url(),
            "A": result.get("A"), "B": result.get("B")}
