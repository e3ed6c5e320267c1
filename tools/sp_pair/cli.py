"""sp-pair: the two-SP harness. See docs/HARNESS.md."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from . import auth, control, faults, hardware, midplane, netns, power, procs, redfish, shelf
from .common import (NS_CLI, NS_LAN, NS_SP, DEFAULT_NETNS_STATE, HarnessError, Layout,
                     default_build, default_loopback_state, eprint, layout_from_pair_json,
                     read_pair_json, set_deep, utc_stamp, write_pair_json)

SELF = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sp-pair")
SELF_CMD = os.path.relpath(SELF) if not os.path.relpath(SELF).startswith("..") else SELF
READY_TIMEOUT = 15.0
NETNS_OWNER = "/run/dualsp-pair.owner"   # state dir of the pair that owns the namespaces


def sp_arg(value):
    v = value.upper().replace("SP-", "").replace("SP", "")
    if v not in ("A", "B"):
        raise argparse.ArgumentTypeError("SP must be A or B, not %r" % value)
    return v


def fault_arg(value):
    if value not in faults.NAMES:
        raise argparse.ArgumentTypeError("unknown fault %r; the faults are: %s" % (
            value, faults.names_text()))
    return value


def slot_arg(value):
    try:
        slot = int(value)
    except ValueError:
        slot = -1
    if slot < 0:
        raise argparse.ArgumentTypeError("a drive slot is an integer from 0, not %r" % value)
    return slot


def resolve_state(args, for_up_mode=None):
    if args.state:
        return os.path.abspath(args.state)
    if os.environ.get("DUALSP_PAIR_STATE"):
        return os.path.abspath(os.environ["DUALSP_PAIR_STATE"])
    if for_up_mode:
        return DEFAULT_NETNS_STATE if for_up_mode == "netns" else default_loopback_state()
    candidates = ([DEFAULT_NETNS_STATE] if os.geteuid() == 0 else []) + [default_loopback_state()]
    for c in candidates:
        if read_pair_json(c):
            return c
    return candidates[0]


def load(args):
    state = resolve_state(args)
    lay, info = layout_from_pair_json(state, os.environ.get("DUALSP_BUILD_DIR"))
    if lay is None:
        raise HarnessError("no pair in %s (run `sp-pair up` first, or pass --state)" % state)
    return lay, info


# ---------------------------------------------------------------- down

def do_down(state, quiet=False, mode=None):
    """Stops and removes everything a previous `up` may have left. The mode is the recorded
    one; without a record, netns as root (the fixed namespaces), else loopback."""
    info = read_pair_json(state) or {}
    lay, _ = layout_from_pair_json(state)
    if mode is None:
        mode = lay.mode if lay else ("netns" if os.geteuid() == 0 else "loopback")
    pc = info.get("power_controller_pid")
    if pc and any(b"_power-controller" in a for a in procs.cmdline(pc)):
        procs.signal_pids([pc], signal.SIGKILL)
        procs.wait_gone([pc], 2)
    if lay is not None and lay.mode == "loopback":
        for sp in ("A", "B"):
            left = procs.kill_until_gone(lambda: control.sp_pids(lay, sp, info), timeout=3)
            if left:
                eprint("sp-pair down: SP-%s processes survived SIGKILL: %s" % (sp, left))
        for path in lay.shm_files():
            midplane.remove(path)
    if mode == "netns" and os.geteuid() == 0:
        # The namespaces are one per host: also stop the power controller of a pair that
        # another state directory brought up.
        try:
            with open(NETNS_OWNER) as f:
                owner = f.read().strip()
        except OSError:
            owner = None
        if owner and os.path.abspath(owner) != os.path.abspath(state):
            opc = (read_pair_json(owner) or {}).get("power_controller_pid")
            if opc and any(b"_power-controller" in a for a in procs.cmdline(opc)):
                procs.signal_pids([opc], signal.SIGKILL)
            try:
                os.unlink(os.path.join(owner, "pair.json"))
            except OSError:
                pass
        try:
            os.unlink(NETNS_OWNER)
        except OSError:
            pass
        for ns in (NS_SP["A"], NS_SP["B"], NS_CLI, NS_LAN):
            left = procs.kill_until_gone(lambda: procs.pids_in_netns(ns), timeout=3)
            if left:
                eprint("sp-pair down: processes in %s survived SIGKILL: %s" % (ns, left))
        netns.destroy()
        for path in Layout("netns", state, default_build()).shm_files():
            midplane.remove(path)
    for name in ("power.sock", "pair.json"):
        try:
            os.unlink(os.path.join(state, name))
        except OSError:
            pass
    if not quiet:
        print("sp-pair: down (%s)" % state)


def cmd_down(args):
    do_down(resolve_state(args))
    return 0


# ---------------------------------------------------------------- up

def cmd_up(args):
    mode = "loopback" if args.loopback else "netns"
    if mode == "netns" and os.geteuid() != 0:
        raise HarnessError("the netns topology needs root; use `sp-pair up --loopback`")
    state = resolve_state(args, for_up_mode=mode)
    lay = Layout(mode, state, default_build())
    do_down(state, quiet=True, mode=mode)
    if os.path.exists(lay.midplane_file):
        midplane.remove(lay.midplane_file)

    # fresh state: logs, epochs and sockets of the previous run go away
    os.makedirs(state, exist_ok=True)
    for sp in ("A", "B"):
        shutil.rmtree(lay.sp_dir(sp), ignore_errors=True)
        os.makedirs(lay.log_dir(sp))
    for name in ("power.log", "power-controller.log", "config-a.json", "config-b.json",
                 auth.PENDING_INITIAL, auth.PENDING_NEW):
        try:
            os.unlink(os.path.join(state, name))
        except OSError:
            pass

    overrides = []
    for item in args.set or []:
        key, _, raw = item.partition("=")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        overrides.append((key, value))
    # what the configs point at: each SP's hardware description and the array's pair key
    for sp in ("A", "B"):
        hardware.write_description(lay.hardware_path(sp), sp)
    hardware.write_pair_key(lay.pair_key)
    # the first administrator: <sp_dir>/initial-admin (the hash of a random password, 0600),
    # changed by wait_ready once the pair answers (<state>/credentials)
    accounts = auth.provision(lay)
    if not accounts:
        eprint("sp-pair up: %s has no --hash-password (a build without accounts): no "
               "administrator provisioned, clients send no credentials" % lay.spd)
    for sp in ("A", "B"):
        cfg = lay.config(sp)
        for key, value in overrides:
            set_deep(cfg, key, value)
        with open(lay.settings_path(sp), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")

    if mode == "netns":
        netns.create(lay)
        with open(NETNS_OWNER, "w") as f:
            f.write(state + "\n")
    info = {"mode": mode, "state": state, "build": lay.build, "array_id": lay.array_id,
            "floating_ip": lay.floating, "created": utc_stamp(), "accounts": accounts,
            "A": {}, "B": {}}
    write_pair_json(state, info)

    # the power controller, detached, in the root namespace
    with open(os.path.join(state, "power-controller.log"), "ab") as out:
        pc = subprocess.Popen([sys.executable, SELF, "--state", state, "_power-controller"],
                              stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                              start_new_session=True, close_fds=True)
    info["power_controller_pid"] = pc.pid
    write_pair_json(state, info)
    end = time.monotonic() + 5
    for _ in range(500):
        if os.path.exists(lay.power_sock) or time.monotonic() > end or pc.poll() is not None:
            break
        time.sleep(0.01)
    if not os.path.exists(lay.power_sock):
        raise HarnessError("power controller did not start (see %s/power-controller.log)" % state)

    for sp in ("A", "B"):
        control.start_sp(lay, sp)
    if args.no_wait:
        # Tests of the first moments after power-on drive the pair themselves.
        print("started SP-A and SP-B (not waiting for them%s)" % (
            "; `sp-pair first-login` makes the first password change" if accounts else ""))
        return 0
    return wait_ready(lay, args.timeout)


def wait_ready(lay, timeout):
    """Until both SPs answer, exactly one is active and (when `up` provisioned an
    administrator) the first password change is made (auth.try_first_login: the SPs'
    Manager resources need credentials, and until the change every request but the
    change is refused)."""
    t0 = time.monotonic()
    end = t0 + timeout
    st = None
    login = "not tried: the floating address never answered"
    same_certificate = True
    for _ in range(100000):
        if auth.pending(lay.state) and redfish.answers(lay.floating, lay.web_port, 0.3):
            _, login = auth.try_first_login(lay, timeout=3.0)
        st = control.pair_status(lay)
        answering = {sp: st[sp]["role"] is not None for sp in ("A", "B")}
        actives = [sp for sp in ("A", "B") if st[sp]["role"] == "active"]
        dead = [sp for sp in ("A", "B") if st[sp]["state"] == "off"]
        if dead and time.monotonic() - t0 > 1.0:
            eprint("sp-pair up: spd of SP-%s exited" % " and SP-".join(dead))
            break
        # Both SPs serve the array's one certificate (spd restarts spweb once to serve it,
        # right after the first election on an empty store).
        same_certificate = True
        if lay.https_port and all(answering.values()):
            served = [redfish.served_certificate(lay.mgmt[sp], lay.https_port, 0.5)
                      for sp in ("A", "B")]
            same_certificate = served[0] is not None and served[0] == served[1]
        if (all(answering.values()) and len(actives) == 1 and not auth.pending(lay.state)
                and same_certificate):
            print("sp-pair: up (%s) in %.2f s: SP-%s active, SP-%s %s" % (
                lay.mode, time.monotonic() - t0, actives[0], "B" if actives[0] == "A" else "A",
                st["B" if actives[0] == "A" else "A"]["role"]))
            print("Management URL: %s" % lay.url())
            if lay.https_url():
                print("HTTPS: %s (the array's self-signed certificate; plain HTTP kept on "
                      "for the harness's tests)" % lay.https_url())
            if auth.read_credentials(lay.state):
                print("Credentials: `%s credentials` prints user:password (%s, mode 0600)" % (
                    SELF_CMD, auth.credentials_path(lay.state)))
            return 0
        if time.monotonic() > end:
            break
        time.sleep(0.1)
    eprint("sp-pair up: not ready after %.0f s:" % timeout)
    for sp in ("A", "B"):
        s = st[sp]
        missing = []
        if s["state"] != "running":
            missing.append("no process running (state %s)" % s["state"])
        elif s["role"] is None:
            missing.append("no answer with a role at %s" % lay.url(lay.mgmt[sp], "/redfish/v1/Managers/SP" + sp))
        else:
            missing.append("role %s" % s["role"])
        eprint("  SP-%s: %s" % (sp, "; ".join(missing)))
        eprint("    last lines of %s:" % lay.console_path(sp))
        for line in tail(lay.console_path(sp), 8):
            eprint("      " + line)
    eprint("  exactly one active required; got %s" % (
        [sp for sp in ("A", "B") if st[sp]["role"] == "active"]))
    if lay.https_port and not same_certificate:
        eprint("  the SPs do not serve one HTTPS certificate on port %d yet" % lay.https_port)
    if auth.pending(lay.state):
        eprint("  the first password change (PATCH %s through %s) is not done: %s" % (
            auth.ACCOUNT_PATH, lay.floating, login))
    return 1


def tail(path, n):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 16384))
            return f.read().decode("utf-8", "replace").splitlines()[-n:]
    except OSError:
        return ["(no %s)" % path]


# ---------------------------------------------------------------- credentials

def cmd_credentials(args):
    """user:password of the pair that is up: the only place the harness prints a password."""
    state = resolve_state(args)
    info = read_pair_json(state)
    if info is None:
        raise HarnessError("no pair is up in %s (run `sp-pair up` first, or pass --state)" % state)
    cred = auth.read_credentials(state)
    if auth.pending(state):
        raise HarnessError("the first password change has not been made (`up --no-wait`, or "
                           "`up` failed): run `sp-pair first-login`")
    if cred is None:
        if info.get("accounts") is False:
            raise HarnessError("the pair in %s has no administrator (its spd has no "
                               "--hash-password): no credentials are needed" % state)
        raise HarnessError("no credentials in %s" % auth.credentials_path(state))
    print(cred)
    return 0


def cmd_first_login(args):
    lay, info = load(args)
    if not auth.pending(lay.state):
        if auth.read_credentials(lay.state):
            print("the first password change is done (%s)" % auth.credentials_path(lay.state))
            return 0
        if info.get("accounts") is False:
            print("nothing to change: the pair's spd has no accounts (no --hash-password)")
            return 0
        raise HarnessError("nothing to change: `up` provisioned no administrator in %s" % lay.state)
    auth.first_login(lay, args.timeout)
    print("first password change done; `sp-pair credentials` prints them (%s)" %
          auth.credentials_path(lay.state))
    return 0


# ---------------------------------------------------------------- per-SP verbs

def cmd_status(args):
    lay, info = load(args)
    st = control.pair_status(lay, info)
    for sp in ("A", "B"):
        if st.get(sp) is not None:
            st[sp]["faults"] = faults.injected(lay, sp)
            try:
                st[sp]["failed_drives"] = shelf.failed_slots(
                    faults.read_description(lay.hardware_path(sp)))
            except HarnessError as e:
                st[sp]["failed_drives"] = ["(%s)" % e]
            cuts, loss = netns.cuts_and_loss(sp) if lay.mode == "netns" else ([], {})
            if midplane.get_cut(lay.midplane_file, sp):
                cuts.append("midplane")
            st[sp]["cuts"], st[sp]["loss"] = cuts, loss
    print(json.dumps(st, indent=2))
    return 0


def cmd_fault(args):
    lay, _ = load(args)
    print(faults.fault(lay, args.sp, args.name))
    return 0


def cmd_clear(args):
    lay, _ = load(args)
    print(faults.clear(lay, args.sp, args.name))
    return 0


def cmd_drive(args):
    lay, _ = load(args)
    if args.action == "list":
        if args.slot is not None:
            raise HarnessError("drive list takes no SLOT")
        for line in shelf.listing(lay):
            print(line)
        return 0
    if args.action == "fail" and args.slot is None:
        raise HarnessError("drive fail needs a SLOT")
    print(shelf.set_drive(lay, args.action == "fail", args.slot))
    return 0


def cmd_kill(args):
    lay, info = load(args)
    t0 = time.monotonic()
    ok, msg = control.power_off(lay, args.sp, info)
    ms = (time.monotonic() - t0) * 1000
    control.log_power(lay, "sp-pair kill %s (cli pid %d) -> %s (%.1f ms)" % (args.sp, os.getpid(), msg, ms))
    if args.json:
        print(json.dumps({"sp": args.sp, "ok": ok, "message": msg, "t": t0, "ms": round(ms, 2)}))
    else:
        print("%s (%.1f ms)" % (msg, ms))
    return 0 if ok else 1


def cmd_hang(args):
    lay, _ = load(args)
    pids = control.signal_sp(lay, args.sp, signal.SIGSTOP)
    print("SIGSTOP SP-%s pids %s" % (args.sp, pids))
    return 0 if pids else 1


def cmd_resume(args):
    lay, _ = load(args)
    pids = control.signal_sp(lay, args.sp, signal.SIGCONT)
    print("SIGCONT SP-%s pids %s" % (args.sp, pids))
    return 0 if pids else 1


def cmd_start(args):
    lay, _ = load(args)
    pid = control.start_sp(lay, args.sp)
    print("SP-%s started: spd pid %d" % (args.sp, pid))
    return 0


def cmd_cut(args):
    lay, _ = load(args)
    paths = ["peer", "mgmt", "midplane"] if args.path == "all" else [args.path]
    if lay.mode == "loopback" and paths != ["midplane"]:
        raise HarnessError("in loopback mode only `cut %s --path midplane` is possible: the peer "
                           "and mgmt paths share the host's loopback (use `sp-pair up --netns`)" % args.sp)
    for p in paths:
        if p in netns.PATHS:
            netns.cut_path(args.sp, p, netns.sp_ports(lay, args.sp))
        else:
            midplane.set_cut(lay.midplane_file, args.sp, True)
    print("SP-%s cut: %s" % (args.sp, ", ".join(paths)))
    return 0


def percent_arg(value):
    try:
        v = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % value)
    if not 0 < v < 100:
        raise argparse.ArgumentTypeError("the loss must be above 0 and below 100 %%, not %s" % value)
    return v


def cmd_loss(args):
    lay, _ = load(args)
    if lay.mode == "loopback":
        raise HarnessError("loss needs the netns topology (iptables in the SP's namespace); "
                           "use `sp-pair up --netns` (as root)")
    netns.set_loss(args.sp, args.path, args.percent, netns.sp_ports(lay, args.sp))
    print("SP-%s loss: %g %% on %s (each direction)" % (args.sp, args.percent, args.path))
    return 0


def cmd_heal(args):
    lay, _ = load(args)
    for sp in ("A", "B"):
        if lay.mode == "netns":
            netns.heal_iptables(sp)
        midplane.set_cut(lay.midplane_file, sp, False)
    print("healed: all paths of both SPs")
    return 0


# ---------------------------------------------------------------- logs

LOG_FILES = (("A", "spd.log"), ("A", "spweb.log"), ("B", "spd.log"), ("B", "spweb.log"))


def cmd_logs(args):
    state = resolve_state(args)
    lay, _ = layout_from_pair_json(state)
    if lay is None:
        lay = Layout("netns", state, default_build())
    paths = [(sp, os.path.join(lay.log_dir(sp), name)) for sp, name in LOG_FILES]
    if not args.follow:
        lines = []
        for sp, path in paths:
            try:
                with open(path, errors="replace") as f:
                    lines += [(l[:24], i, "%s| %s" % (sp, l.rstrip("\n"))) for i, l in enumerate(f)]
            except OSError:
                pass
        for _, _, l in sorted(lines, key=lambda x: x[0]):
            print(l)
        return 0
    return follow(paths, args.max_seconds)


def follow(paths, max_seconds):
    files = {}
    end = time.monotonic() + max_seconds
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for _ in range(int(max_seconds / 0.1) + 1):
            for sp, path in paths:
                f = files.get(path)
                try:
                    ino = os.stat(path).st_ino
                except OSError:
                    ino = None
                if f is not None and (ino is None or os.fstat(f.fileno()).st_ino != ino):
                    f.close()
                    files.pop(path)
                    f = None
                if f is None and ino is not None:
                    try:
                        f = files[path] = open(path, errors="replace")
                    except OSError:
                        continue
                if f is None:
                    continue
                for _ in range(10000):
                    line = f.readline()
                    if not line:
                        break
                    sys.stdout.write("%s| %s" % (sp, line if line.endswith("\n") else line + "\n"))
            sys.stdout.flush()
            if time.monotonic() > end:
                break
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        pass
    return 0


# ---------------------------------------------------------------- main

def cmd_power_controller(args):
    return power.Controller(resolve_state(args)).serve(os.path.join(resolve_state(args), "power.sock"))


def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state", default=argparse.SUPPRESS,
                        help="state directory (default %s as root, /tmp/dualsp-pair-<uid> in "
                             "loopback mode; env DUALSP_PAIR_STATE)" % DEFAULT_NETNS_STATE)
    ap = argparse.ArgumentParser(prog="sp-pair", parents=[common],
                                 description="Two DualSP service processors on one host: "
                                             "topology, power, faults. See docs/HARNESS.md.")
    sub = ap.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = sub.add_parser("up", parents=[common], help="build the topology and start both SPs")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--netns", action="store_true", help="network namespaces (default, root)")
    g.add_argument("--loopback", action="store_true", help="no namespaces, 127.0.0.x (no root)")
    p.add_argument("--timeout", type=float, default=READY_TIMEOUT,
                   help="seconds to wait for both SPs and one active (default 15)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a config key in both SPs, e.g. heartbeat.fence_delay_ms=100")
    p.add_argument("--no-wait", action="store_true",
                   help="return once both spd are started, without waiting for them to answer")
    p.set_defaults(func=cmd_up)

    sub.add_parser("down", parents=[common], help="stop everything, delete the topology"
                   ).set_defaults(func=cmd_down)
    sub.add_parser("credentials", parents=[common],
                   help="print the administrator's user:password of the pair that is up"
                   ).set_defaults(func=cmd_credentials)
    p = sub.add_parser("first-login", parents=[common],
                       help="make the first password change (after `up --no-wait`)")
    p.add_argument("--timeout", type=float, default=auth.FIRST_LOGIN_TIMEOUT,
                   help="seconds (default %.0f)" % auth.FIRST_LOGIN_TIMEOUT)
    p.set_defaults(func=cmd_first_login)
    sub.add_parser("status", parents=[common], help="JSON status of both SPs").set_defaults(func=cmd_status)

    p = sub.add_parser("kill", parents=[common], help="power loss of an SP")
    p.add_argument("sp", type=sp_arg)
    p.add_argument("--json", action="store_true", help="print the result and its monotonic time as JSON")
    p.set_defaults(func=cmd_kill)
    for name, func, text in (("hang", cmd_hang, "SIGSTOP every process of the SP"),
                             ("resume", cmd_resume, "SIGCONT every process of the SP"),
                             ("start", cmd_start, "power an SP on (it must be off)")):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("sp", type=sp_arg)
        p.set_defaults(func=func)

    fault_help = "; ".join("%s: %s" % kv for kv in faults.NAMES.items())
    p = sub.add_parser("fault", parents=[common], help="inject a hardware fault into an SP",
                       description="Injects a fault the way the hardware would show it. "
                                   "NAME: " + fault_help)
    p.add_argument("sp", type=sp_arg)
    p.add_argument("name", type=fault_arg, metavar="NAME", help=faults.names_text())
    p.set_defaults(func=cmd_fault)
    p = sub.add_parser("clear", parents=[common], help="clear an injected fault (all without NAME)",
                       description="Undoes `fault`; without NAME every fault of the SP. "
                                   "NAME: " + faults.names_text())
    p.add_argument("sp", type=sp_arg)
    p.add_argument("name", type=fault_arg, metavar="NAME", nargs="?", default=None,
                   help=faults.names_text())
    p.set_defaults(func=cmd_clear)

    p = sub.add_parser("drive", parents=[common], help="fail or restore a drive of the shelf",
                       description="The shelf is cabled to both SPs: `fail SLOT` marks the "
                                   "drive failed in both SPs' hardware descriptions, `restore "
                                   "[SLOT]` healthy again (every drive without SLOT), `list` "
                                   "shows the shelf as each SP's description has it.")
    p.add_argument("action", choices=("fail", "restore", "list"))
    p.add_argument("slot", type=slot_arg, nargs="?", default=None, metavar="SLOT",
                   help="shelf slot, 0-based")
    p.set_defaults(func=cmd_drive)

    p = sub.add_parser("cut", parents=[common], help="cut heartbeat paths of an SP")
    p.add_argument("sp", type=sp_arg)
    p.add_argument("--path", choices=("peer", "mgmt", "midplane", "all"), default="all")
    p.set_defaults(func=cmd_cut)
    p = sub.add_parser("loss", parents=[common], help="random packet loss on a path of an SP",
                       description="Drops P %% of the path's SP-to-SP packets at random, in "
                                   "each direction (iptables statistic); `heal` removes it.")
    p.add_argument("sp", type=sp_arg)
    p.add_argument("--path", choices=netns.PATHS, required=True)
    p.add_argument("--percent", type=percent_arg, required=True, metavar="P",
                   help="0 < P < 100")
    p.set_defaults(func=cmd_loss)
    sub.add_parser("heal", parents=[common], help="undo every cut and loss").set_defaults(func=cmd_heal)

    p = sub.add_parser("logs", parents=[common], help="both SPs' logs, prefixed A| / B|")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("--max-seconds", type=float, default=7 * 24 * 3600, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_logs)

    p = sub.add_parser("_power-controller", parents=[common])
    p.set_defaults(func=cmd_power_controller)

    args = ap.parse_args(argv)
    if not hasattr(args, "state"):
        args.state = None
    try:
        return args.func(args)
    except HarnessError as e:
        eprint("sp-pair %s: %s" % (args.verb, e))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:        # `sp-pair logs | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
