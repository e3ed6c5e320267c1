"""qemu-pair verbs (docs/QEMU-PAIR.md)."""

import argparse
import json
import os
import signal
import subprocess
import time

from . import chassis
from .common import (FE_CLI_ADDR, FE_IF, FLOATING, FRONTEND, ISCSI_PORT, NS_CLI, SHELF_DRIVE_MIB,
                     SHELF_DRIVES, SPS, HarnessError, default_image, eprint)
from .pair import UP_TIMEOUT, QemuPair


def sp_arg(value):
    v = value.upper().replace("SP-", "").replace("SP", "")
    if v not in SPS:
        raise argparse.ArgumentTypeError("SP must be A or B, not %r" % value)
    return v


def disk_arg(value):
    sp, sep, path = value.partition("=")
    if not sep or sp.upper() not in SPS or not os.path.isfile(path):
        raise argparse.ArgumentTypeError("want SP=FILE (an existing tar file), not %r" % value)
    return sp.upper(), os.path.abspath(path)


def cmd_up(args, pair):
    disks = dict(args.config_disk or [])
    got = pair.up(timeout=args.timeout, config_disks=disks, shelf_drives=args.drives,
                  shelf_drive_mib=args.drive_mib)
    st = pair.status()
    passive = "B" if got["active"] == "A" else "A"
    print("qemu-pair: up (%s, image %s, build %s) in %.1f s: SP-%s active, SP-%s %s" % (
        pair.arch, pair.image, st.get("build_id"), got["seconds"], got["active"], passive,
        st[passive]["role"]))
    print("Management address: %s (on the client LAN, namespace %s)" % (FLOATING, NS_CLI))
    print("Administrator: `tools/qemu-pair credentials` prints user:password (%s, mode 0600)"
          % os.path.join(pair.paths.run, "credentials"))
    print("Front end (iSCSI portals): SP-A %s:%d, SP-B %s:%d (client %s on %s); shelf: %d "
          "drive(s) in %s" % (FRONTEND["A"], ISCSI_PORT, FRONTEND["B"], ISCSI_PORT, FE_CLI_ADDR,
                              FE_IF, args.drives, pair.paths.run))
    print("  tools/qemu-pair exec curl -s http://%s/redfish/v1" % FLOATING)
    print('  tools/qemu-pair exec curl -s -u "$(tools/qemu-pair credentials)" '
          "http://%s/redfish/v1/Managers/SP%s" % (FLOATING, got["active"]))
    return 0


def cmd_credentials(args, pair):
    """user:password of the pair that is up: the only place qemu-pair prints a password."""
    if not pair.info():
        raise HarnessError("no pair in %s (run `qemu-pair up`)" % pair.paths.run)
    cred = pair.credentials()
    if cred is None:
        raise HarnessError("no credentials in %s: the first password change has not been made "
                           "(`qemu-pair up` did not finish)" % pair.paths.run)
    print(cred)
    return 0


def cmd_down(args, pair):
    pair.down()
    return 0


def cmd_status(args, pair):
    if not pair.info():
        raise HarnessError("no pair in %s (run `qemu-pair up`)" % pair.paths.run)
    print(json.dumps(pair.status(), indent=2, sort_keys=True))
    return 0


def cmd_kill(args, pair):
    pair.kill(args.sp)
    print("SP-%s powered off" % args.sp)
    return 0


def cmd_hang(args, pair):
    print("SIGSTOP SP-%s (QEMU pid %d)" % (args.sp, pair.signal(args.sp, signal.SIGSTOP)))
    return 0


def cmd_resume(args, pair):
    print("SIGCONT SP-%s (QEMU pid %d)" % (args.sp, pair.signal(args.sp, signal.SIGCONT)))
    return 0


def cmd_start(args, pair):
    pid = pair.start(args.sp)
    print("SP-%s powered on (QEMU pid %d); console: %s" % (args.sp, pid,
                                                          pair.paths.console(args.sp)))
    if args.wait:
        end = time.monotonic() + args.wait
        role = None
        while time.monotonic() < end:
            role = pair.role(args.sp)
            if role in ("active", "passive"):
                break
            time.sleep(0.2)
        print("SP-%s: %s" % (args.sp, role or "no answer"))
        return 0 if role else 1
    return 0


