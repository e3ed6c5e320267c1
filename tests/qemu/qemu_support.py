"""What the QEMU test modules share: the image under test, a config partition, and a pair
booted for one module (tools/qemu_pair)."""

import io
import os
import sys
import tarfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
sys.dont_write_bytecode = True

from qemu_pair import QemuPair  # noqa: E402

ARCH = os.environ.get("DUALSP_QEMU_ARCH", "arm64")
IMAGE = Path(os.environ.get("DUALSP_IMAGE_DIR") or REPO / "build" / ("image-" + ARCH))


def require_image(need_root=True):
    """Fails the test (never skips) when it cannot run here, saying what to do."""
    if need_root and os.geteuid() != 0:
        pytest.fail("the QEMU tests need root (network namespace, tap device)")
    if not (IMAGE / "qemu.json").exists():
        pytest.fail("no firmware image in %s: run `make -f Makefile.cross ARCH=%s`"
                    % (IMAGE, ARCH), pytrace=False)


def config_partition(path, files):
    """A config disk as the image's /init reads it: a tar archive of {name: text}, mode 0600
    (docs/FIRMWARE.md)."""
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))
    return path


def booted_pair(run_dir, what, config_disks=None, expect_active=True):
    """A generator for a module fixture: the pair up (with the config disks), then down with
    its logs kept in run_dir. expect_active=False: up once both SPs answer (no active needed)."""
    p = QemuPair(ARCH, str(IMAGE), run_dir=run_dir)
    try:
        got = p.up(timeout=90, config_disks=config_disks, expect_active=expect_active)
        print("\npair %s up in %.1f s: active %s" % (what, got["seconds"], got["active"]))
        yield p
    finally:
        p.down(quiet=True, keep_logs=True)


# Redfish paths of the array's storage and fabric (docs/STORAGE.md).
STORAGE = "/redfish/v1/Storage/Array"
DRIVES = "/redfish/v1/Chassis/Enclosure/Drives"
FABRIC = "/redfish/v1/Fabrics/iSCSI"
MIB = 1 << 20


def link(path):
    return {"@odata.id": path}


def created(pair, path, body):
    """POST through the floating address, expecting 201: the new resource's path."""
    rec = pair.client_http(path, timeout=10, method="POST", body=body)
    assert rec["status"] == 201, (path, rec["status"], rec["body"][:400])
    return rec["headers"]["location"]


def poll(fn, timeout, interval=0.5):
    """fn() until it returns (True, ...) or the deadline: its last answer."""
    end = time.monotonic() + timeout
    while True:
        last = fn()
        if last[0] or time.monotonic() > end:
            return last
        time.sleep(interval)
