"""qemu-pair: two DualSP firmware images booted as QEMU boards (docs/QEMU-PAIR.md)."""

from .pair import QemuPair  # noqa: F401

__all__ = ["QemuPair"]
