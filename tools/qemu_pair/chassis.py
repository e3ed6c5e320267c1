"""The chassis power controller of the QEMU pair: a daemon watching the power register in
the midplane (platform/midplane_segment.hpp, platform/sim/chassis_power_fencer.cpp).

    256 u64 power_off_request[A]  264 u64 power_off_request[B]
    272 u64 power_off_done[A]     280 u64 power_off_done[B]
    288 u64 power_state[A]        296 u64 power_state[B]

An SP fencing its peer X increments request[X] and waits for done[X] >= that value. Every
~5 ms the watcher compares the words; when request[X] != done[X] it powers VM X off (SIGKILL
to its QEMU by pid, waits until it is gone; a VM already off counts as done), then writes
done[X] = the request it served. Each fence is logged to <run>/power.log.

Every ~50 ms it also writes what it sees of each board's power (PowerState in
platform/sp_types.hpp): 1 off (no QEMU process), 2 running, 3 stopped (its QEMU is
SIGSTOPped: a hung board). A starting SP that never heard its peer fences it only when it is
off or hung (docs/ELECTION.md rule 5).
"""

import mmap
import os
import signal
import struct
import subprocess
import sys
import time

from . import machines
from .common import (MIDPLANE, POWER_DONE_OFFSET, POWER_REQUEST_OFFSET, SELF, HarnessError,
                     Paths, log_line, read_pid, vm_name)

POLL_S = 0.005
STATE_EVERY_S = 0.05
POWER_STATE_OFFSET = 288
OFF, RUNNING, STOPPED = 1, 2, 3


def power_state(paths, sp):
    pid = read_pid(paths.vm_pid(sp))
    if not machines.is_ours(pid, vm_name(sp)):
        return OFF
    state = machines.state_of(pid)
    if state is None:
        return OFF
    return STOPPED if state in ("T", "t") else RUNNING


def read_register(mm):
    """(request[A], request[B], done[A], done[B]). Each word is an aligned 8-byte copy."""
    req = struct.unpack_from("<2Q", mm, POWER_REQUEST_OFFSET)
    done = struct.unpack_from("<2Q", mm, POWER_DONE_OFFSET)
    return req + done


def power_off(paths, sp):
    """(ok, text): VM sp is off when this returns ok."""
    pid = read_pid(paths.vm_pid(sp))
    if not machines.is_ours(pid, vm_name(sp)):
        return True, "already off"
    ok = machines.kill(pid, vm_name(sp), timeout=5.0)
    return ok, ("powered off (pid %d)" % pid) if ok else ("pid %d survived SIGKILL" % pid)


def serve(run_dir):
    paths = Paths(run_dir)
    fd = os.open(MIDPLANE, os.O_RDWR)
    mm = mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    os.close(fd)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    log_line(paths.power_log, "chassis watcher pid %d watching %s" % (os.getpid(), MIDPLANE))
    last_check = 0.0
    last_state = 0.0
    while not stop:
        if time.monotonic() - last_state >= STATE_EVERY_S:
            last_state = time.monotonic()
            for i, sp in enumerate(("A", "B")):
                struct.pack_into("<Q", mm, POWER_STATE_OFFSET + 8 * i, power_state(paths, sp))
        req_a, req_b, done_a, done_b = read_register(mm)
        for i, sp, req, done in ((0, "A", req_a, done_a), (1, "B", req_b, done_b)):
            if req == done:
                continue
            t0 = time.monotonic()
            ok, text = power_off(paths, sp)
            ms = (time.monotonic() - t0) * 1000
            if ok:
                struct.pack_into("<Q", mm, POWER_DONE_OFFSET + 8 * i, req)
            log_line(paths.power_log, "fence SP-%s: request %d (done was %d) -> %s%s (%.1f ms)" % (
                sp, req, done, text, "" if ok else ", NOT confirmed", ms))
        # The pair is gone (down) or another watcher took over: stop.
        now = time.monotonic()
        if now - last_check > 1.0:
            last_check = now
            if not os.path.isdir(paths.run) or read_pid(paths.chassis_pid) not in (None, os.getpid()):
                break
        time.sleep(POLL_S)
    log_line(paths.power_log, "chassis watcher pid %d stops" % os.getpid())
    return 0


def start_daemon(run_dir, timeout=10):
    """Starts the watcher (`qemu-pair _chassis`, which detaches itself) and returns its pid
    once it runs. A fresh interpreter forks, not the caller (which may have threads)."""
    p = subprocess.run([sys.executable, SELF, "--run-dir", run_dir, "_chassis"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, close_fds=True)
    try:
        return int(p.stdout.strip())
    except ValueError:
        raise HarnessError("the chassis watcher did not start: %s (see %s)" % (
            p.stderr.decode(errors="replace").strip(), Paths(run_dir).chassis_log))


def daemon_main(run_dir):
    """`qemu-pair _chassis`: double fork, own session, stdio to chassis.log; the daemon's
    pid is printed by the first process once chassis.pid is written."""
    paths = Paths(run_dir)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            null = os.open(os.devnull, os.O_RDONLY)
            log = os.open(paths.chassis_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(null, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            with open(paths.chassis_pid, "w") as f:
                f.write("%d\n" % os.getpid())
            _set_comm(b"dualsp-chassis")
            os.write(w, b"%d\n" % os.getpid())
            os.close(w)
            code = serve(run_dir)
        except BaseException as e:             # noqa: BLE001 - a daemon reports and exits
            print("chassis watcher failed: %r" % e, file=sys.stderr, flush=True)
        os._exit(code)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        data = f.read().strip()
    if not data:
        print("no daemon (see %s)" % paths.chassis_log, file=sys.stderr)
        return 1
    print(data.decode())
    return 0


def _set_comm(name):
    try:
        with open("/proc/self/comm", "wb") as f:
            f.write(name)
    except OSError:
        pass


def is_chassis(pid):
    if not pid or not machines.alive(pid):
        return False
    try:
        with open("/proc/%d/comm" % pid, "rb") as f:
            return f.read().strip() == b"dualsp-chassis"
    except OSError:
        return False
