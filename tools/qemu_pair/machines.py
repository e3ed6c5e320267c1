"""The QEMU processes: the switch (two hubs) and the SP boards. Every one is started with
-daemonize, so the launching command returns once QEMU is set up (the switch's sockets
listen, a VM's NICs are connected) and the process is nobody's child here (no zombies in a
long-lived test process). Pids come from -pidfile and are signalled only after their
command line shows the expected -name."""

import os
import signal
import subprocess
import time

from sp_pair.procs import alive, cmdline, state_of  # noqa: F401 (alive, state_of: chassis, pair)

from .common import (CLI_IF, FE_IF, MIDPLANE, NAME_SWITCH, NS_CLI, PCI_CONFIG, PCI_FRONTEND,
                     PCI_LINK, PCI_MGMT, PCI_MIDPLANE, PCI_SHELF_FIRST, SPS, MAC_FRONTEND,
                     MAC_LINK, MAC_MGMT, HarnessError, read_pid, shelf_serial, vm_name)


def is_ours(pid, name):
    """pid is alive and is the QEMU process started with -name <name>."""
    if not pid or not alive(pid):
        return False
    args = cmdline(pid)
    return any(a == b"-name" and i + 1 < len(args) and args[i + 1].split(b",")[0] == name.encode()
               for i, a in enumerate(args))


def kill(pid, name, timeout=5.0):
    """SIGKILL the process if it is ours, then wait until it is gone. True when it is gone
    (or was never there)."""
    if not is_ours(pid, name):
        return True
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    end = time.monotonic() + timeout
    for _ in range(int(timeout / 0.002) + 2):
        if not alive(pid):
            return True
        if time.monotonic() > end:
            break
        time.sleep(0.002)
    return not alive(pid)


def describe(cmd):
    """What an error message says about a QEMU command line: the program and its -name, never
    the whole line (it could carry a secret; the full line is in `ps` while it runs)."""
    name = next((cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "-name"), "?")
    prog = next((a for a in cmd if os.path.basename(a).startswith("qemu-")), cmd[0])
    return "%s -name %s" % (prog, name)


def daemonize(cmd, pidfile, errlog, timeout=30):
    """Runs a -daemonize'd QEMU command line; returns the daemon's pid."""
    try:
        os.unlink(pidfile)
    except FileNotFoundError:
        pass
    with open(errlog, "ab") as err:
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                               timeout=timeout, close_fds=True)
        except subprocess.TimeoutExpired:
            raise HarnessError("QEMU did not finish starting in %d s: %s" % (timeout, describe(cmd)))
    pid = read_pid(pidfile)
    if p.returncode != 0 or not pid:
        with open(errlog, "rb") as f:
            text = f.read().decode("utf-8", "replace").strip().splitlines()[-5:]
        raise HarnessError("QEMU exited with %d: %s (%s)\n  %s" % (
            p.returncode, describe(cmd), errlog, "\n  ".join(text)))
    return pid


def switch_cmd(qemu, paths):
    """One QEMU without a machine, inside the client namespace: hub 0 is the management LAN
    (a port per SP + the client's tap), hub 1 the peer link (a port per SP), hub 2 the front
    end (a port per SP + the client's front-end tap). A stream
    server port takes one connection at a time and listens again when its VM goes away."""
    cmd = ["ip", "netns", "exec", NS_CLI, qemu, "-name", NAME_SWITCH, "-M", "none",
           "-nodefaults", "-display", "none", "-daemonize", "-pidfile", paths.switch_pid]
    for hub, lan in ((0, "mgmt"), (1, "link"), (2, "fe")):
        for sp in SPS:
            port = "%s-%s" % (lan, sp.lower())
            cmd += ["-netdev", "stream,id=%s,server=on,addr.type=unix,addr.path=%s"
                    % (port, paths.port(lan, sp)),
                    "-netdev", "hubport,id=hub-%s,hubid=%d,netdev=%s" % (port, hub, port)]
    cmd += ["-netdev", "tap,id=cli,ifname=%s,script=no,downscript=no,vnet_hdr=off" % CLI_IF,
            "-netdev", "hubport,id=hub-cli,hubid=0,netdev=cli",
            "-netdev", "tap,id=fe,ifname=%s,script=no,downscript=no,vnet_hdr=off" % FE_IF,
            "-netdev", "hubport,id=hub-fe,hubid=2,netdev=fe"]
    return cmd


def vm_cmd(qemu_json, image, paths, sp, config_disk, shelf_drives=()):
    """One SP board: 256 MiB, one CPU, three virtio NICs in fixed PCI slots (eth0 management,
    eth1 peer link, eth2 front end) with fixed MACs, the midplane (ivshmem on the shared
    file), the serial console appended to console-<sp>.log, its config disk (raw tar: the pair
    key, the first administrator's hash, ...; /dev/vda in the guest), then the shelf's drives
    (raw files both VMs open: share-rw=on, no image locking; /dev/vdb, /dev/vdc, ... with
    serial DUALSP-SHELF-<n> in both guests). Nothing secret is on this command line
    (every local user's `ps` shows it, and the guest's /proc/cmdline the -append)."""
    q = qemu_json
    append = "%s dualsp.sp=%s dualsp.config=/dev/vda" % (q["append"], sp)
    nic = q.get("nic_device", "virtio-net-pci")
    cmd = [q["qemu"], "-name", vm_name(sp)] + list(q["machine_args"]) + [
        "-m", "256", "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
        "-daemonize", "-pidfile", paths.vm_pid(sp),
        "-kernel", os.path.join(image, q["kernel"]),
        "-initrd", os.path.join(image, q["initrd"]),
        "-chardev", "file,id=console,path=%s,append=on" % paths.console(sp),
        "-serial", "chardev:console",
        "-netdev", "stream,id=mgmt,server=off,addr.type=unix,addr.path=%s" % paths.port("mgmt", sp),
        "-device", "%s,netdev=mgmt,mac=%s,addr=%s,romfile=" % (nic, MAC_MGMT[sp], PCI_MGMT),
        "-netdev", "stream,id=link,server=off,addr.type=unix,addr.path=%s" % paths.port("link", sp),
        "-device", "%s,netdev=link,mac=%s,addr=%s,romfile=" % (nic, MAC_LINK[sp], PCI_LINK),
        "-object", "memory-backend-file,id=midplane,share=on,mem-path=%s,size=1M" % MIDPLANE,
        "-device", "ivshmem-plain,memdev=midplane,addr=%s" % PCI_MIDPLANE,
    ]
    disk = q.get("disk_device", "virtio-blk-pci")
    cmd += ["-drive", "file=%s,format=raw,if=none,id=config,readonly=on" % config_disk,
            "-device", "%s,drive=config,addr=%s" % (disk, PCI_CONFIG)]
    cmd += ["-netdev", "stream,id=fe,server=off,addr.type=unix,addr.path=%s"
            % paths.port("fe", sp),
            "-device", "%s,netdev=fe,mac=%s,addr=%s,romfile=" % (nic, MAC_FRONTEND[sp],
                                                                 PCI_FRONTEND)]
    for n, path in enumerate(shelf_drives):
        # Both VMs write the same files: no image locking (QEMU would refuse the second
        # opener) and share-rw on the device; cache=none is not used (tmpfs has no O_DIRECT).
        cmd += ["-drive", "file=%s,format=raw,if=none,id=shelf%d,file.locking=off" % (path, n),
                "-device", "%s,drive=shelf%d,addr=0x%x,serial=%s,share-rw=on" % (
                    disk, n, PCI_SHELF_FIRST + n, shelf_serial(n))]
    return cmd + ["-append", append]
