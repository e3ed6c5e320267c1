"""A board booted with a bad kernel command line or a missing config partition refuses to
start and says why on its serial console (tools/firmware/init), without leaking the pair
key. One bare VM per case (no NICs, no midplane: /init checks its parameters first).

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_boot_errors.py
"""

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARCH = os.environ.get("DUALSP_QEMU_ARCH", "arm64")
IMAGE = Path(os.environ.get("DUALSP_IMAGE_DIR") or REPO / "build" / ("image-" + ARCH))
KEY = "0123456789abcdef" * 4
FATAL_DEADLINE_S = 60  # TCG boot to /init is 2-4 s; the config partition waits 5 s


def boot_until_fatal(append):
    """Boots one VM with `append` added to the image's command line and returns the console
    text once /init printed its FATAL lines (or the deadline passed). The VM is killed by
    its pid either way."""
    qemu = json.loads((IMAGE / "qemu.json").read_text())
    with tempfile.TemporaryDirectory(prefix="dualsp-qemu-boot-") as tmp:
        console = Path(tmp) / "console.log"
        cmd = [qemu["qemu"], *qemu["machine_args"], "-m", "256", "-smp", "1", "-nodefaults",
               "-display", "none", "-no-reboot", "-serial", "file:%s" % console,
               "-kernel", str(IMAGE / qemu["kernel"]), "-initrd", str(IMAGE / qemu["initrd"]),
               "-append", "%s %s" % (qemu["append"], append)]
        vm = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        text = ""
        try:
            deadline = time.monotonic() + FATAL_DEADLINE_S
            while time.monotonic() < deadline and vm.poll() is None:
                text = console.read_text(errors="replace") if console.exists() else ""
                if "does not start" in text:
                    break
                time.sleep(0.2)
        finally:
            vm.kill()
            vm.wait(timeout=10)
        return text


@pytest.fixture(scope="module", autouse=True)
def image():
    if not (IMAGE / "qemu.json").exists():
        pytest.fail("no firmware image in %s: run `make -f Makefile.cross ARCH=%s`"
                    % (IMAGE, ARCH), pytrace=False)


def fatal_lines(text):
    return [line for line in text.splitlines() if "dualsp: FATAL" in line]


def test_missing_sp_identity_is_refused_without_echoing_the_key():
    text = boot_until_fatal("dualsp.pair_key=%s" % KEY)
    fatal = fatal_lines(text)
    assert any("must say dualsp.sp=A or dualsp.sp=B" in line for line in fatal), text[-2000:]
    assert KEY not in text, "the pair key reached the console"
    assert "starting spd" not in text


def test_malformed_pair_key_is_refused():
    text = boot_until_fatal("dualsp.sp=A dualsp.pair_key=nothex")
    fatal = fatal_lines(text)
    assert any("dualsp.pair_key must be 64 hex digits" in line for line in fatal), text[-2000:]
    assert "starting spd" not in text


def test_missing_config_partition_is_refused():
    text = boot_until_fatal("dualsp.sp=B dualsp.pair_key=%s dualsp.config=/dev/vdz" % KEY)
    fatal = fatal_lines(text)
    assert any("config partition /dev/vdz (dualsp.config) does not exist" in line
               for line in fatal), text[-2000:]
    assert "starting spd" not in text
