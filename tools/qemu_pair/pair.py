"""QemuPair: two SP boards under QEMU, a switch, a client and a chassis (the Python API the
verbs of tools/qemu-pair and tests/qemu use).

    pair = QemuPair("arm64")            # image: $DUALSP_IMAGE_DIR or build/image-arm64
    pair.up()                           # fresh pair, returns once exactly one SP is active
    pair.client_http("/redfish/v1/Managers")     # from the client namespace, floating IP
    pair.kill("A"); pair.start("A"); pair.down()
"""

import io
import json
import os
import secrets
import shutil
import signal
import tarfile
import threading
import time

from sp_pair import auth

from . import chassis, client, machines
from .common import (DEFAULT_RUN_DIR, FLOATING, FRONTEND, FRONTEND_IF, FRONTEND_PREFIX_LENGTH,
                     MAC_MGMT, MGMT, MIDPLANE, MIDPLANE_SIZE, NAME_SWITCH, REPO, SHELF_DRIVE_MIB,
                     SHELF_DRIVES, SHELF_MAX_DRIVES, SPS, HarnessError, Paths, default_image,
                     log_line,
                     read_json, read_pid, tail, utc_stamp, vm_name, wait_until, write_json)

UP_TIMEOUT = 60.0
OPEN_PATHS = auth.redfish.OPEN_PATHS   # need no credentials (sp_pair/redfish.py)
# What the guest's /init takes from a config partition (tools/firmware/init CONFIG_FILES).
CONFIG_FILES = ("pair.key", "initial-admin", "platform.env", "sp.json", "hardware-a.json",
                "hardware-b.json")


def host_spd():
    """The host build's spd, which hashes the initial password (`spd --hash-password`; the
    image's is for another architecture): $DUALSP_BUILD_DIR/sp/spd, default build/sp/spd."""
    return os.path.join(os.environ.get("DUALSP_BUILD_DIR") or os.path.join(REPO, "build"),
                        "sp", "spd")


def vendor_files(path):
    """{name: bytes} of a vendor's config partition (a tar archive): regular files with the
    names /init takes; anything else is refused (the guest would ignore it)."""
    out = {}
    try:
        with tarfile.open(path, "r:") as tar:
            for m in tar.getmembers():
                name = m.name[2:] if m.name.startswith("./") else m.name
                if name in ("", "."):
                    continue
                if name not in CONFIG_FILES or not m.isfile():
                    raise HarnessError("config disk %s: %r is not one of the regular files the "
                                       "guest takes (%s)" % (path, m.name, " ".join(CONFIG_FILES)))
                out[name] = tar.extractfile(m).read()
    except (OSError, tarfile.TarError) as e:
        raise HarnessError("config disk %s: %s" % (path, e))
    return out


