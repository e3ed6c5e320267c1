"""A board booted with a bad kernel command line or a bad or missing config partition refuses
to start and says why on its serial console (tools/firmware/init), without leaking the pair
key. A key on the command line is refused (anyone reads /proc/cmdline); the partition's
platform.env is data (never run). One bare VM per case (no NICs, no midplane: /init checks
its parameters first).

Run (root):  /usr/bin/python3 -m pytest -q -s tests/qemu/test_qemu_boot_errors.py
"""

import io
import json
import os
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARCH = os.environ.get("DUALSP_QEMU_ARCH", "arm64")
IMAGE = Path(os.environ.get("DUALSP_IMAGE_DIR") or REPO / "build" / ("image-" + ARCH))
KEY = "0123456789abcdef" * 4
FATAL_DEADLINE_S = 60  # TCG boot to /init is 2-4 s; the config partition waits 5 s


def config_tar(path, files):
    """A config partition: a ustar archive of {name: text}, mode 0600."""
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(data))


def boot_until_fatal(append, config=None):
    """Boots one VM with `append` added to the image's command line (and `config`, {name:
    text}, as its config partition /dev/vda) and returns the console text once /init
    printed its FATAL lines (or the deadline passed). The VM is killed by its pid either
    way."""
    qemu = json.loads((IMAGE / "qemu.json").read_text())
    with tempfile.TemporaryDirectory(prefix="dualsp-qemu-boot-") as tmp:
        console = Path(tmp) / "console.log"
        cmd = [qemu["qemu"], *qemu["machine_args"], "-m", "256", "-smp", "1", "-nodefaults",
               "-display", "none", "-no-reboot", "-serial", "file:%s" % console,
               "-kernel", str(IMAGE / qemu["kernel"]), "-initrd", str(IMAGE / qemu["initrd"]),
               "-append", "%s %s" % (qemu["append"], append)]
        if config is not None:
            disk = Path(tmp) / "config.tar"
            config_tar(disk, config)
            cmd += ["-drive", "file=%s,format=raw,if=none,id=config,readonly=on" % disk,
                    "-device", "%s,drive=config" % qemu.get("disk_device", "virtio-blk-pci")]
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
    text = boot_until_fatal("dualsp.config=/dev/vda", {"pair.key": KEY + "\n"})
    fatal = fatal_lines(text)
    assert any("must say dualsp.sp=A or dualsp.sp=B" in line for line in fatal), text[-2000:]
    assert KEY not in text, "the pair key reached the console"
    assert "starting spd" not in text


def test_a_pair_key_on_the_command_line_is_refused_without_echoing_it():
    text = boot_until_fatal("dualsp.sp=A dualsp.pair_key=%s dualsp.config=/dev/vda" % KEY,
                            {"pair.key": KEY + "\n"})
    fatal = fatal_lines(text)
    assert any("dualsp.pair_key on the kernel command line is refused" in line
               for line in fatal), text[-2000:]
    assert KEY not in text, "the pair key reached the console"
    assert "starting spd" not in text


def test_malformed_pair_key_is_refused():
    text = boot_until_fatal("dualsp.sp=A dualsp.config=/dev/vda", {"pair.key": "nothex\n"})
    fatal = fatal_lines(text)
    assert any("pair.key on the config partition must be 64 hex digits" in line
               for line in fatal), text[-2000:]
    assert "starting spd" not in text


def test_missing_config_partition_is_refused():
    text = boot_until_fatal("dualsp.sp=B dualsp.config=/dev/vdz")
    fatal = fatal_lines(text)
    assert any("config partition /dev/vdz (dualsp.config) does not exist" in line
               for line in fatal), text[-2000:]
    assert "starting spd" not in text


def test_platform_env_is_data_not_a_script():
    """A platform.env line that a shell would run is an invalid value: /init stops on it and
    nothing of it runs (it used to be sourced as root)."""
    env = (REPO / "tools" / "firmware" / "platform.env").read_text()
    env += "ARRAY_ID=x$(echo INJECTED-COMMAND-RAN >/dev/console)\n"
    text = boot_until_fatal("dualsp.sp=A dualsp.config=/dev/vda",
                            {"pair.key": KEY + "\n", "platform.env": env})
    fatal = fatal_lines(text)
    assert any("platform.env line" in line and "ARRAY_ID has an invalid value" in line
               for line in fatal), text[-2000:]
    assert "INJECTED-COMMAND-RAN" not in text
    assert "starting spd" not in text
    text = boot_until_fatal("dualsp.sp=A dualsp.config=/dev/vda",
                            {"pair.key": KEY + "\n", "platform.env": "PATH=/tmp\n"})
    assert any("line 1: unknown key" in line for line in fatal_lines(text)), text[-2000:]
    assert "starting spd" not in text