def cmd_console(args, pair):
    for line in pair.console_tail(args.sp, args.lines):
        print(line)
    return 0


def cmd_exec(args, pair):
    if not args.command:
        raise HarnessError("give a command, e.g. `qemu-pair exec curl -s http://%s/redfish/v1`"
                           % FLOATING)
    return subprocess.call(["ip", "netns", "exec", NS_CLI] + args.command)


def cmd_chassis(args, pair):
    return chassis.daemon_main(pair.paths.run)


def main(argv=None):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--run-dir", default=argparse.SUPPRESS,
                        help="run directory (default /run/dualsp-qemu; env DUALSP_QEMU_RUN)")
    ap = argparse.ArgumentParser(prog="qemu-pair", parents=[common],
                                 description="Two DualSP SP boards under QEMU: a switch, a "
                                             "client namespace, a chassis power controller.")
    sub = ap.add_subparsers(dest="verb", required=True, metavar="VERB")

    p = sub.add_parser("up", parents=[common], help="boot a fresh pair")
    p.add_argument("--arch", choices=("arm64", "armhf"), default=None,
                   help="default $DUALSP_QEMU_ARCH or arm64")
    p.add_argument("--image", default=None,
                   help="image directory (default $DUALSP_IMAGE_DIR or build/image-<arch>)")
    p.add_argument("--timeout", type=float, default=UP_TIMEOUT)
    p.add_argument("--config-disk", action="append", type=disk_arg, metavar="SP=TAR",
                   help="a config partition (tar archive) for SP, extracted over /etc/dualsp")
    p.add_argument("--drives", type=int, default=SHELF_DRIVES,
                   help="shelf drives attached to both VMs (default %(default)s)")
    p.add_argument("--drive-mib", type=int, default=SHELF_DRIVE_MIB,
                   help="size of each shelf drive, a sparse file (default %(default)s MiB)")
    p.set_defaults(func=cmd_up)
    sub.add_parser("down", parents=[common], help="stop and delete everything"
                   ).set_defaults(func=cmd_down)
    sub.add_parser("status", parents=[common], help="JSON status").set_defaults(func=cmd_status)
    sub.add_parser("credentials", parents=[common],
                   help="print the administrator's user:password of the pair that is up"
                   ).set_defaults(func=cmd_credentials)
    p = sub.add_parser("kill", parents=[common], help="power loss of an SP (SIGKILL its VM)")
    p.add_argument("sp", type=sp_arg)
    p.set_defaults(func=cmd_kill)
    for name, func, text in (("hang", cmd_hang, "freeze an SP's VM (SIGSTOP): its peer fences it"),
                             ("resume", cmd_resume, "unfreeze an SP's VM (SIGCONT)")):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("sp", type=sp_arg)
        p.set_defaults(func=func)
    p = sub.add_parser("start", parents=[common], help="power an SP on again")
    p.add_argument("sp", type=sp_arg)
    p.add_argument("--wait", type=float, default=0,
                   help="seconds to wait for it to answer with a role")
    p.set_defaults(func=cmd_start)
    p = sub.add_parser("console", parents=[common], help="tail of an SP's serial console")
    p.add_argument("sp", type=sp_arg)
    p.add_argument("-n", "--lines", type=int, default=40)
    p.set_defaults(func=cmd_console)
    p = sub.add_parser("exec", parents=[common], help="run a command in the client namespace")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_exec)
    sub.add_parser("_chassis", parents=[common]).set_defaults(func=cmd_chassis)

    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        eprint("qemu-pair: needs root (network namespace, tap device)")
        return 1
    arch = image = None
    if args.verb == "up":
        # A new pair: the arguments, the environment or the defaults (not the last pair's).
        arch = args.arch or os.environ.get("DUALSP_QEMU_ARCH") or "arm64"
        image = args.image or default_image(arch)
    pair = QemuPair(arch=arch, image=image, run_dir=getattr(args, "run_dir", None))
    try:
        return args.func(args, pair)
    except HarnessError as e:
        eprint("qemu-pair %s: %s" % (args.verb, e))
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if args.verb != "_chassis":
            pair.close_client()
