"""Finding an SP's processes and signalling them by pid (never by name)."""

import os
import signal
import time


def _stat(pid):
    """(state, ppid, sid) of a pid from /proc/<pid>/stat, or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rfind(b")") + 2:].split()
    try:
        return rest[0].decode(), int(rest[1]), int(rest[3])
    except (IndexError, ValueError):
        return None


def parent_of(pid):
    """The parent pid of a live process, or None."""
    st = _stat(pid)
    return st[1] if st else None


def all_pids():
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            out.append(int(name))
    return out


def alive(pid):
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def state_of(pid):
    st = _stat(pid)
    return st[0] if st else None


def netns_id(path):
    """(st_dev, st_ino) of a network namespace file, or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def pids_in_netns(ns_name):
    """Live (non-zombie) pids whose network namespace is /run/netns/<ns_name>.
    Same answer as `ip netns pids`, without forking (the power controller is in a hurry)."""
    target = netns_id("/run/netns/" + ns_name)
    if target is None:
        return []
    me = os.getpid()
    out = []
    for pid in all_pids():
        if pid == me:
            continue
        if netns_id("/proc/%d/ns/net" % pid) == target:
            st = _stat(pid)
            if st and st[0] not in ("Z", "X"):
                out.append(pid)
    return sorted(out)


def _environ_has(pid, marker):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return marker in f.read().split(b"\0")
    except OSError:
        return False


def pids_of_session(leader, marker=None):
    """Live pids whose session id is `leader` (spd runs with start_new_session), plus their
    descendants, plus (when given) every process whose environment holds `marker`
    (b"DUALSP_PAIR_SP=<state>:A", set by the harness and inherited by spweb)."""
    table = {}
    for pid in all_pids():
        st = _stat(pid)
        if st and st[0] not in ("Z", "X"):
            table[pid] = st
    found = set()
    if leader:
        found = {pid for pid, st in table.items() if st[2] == leader}
        if leader in table:
            found.add(leader)
    if marker:
        me = os.getpid()
        for pid in table:
            if pid != me and pid not in found and _environ_has(pid, marker):
                found.add(pid)
    # descendants (bounded: at most len(table) rounds)
    for _ in range(len(table)):
        added = {pid for pid, st in table.items() if st[1] in found and pid not in found}
        if not added:
            break
        found |= added
    return sorted(found)


def signal_pids(pids, sig):
    done = []
    for pid in pids:
        try:
            os.kill(pid, sig)
            done.append(pid)
        except ProcessLookupError:
            pass
    return done


def kill_until_gone(lister, timeout=2.0, sig=signal.SIGKILL):
    """SIGKILLs whatever lister() returns until it returns nothing (new children of a dying
    parent are caught by the next round). Returns the pids that survived (empty = success)."""
    end = time.monotonic() + timeout
    left = lister()
    for _ in range(2000):
        if not left:
            return []
        signal_pids(left, sig)
        if time.monotonic() > end:
            break
        time.sleep(0.001)
        left = lister()
    return left


def wait_gone(pids, timeout=2.0):
    end = time.monotonic() + timeout
    for _ in range(10000):
        left = [p for p in pids if alive(p)]
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.005)
    return [p for p in pids if alive(p)]


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []
