"""The array's drive shelf (`sp-pair drive fail|restore|list`): cabled to both SPs, so a drive
that fails is failed in both SPs' hardware descriptions (docs/HARDWARE-SIM.md "drives"), the
way both would see it on the shelf's two ports. No backdoor: spd reads the files."""

import contextlib

from .common import HarnessError
from .faults import editing, read_description

SPS = ("A", "B")


def _drive(doc, slot, path):
    for d in doc.get("drives") or []:
        if isinstance(d, dict) and d.get("slot") == slot:
            return d
    slots = sorted(d.get("slot") for d in doc.get("drives") or []
                   if isinstance(d, dict) and isinstance(d.get("slot"), int))
    raise HarnessError("%s has no drive in slot %d (its slots: %s)" % (
        path, slot, ", ".join(map(str, slots)) or "none"))


def set_failed(doc, failed, slot=None, path=""):
    """Marks the drive in `slot` (every drive when slot is None) failed or healthy in `doc`, in
    place; returns the ids it changed or confirmed. Idempotent."""
    if slot is None:
        drives = [d for d in doc.get("drives") or [] if isinstance(d, dict)]
    else:
        drives = [_drive(doc, slot, path)]
    for d in drives:
        d["failed"] = failed
    return [d.get("id") or "Disk%s" % d.get("slot") for d in drives]


def failed_slots(doc):
    """The slots whose drive the description shows failed, in order."""
    return sorted(d.get("slot") for d in doc.get("drives") or []
                  if isinstance(d, dict) and d.get("failed") and isinstance(d.get("slot"), int))


def set_drive(lay, failed, slot=None):
    """Fails or restores a drive (every drive when slot is None) in both SPs' descriptions, each
    under its lock (A's, then B's: two callers at once cannot deadlock); when either lacks
    the slot, neither is written. Returns a line saying what changed."""
    paths = [lay.hardware_path(sp) for sp in SPS]
    ids = []
    with contextlib.ExitStack() as stack:
        for path in paths:
            ids.append(set_failed(stack.enter_context(editing(path)), failed, slot, path))
    if slot is None:
        what = "every drive (SP-A %d, SP-B %d)" % (len(ids[0]), len(ids[1]))
    else:
        what = "slot %d (%s)" % (slot, ids[0][0])
    return "drive %s %s in both SPs' descriptions (%s)" % (
        what, "failed" if failed else "restored", ", ".join(paths))


def listing(lay):
    """The shelf as each SP's description shows it, one line per slot."""
    docs = {}
    for sp in SPS:
        try:
            docs[sp] = read_description(lay.hardware_path(sp))
        except HarnessError as e:
            docs[sp] = {}
            yield "(SP-%s: %s)" % (sp, e)
    by_slot = {}
    for sp in SPS:
        for d in docs[sp].get("drives") or []:
            if isinstance(d, dict) and isinstance(d.get("slot"), int):
                by_slot.setdefault(d["slot"], {})[sp] = d
    yield "%-4s %-7s %-4s %15s %-10s %-9s %s" % ("slot", "id", "type", "bytes", "serial", "SP-A",
                                                "SP-B")
    for slot in sorted(by_slot):
        seen = by_slot[slot]
        d = seen.get("A") or seen["B"]
        state = {sp: ("-" if sp not in seen else "failed" if seen[sp].get("failed") else "ok")
                 for sp in SPS}
        yield "%-4d %-7s %-4s %15s %-10s %-9s %s" % (
            slot, d.get("id") or "Disk%d" % slot, d.get("media_type", ""),
            d.get("capacity_bytes", ""), d.get("serial_number", ""), state["A"], state["B"])