def write_config_disk(path, files):
    """A config partition as /init reads it: a ustar archive of {name: bytes}, each file mode
    0600; the archive itself 0600 (it holds the pair key), written atomically."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(files[name]))
    data = buf.getvalue()
    data += b"\0" * (-len(data) % 512)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(data)
    os.replace(tmp, path)
# What up() adds to (the end of) every config partition's platform.env.
PLATFORM_ENV = b"PLAIN_HTTP=serve\n"
# What up() puts before a vendor's platform.env (a vendor's lines win): the front end the
# switch's third hub carries (common.FRONTEND) and the shelf read from the guest's disks.
FRONTEND_ENV = ("FRONTEND_IF=%s\nFRONTEND_A=%s\nFRONTEND_B=%s\nFRONTEND_PREFIX_LENGTH=%d\n"
                "SHELF=linux\n" % (FRONTEND_IF, FRONTEND["A"], FRONTEND["B"],
                                   FRONTEND_PREFIX_LENGTH)).encode()
# The namespace, the midplane file and the switch ports' addresses are one per host: the run
# dir that owns them is written here, so an `up` in another run dir takes that pair down.
OWNER = "/run/dualsp-qemu.owner"


def role_of(doc):
    """(role, state, health, epoch, boot_id) from a Manager resource (tools/sp_pair/redfish.py
    reads the same fields)."""
    if not isinstance(doc, dict):
        return None, None, None, None, None
    oem = (doc.get("Oem") or {}).get("DualSP") or {}
    status = doc.get("Status") or {}
    return (oem.get("Role"), status.get("State"), status.get("Health"), oem.get("Epoch"),
            oem.get("BootId"))


class QemuPair:
    def __init__(self, arch=None, image=None, run_dir=None):
        self.paths = Paths(run_dir or os.environ.get("DUALSP_QEMU_RUN") or DEFAULT_RUN_DIR)
        info = read_json(self.paths.pair_json) or {}
        self.arch = arch or info.get("arch") or os.environ.get("DUALSP_QEMU_ARCH") or "arm64"
        self.image = os.path.abspath(image or info.get("image") or default_image(self.arch))
        self._client = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ image, state
    def qemu_json(self):
        q = read_json(os.path.join(self.image, "qemu.json"))
        missing = [f for f in ("qemu.json", "kernel", "initramfs.cpio.gz")
                   if not os.path.exists(os.path.join(self.image, f))]
        if missing or q is None:
            raise HarnessError("no firmware image in %s (missing %s): build it with "
                               "`make -f Makefile.cross ARCH=%s`" % (
                                   self.image, ", ".join(missing) or "a readable qemu.json",
                                   self.arch))
        if q.get("architecture") not in (None, self.arch):
            raise HarnessError("%s is an image for %s, not %s" % (self.image, q["architecture"],
                                                                   self.arch))
        return q

    def info(self):
        return read_json(self.paths.pair_json) or {}

    def _update(self, **changes):
        with self._lock:
            info = self.info()
            for k, v in changes.items():
                if isinstance(v, dict) and isinstance(info.get(k), dict):
                    info[k].update(v)
                else:
                    info[k] = v
            write_json(self.paths.pair_json, info)

    def config_disk(self, sp):
        """The config partition SP-<sp> boots with (built by up(): the pair key, the first
        administrator's hash, and a vendor's files given with config_disks)."""
        return os.path.join(self.paths.run, "config-%s.tar" % sp.lower())

    # ------------------------------------------------------------------ credentials
    def credentials(self):
        """"admin:<password>" of the pair's administrator (<run>/credentials), or None before
        the first password change."""
        return auth.read_credentials(self.paths.run)

    def _request(self, host):
        """request(method, path, body, cred, timeout) -> (status, err) from the client
        namespace (for sp_pair.auth.first_change)."""
        def request(method, path, body, cred, timeout):
            rec = self.client.call(client.http_request, host, path, timeout, method, body,
                                   auth=cred)
            return rec["status"], rec["err"]
        return request

    def first_login(self, timeout=auth.FIRST_LOGIN_TIMEOUT, host=FLOATING):
        """The first password change (through the floating address): the new credentials."""
        return auth.first_login(None, timeout, state=self.paths.run,
                                request=self._request(host), where=host)

    def vm_pid(self, sp):
        pid = read_pid(self.paths.vm_pid(sp))
        return pid if machines.is_ours(pid, vm_name(sp)) else None

    def vm_running(self, sp):
        return self.vm_pid(sp) is not None

    # ------------------------------------------------------------------ up / down
    def up(self, timeout=UP_TIMEOUT, config_disks=None, expect_active=True,
           shelf_drives=SHELF_DRIVES, shelf_drive_mib=SHELF_DRIVE_MIB):
        """A fresh pair: down first, then run dir, midplane, key, the shelf's drives
        (shelf_drives raw sparse files of shelf_drive_mib MiB, attached to both VMs),
        namespace, switch, chassis, both VMs; returns {"active", "seconds"} once both SPs answer and exactly one is
        active and answers on the floating IP (expect_active=False: once both answer on
        their own addresses, "active" None; boards that cannot elect, such as ones with
        different pair keys). On any failure everything started is stopped
        (the run dir keeps its logs) and HarnessError says what was missing."""
        q = self.qemu_json()
        if not 0 <= shelf_drives <= SHELF_MAX_DRIVES:
            raise HarnessError("shelf drives: %d is not between 0 and %d" % (
                shelf_drives, SHELF_MAX_DRIVES))
        if shelf_drive_mib < 1:
            raise HarnessError("shelf drive size: %d MiB" % shelf_drive_mib)
        owner = self._owner()
        if owner and owner != self.paths.run:
            QemuPair(run_dir=owner).down(quiet=True, keep_logs=True)
        self.down(quiet=True)
        t0 = time.monotonic()
        try:
            os.makedirs(self.paths.run, mode=0o700)
            with open(OWNER, "w") as f:
                f.write(self.paths.run + "\n")
            with open(MIDPLANE, "wb") as f:        # zero-filled: a fresh chassis
                f.truncate(MIDPLANE_SIZE)
            key = secrets.token_hex(32)
            fd = os.open(os.path.join(self.paths.run, "pair.key"),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(key + "\n")
            # The first administrator: the hash of a random password (the host build's
            # spd) on both config partitions; the password in initial-password until the
            # first change below.
            digest = auth.new_initial(self.paths.run, host_spd())
            if digest is None:
                raise HarnessError("%s is missing or has no --hash-password: build the host's "
                                   "spd (cmake --build build --target spd) or set "
                                   "DUALSP_BUILD_DIR" % host_spd())
            shelf = []
            for n in range(shelf_drives):     # sparse: nothing written until a guest does
                path = self.paths.shelf_drive(n)
                with open(path, "xb") as f:
                    f.truncate(shelf_drive_mib * 1024 * 1024)
                shelf.append(path)
            info = {"arch": self.arch, "image": self.image, "build_id": q.get("build_id"),
                    "run_dir": self.paths.run, "created": utc_stamp(), "midplane": MIDPLANE,
                    "config_disks": config_disks or {}, "shelf": shelf, "A": {}, "B": {}}
            write_json(self.paths.pair_json, info)
            for sp in SPS:
                files = {"pair.key": (key + "\n").encode(),
                         "initial-admin": (digest + "\n").encode()}
                vendor = vendor_files(config_disks[sp]) if (config_disks or {}).get(sp) else {}
                # The harness and tests/qemu probe over plain HTTP (like tools/sp_pair's
                # web.plain_http "serve"), which the image's default redirects to HTTPS: the
                # line goes last (the last value read wins), after a vendor's platform.env.
                env = FRONTEND_ENV + vendor.get("platform.env", b"")
                vendor["platform.env"] = env + (b"\n" if not env.endswith(b"\n")
                                                else b"") + PLATFORM_ENV
                files.update(vendor)    # the vendor's win
                write_config_disk(self.config_disk(sp), files)
            client.create_namespace()
            switch = machines.daemonize(machines.switch_cmd(q["qemu"], self.paths),
                                        self.paths.switch_pid, self.paths.switch_log)
            self._update(switch={"pid": switch})
            self._update(chassis={"pid": chassis.start_daemon(self.paths.run)})
            # Both boards at once: they boot in about the same time, within spd's
            # startup_wait (an SP that hears nothing by then fences its peer).
            threads = [threading.Thread(target=self._boot, args=(sp, q)) for sp in SPS]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)        # daemonize() is bounded by its own 30 s timeout
            errors = [e for e in (self.info().get(sp, {}).get("error") for sp in SPS) if e]
            if errors:
                raise HarnessError("; ".join(errors))
            left = max(1.0, timeout - (time.monotonic() - t0))
            active = self.wait_ready(left) if expect_active else self.wait_answering(left)
            return {"active": active, "seconds": time.monotonic() - t0}
        except BaseException as e:
            report = self._failure_report() if isinstance(e, HarnessError) else ""
            self.down(quiet=True, keep_logs=True)
            if report:
                raise HarnessError("%s\n%s" % (e, report)) from None
            raise

    def _boot(self, sp, q=None):
        try:
            self.start(sp, q)
        except HarnessError as e:
            self._update(**{sp: {"error": "SP-%s: %s" % (sp, e)}})

    def wait_answering(self, timeout):
        """Until both SPs answer on their own addresses: the service root (it needs no
        account) from the SP itself (X-DualSP-SP). Boards that elect nobody take no
        configuration change, so no first password change is made here (the initial
        password stays in <run>/initial-password). None; HarnessError on the deadline."""
        end = time.monotonic() + timeout
        last = {}
        for _ in range(int(timeout / 0.2) + 2):
            last = self.service_roots()
            if all(last[sp] == sp for sp in SPS):
                return None
            if time.monotonic() > end:
                break
            time.sleep(0.2)
        raise HarnessError("not answering after %.0f s: service root answered by %s" % (
            timeout, last))

    def service_roots(self):
        """{sp: X-DualSP-SP of GET /redfish/v1 on SP-<sp>'s own address, None without answer}."""
        futures = {sp: self.client.submit(client.http_request, MGMT[sp], "/redfish/v1", 1.0)
                   for sp in SPS}
        return {sp: (f.result()["sp"] if f.result()["status"] == 200 else None)
                for sp, f in futures.items()}

    def wait_ready(self, timeout):
        """Until both SPs answer, exactly one says active and the floating IP answers.
        Returns the active SP; HarnessError on the deadline."""
        end = time.monotonic() + timeout
        last = {}
        login = "not tried: the floating address never answered"
        for _ in range(int(timeout / 0.2) + 2):
            if auth.pending(self.paths.run) and self.client_http("/redfish/v1", timeout=1.0)["ok"]:
                # The SPs' Manager resources need credentials, and until the first password
                # change every request but the change is refused.
                # (an Argon2id verification takes a TCG guest a second or more)
                _, login = auth.first_change(self.paths.run, self._request(FLOATING), 10.0)
            last = self.roles()
            actives = [sp for sp in SPS if last[sp] == "active"]
            if all(last[sp] for sp in SPS) and len(actives) == 1 and \
                    not auth.pending(self.paths.run):
                rec = self.client_http("/redfish/v1", timeout=2.0)
                if rec["ok"] and rec["sp"] == actives[0]:
                    return actives[0]
            off = [sp for sp in SPS if not self.vm_running(sp)]
            if off:
                raise HarnessError("VM of SP-%s is off (fenced or crashed); roles %s" % (
                    " and SP-".join(off), last))
            if time.monotonic() > end:
                break
            time.sleep(0.2)
        raise HarnessError("not ready after %.0f s: roles %s (want both answering, one active)%s"
                           % (timeout, last, "; the first password change is not done: " + login
                              if auth.pending(self.paths.run) else ""))

    @staticmethod
    def _owner():
        try:
            with open(OWNER) as f:
                return f.read().strip() or None
        except OSError:
            return None

    def _failure_report(self):
        lines = []
        for sp in SPS:
            lines.append("  SP-%s console (%s), last lines:" % (sp, self.paths.console(sp)))
            lines += ["    " + l for l in tail(self.paths.console(sp), 15)]
        lines.append("  power.log:")
        lines += ["    " + l for l in tail(self.paths.power_log, 10)]
        return "\n".join(lines)

    def down(self, quiet=False, keep_logs=False):
        """Stops everything by pid (watcher, VMs, switch), deletes the namespace, the
        midplane file and the run dir (keep_logs: the run dir's logs stay). Idempotent."""
        self.close_client()
        watcher = read_pid(self.paths.chassis_pid)
        if chassis.is_chassis(watcher):
            os.kill(watcher, 9)
            wait_until(lambda: not machines.alive(watcher), 3, 0.01)
        problems = []
        for sp in SPS:
            pid = read_pid(self.paths.vm_pid(sp))
            if not machines.kill(pid, vm_name(sp)):
                problems.append("VM SP-%s (pid %d) survived SIGKILL" % (sp, pid))
        pid = read_pid(self.paths.switch_pid)
        if not machines.kill(pid, NAME_SWITCH):
            problems.append("switch (pid %d) survived SIGKILL" % pid)
        if self._owner() in (None, self.paths.run):
            # Anything else left in the client namespace (a stray `qemu-pair exec`).
            for pid in client.netns_pids():
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            client.delete_namespace()
            for path in (MIDPLANE, OWNER):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        if keep_logs:
            # The logs and the shelf's drives (what the guests wrote) stay for a look.
            for name in os.listdir(self.paths.run) if os.path.isdir(self.paths.run) else []:
                if not name.endswith(".log") and not (name.startswith("shelf-")
                                                      and name.endswith(".img")):
                    try:
                        os.unlink(os.path.join(self.paths.run, name))
                    except OSError:
                        pass
        else:
            shutil.rmtree(self.paths.run, ignore_errors=True)
        if problems:
            raise HarnessError("; ".join(problems))
        if not quiet:
            print("qemu-pair: down")

    # ------------------------------------------------------------------ power
    def kill(self, sp):
        """Power loss: SIGKILL of the VM's QEMU. Returns time.monotonic() of the kill."""
        pid = read_pid(self.paths.vm_pid(sp))
        t = time.monotonic()
        if not machines.kill(pid, vm_name(sp)):
            raise HarnessError("VM SP-%s (pid %s) survived SIGKILL" % (sp, pid))
        log_line(self.paths.power_log, "qemu-pair kill %s (pid %s)" % (sp, pid))
        self._update(**{sp: {"killed": utc_stamp()}})
        return t

    def signal(self, sp, sig):
        """SIGSTOP (a hung board: the peer fences it) or SIGCONT to the VM's QEMU."""
        pid = self.vm_pid(sp)
        if pid is None:
            raise HarnessError("SP-%s is off" % sp)
        os.kill(pid, sig)
        log_line(self.paths.power_log, "qemu-pair %s %s (pid %d)" % (
            "hang" if sig == signal.SIGSTOP else "resume", sp, pid))
        return pid

    def start(self, sp, q=None):
        """Powers the board on (it must be off): same disks, NICs, midplane and key; its
        NICs join the switch ports it had (a port listens again once its VM is gone)."""
        if self.vm_running(sp):
            raise HarnessError("SP-%s is running (pid %d); `qemu-pair kill %s` first" % (
                sp, self.vm_pid(sp), sp))
        q = q or self.qemu_json()
        for lan in ("mgmt", "link", "fe"):
            if not os.path.exists(self.paths.port(lan, sp)):
                raise HarnessError("no switch port %s (is the pair up?)" % self.paths.port(lan, sp))
        disk = self.config_disk(sp)
        if not os.path.exists(disk):
            raise HarnessError("no config disk %s (is the pair up?)" % disk)
        with open(self.paths.console(sp), "ab") as con:
            con.write(("--- %s qemu-pair: power on SP-%s\n" % (utc_stamp(), sp)).encode())
        shelf = self.info().get("shelf") or []
        for path in shelf:
            if not os.path.exists(path):
                raise HarnessError("no shelf drive %s (is the pair up?)" % path)
        pid = machines.daemonize(machines.vm_cmd(q, self.image, self.paths, sp, disk, shelf),
                                 self.paths.vm_pid(sp), self.paths.qemu_log(sp))
        boots = (self.info().get(sp) or {}).get("boots", 0) + 1
        self._update(**{sp: {"pid": pid, "started": utc_stamp(), "boots": boots,
                             "console_offset": 0}})
        log_line(self.paths.power_log, "qemu-pair start %s (pid %d)" % (sp, pid))
        return pid

    def fences(self):
        return [l for l in tail(self.paths.power_log, 10000) if " fence SP-" in l]

    # ------------------------------------------------------------------ the client
    @property
    def client(self):
        if self._client is None:
            self._client = client.Client()
        return self._client

    def close_client(self):
        if self._client is not None:
            self._client.close()
            self._client = None

    def client_http(self, path, timeout=2.0, host=FLOATING, method="GET", body=None,
                    auth=None, headers=None):
        """A request from the client namespace (default: the floating IP). A record:
        {"t", "ms", "ok", "status", "sp" (X-DualSP-SP), "body", "err", "headers"}.
        auth: None = the pair's administrator (HTTP Basic) on every path but the service
        root; False = none; "user:password" = those."""
        return self.client.http(host, path, timeout, method, body,
                                auth=self._auth(auth, path), headers=headers)

    def _auth(self, auth_arg, path=None):
        if auth_arg is False:
            return None
        if auth_arg:
            return auth_arg
        if path is not None and path.split("?", 1)[0] in OPEN_PATHS:
            return None
        return self.credentials()

    def manager(self, about, host=FLOATING, timeout=2.0):
        """(Manager of SP-<about> as host answers it, or None; the HTTP record)."""
        return self.client.manager(host, about, timeout, auth=self.credentials())

    def role(self, sp, timeout=1.0):
        """SP-<sp>'s role as it reports it on its own address (None: no answer)."""
        if not self.vm_running(sp):
            return None
        doc, _ = self.manager(sp, host=MGMT[sp], timeout=timeout)
        return role_of(doc)[0]

    def roles(self):
        out = {}
        futures = {sp: self.client.submit(self._own_role, sp) for sp in SPS}
        for sp, f in futures.items():
            out[sp] = f.result()
        return out

    def _own_role(self, sp):
        rec = client.http_request(MGMT[sp], "/redfish/v1/Managers/SP" + sp, 1.0,
                                  auth=self.credentials())
        if rec["status"] != 200:
            return None
        try:
            return role_of(json.loads(rec["body"]))[0]
        except ValueError:
            return None

    def holders(self):
        """SPs that say they are active (own address)."""
        return [sp for sp, r in self.roles().items() if r == "active"]

    def wait_active(self, sp=None, timeout=10.0):
        """Until exactly one SP (sp, when given) reports active; returns it."""
        def one():
            act = self.holders()
            if len(act) == 1 and (sp is None or act[0] == sp):
                return act[0]
            return None
        got = wait_until(one, timeout, 0.1)
        if not got:
            raise HarnessError("no single active SP%s within %.0f s (roles %s)" % (
                "" if sp is None else " (want SP-%s)" % sp, timeout, self.roles()))
        return got

    def wait_role(self, sp, role, timeout=30.0):
        got = wait_until(lambda: self.role(sp) == role, timeout, 0.2)
        if not got:
            raise HarnessError("SP-%s not %s within %.0f s (now %s)" % (sp, role, timeout,
                                                                        self.role(sp)))

    # ------------------------------------------------------------------ status
    def status(self):
        info = self.info()
        out = {"arch": info.get("arch"), "image": info.get("image"),
               "build_id": info.get("build_id"), "run_dir": self.paths.run,
               "floating_ip": FLOATING, "url": "http://%s/redfish/v1" % FLOATING}
        futures = {}
        for sp in SPS:
            pid = self.vm_pid(sp)
            out[sp] = {"vm": "running" if pid else "off", "pid": pid, "mac": MAC_MGMT[sp],
                       "address": MGMT[sp], "boots": (info.get(sp) or {}).get("boots", 0)}
            if pid:
                futures[sp] = self.client.submit(client.http_request, MGMT[sp],
                                                 "/redfish/v1/Managers/SP" + sp, 1.0,
                                                 auth=self.credentials())
        floating = self.client.submit(client.http_request, FLOATING, "/redfish/v1", 1.0)
        for sp in SPS:
            role = state = health = epoch = boot = None
            if sp in futures:
                rec = futures[sp].result()
                if rec["status"] == 200:
                    try:
                        role, state, health, epoch, boot = role_of(json.loads(rec["body"]))
                    except ValueError:
                        pass
            out[sp].update({"role": role, "state": state, "health": health, "epoch": epoch,
                            "boot_id": boot})
        rec = floating.result()
        out["floating_answered_by"] = rec["sp"] if rec["ok"] else None
        out["floating_arp_mac"] = self.client.arp_entry(FLOATING)
        out["active"] = [sp for sp in SPS if out[sp]["role"] == "active"]
        fences = self.fences()
        out["fences"] = len(fences)
        out["fence_log"] = fences[-5:]
        return out

    def console_tail(self, sp, n=40):
        return tail(self.paths.console(sp), n)

    def boot_marker_time(self, sp):
        """The guest uptime at which the latest boot's /init started spd (from the console's
        "dualsp: SP-X starting spd (...) (t=N s)" marker), or None."""
        last = None
        for line in tail(self.paths.console(sp), 400):
            if line.startswith("--- ") and "power on" in line:
                last = None
            if line.startswith("dualsp: SP-%s starting spd" % sp) and "(t=" in line:
                try:
                    last = float(line.rsplit("(t=", 1)[1].rstrip("s)"))
                except ValueError:
                    pass
        return last
