"""The midplane cut flags (platform/midplane_segment.hpp):
u32 at offset 16 = SP-A's side cut, u32 at offset 20 = SP-B's side cut, little-endian."""

import os
import struct

SIZE = 4096
CUT_OFFSET = {"A": 16, "B": 20}


def set_cut(path, sp, cut):
    """Sets or clears one side's cut flag; creates a zero-filled segment when none exists yet
    (spd keeps an existing segment of its own user, mode 0600)."""
    if not cut and not os.path.exists(path):
        return
    # 0600 like spd's own (platform/private_shm.hpp): spd replaces a segment it cannot trust
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)  # one left by an older harness may be wider
        if os.fstat(fd).st_size < SIZE:
            os.ftruncate(fd, SIZE)
        os.pwrite(fd, struct.pack("<I", 1 if cut else 0), CUT_OFFSET[sp])
    finally:
        os.close(fd)


def get_cut(path, sp):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        data = os.pread(fd, 4, CUT_OFFSET[sp])
    finally:
        os.close(fd)
    return len(data) == 4 and struct.unpack("<I", data)[0] != 0


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
