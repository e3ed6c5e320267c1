"""The midplane cut flags (platform/midplane_segment.hpp):
u32 at offset 16 = SP-A's side cut, u32 at offset 20 = SP-B's side cut, little-endian."""

import os
import struct

SIZE = 4096
CUT_OFFSET = {"A": 16, "B": 20}


def set_cut(path, sp, cut):
    """Sets or clears one side's cut flag; creates a zero-filled segment when none exists yet
    (spd's open_or_create keeps an existing 4096-byte segment)."""
    if not cut and not os.path.exists(path):
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
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
