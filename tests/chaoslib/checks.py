"""The campaign's invariants as pure functions over what was recorded (docs/CHAOS.md).
Each returns a list of Finding; a finding is a violation unless its `note` is set."""

import collections
import re

from .model import PATH_ONLY, someone_can_serve

TAG = re.compile(r"AssetTag = '([^']*)'")
RESTORED = "(restored from SP-"
# A survivor that took over without the events its dead peer recorded alone names them
# (sp/config_service.cpp, the Critical MissingChanges alert): "... (events 552 to 553), ..."
ANNOUNCED = re.compile(r"became active without the configuration versions .*?\(events (\d+) to (\d+)\)")


def is_restored(entry):
    """An event merged back under its own id after the SP that acknowledged it alone returned
    (LogEntry Oem.DualSP.Restored; older firmware marked the message instead)."""
    oem = (entry.get("Oem") or {}).get("DualSP") or {}
    return bool(oem.get("Restored")) or RESTORED in (entry.get("Message") or "")


def announced_missing(entries):
    """The event ids that a MissingChanges alert in the log says its SP took over without."""
    out = set()
    for e in entries:
        m = ANNOUNCED.search(e.get("Message") or "")
        if m:
            out.update(range(int(m.group(1)), int(m.group(2)) + 1))
    return out


class Finding:
    def __init__(self, invariant, key, text, t=None, note=False, around=None):
        self.invariant = invariant   # 1..6
        self.key = key               # identity, so a finding is reported once
        self.text = text
        self.t = t                   # monotonic time it concerns (None: at the check)
        self.note = note
        self.around = around         # (t0, t1): the steps of this window are printed

    def __repr__(self):
        return "Finding(%d, %r)" % (self.invariant, self.text)


# ---------------------------------------------------------------- 1: never two holders

def holders(records):
    """holder-watch's JSON lines -> findings."""
    out = []
    for r in records:
        if r.get("two_holders"):
            out.append(Finding(1, ("two", round(r.get("t", 0), 3)),
                               "two holders of the floating IP (holder-watch order %s)" % r.get("order"),
                               t=r.get("t"), around=(r.get("t", 0) - 3, r.get("t", 0) + 1)))
    return out


# ---------------------------------------------------------------- 2: writes

def tag_counts(entries, prefix):
    """{AssetTag value: how many ResourceChanged events record it} for values with prefix."""
    c = collections.Counter()
    for e in entries:
        if not str(e.get("MessageId", "")).endswith("ResourceChanged"):
            continue
        m = TAG.search(e.get("Message") or "")
        if m and m.group(1).startswith(prefix):
            c[m.group(1)] += 1
    return c


def writes(records, entries, prefix):
    """records: the writer's finished writes ({"value", "outcome", "status", "t0", "t1",
    "msg"}); entries: the array event log. Acknowledged: exactly once; refused: absent;
    unknown: at most once."""
    counts = tag_counts(entries, prefix)
    out = []
    known = set()
    for w in records:
        v, o, n = w["value"], w["outcome"], counts.get(w["value"], 0)
        known.add(v)
        bad = ((o == "acknowledged" and n != 1) or (o == "refused" and n != 0) or
               (o == "unknown" and n > 1))
        if bad:
            what = {"acknowledged": "acknowledged (HTTP %s)", "refused": "refused (HTTP %s)",
                    "unknown": "of unknown outcome (%s)"}[o] % (w.get("status") or w.get("err"))
            out.append(Finding(2, ("write", v, o, n),
                               "write %s %s is in the event log %d times%s" % (
                                   v, what, n, (": " + w["msg"][:200]) if w.get("msg") else ""),
                               t=w["t0"], around=(w["t0"] - 3, w["t1"] + 1)))
    for v in sorted(set(counts) - known):
        out.append(Finding(2, ("stranger", v), "the event log records %s, which the writer "
                                               "never sent (or had not finished)" % v, note=True))
    return out


# ---------------------------------------------------------------- 3: SSE

def _same(ev, entry):
    return (ev.get("MessageId") == entry.get("MessageId") and
            ev.get("Message") == entry.get("Message") and
            list(ev.get("MessageArgs") or []) == list(entry.get("MessageArgs") or []))


def sse(received, entries):
    """received: [{"id", "ev" (the Events[0] record), "t", "conn"}] in arrival order;
    entries: the event log. Ids go up by exactly 1 across reconnects; an event never
    changes (stream vs log, by id). A skipped id whose log event is marked restored (Oem.DualSP.Restored),
    or that a MissingChanges alert in the log names (the survivor announced it lacks it), is
    a note. Findings are grouped per connection and kind (one root cause, e.g. a failover
    that reused ids, gives one finding of each kind, with examples), and the ids the log does
    not have either (gaps in the numbering) are one finding."""
    by_id = {}
    for e in entries:
        try:
            by_id[int(e["Id"])] = e
        except (KeyError, ValueError, TypeError):
            pass
    announced = announced_missing(entries)
    groups = collections.OrderedDict()   # (kind, conn) -> [(id, text, t)]
    holes, restored = [], []
    prev = None

    def add(kind, conn, i, text, t):
        groups.setdefault((kind, conn), []).append((i, text, t))
    for r in received:
        i, conn = r["id"], r["conn"]
        if prev is not None and i <= prev:
            add("order", conn, i, "%d after %d" % (i, prev), r["t"])
        elif prev is not None and i > prev + 1:
            for m in range(prev + 1, i):
                msg = (by_id[m].get("Message") or "") if m in by_id else None
                if msg is None:
                    holes.append(m)
                elif is_restored(by_id[m]) or m in announced:
                    restored.append(m)
                else:
                    add("missed", conn, m, "%d (%s)" % (m, msg[:140]), r["t"])
        entry = by_id.get(i)
        if entry is None:
            add("gone", conn, i, "%d (%s)" % (i, (r["ev"].get("Message") or "")[:140]), r["t"])
        elif not _same(r["ev"], entry):
            add("changed", conn, i, "%d: the stream showed %r, the log has %r" % (
                i, (r["ev"].get("Message") or "")[:140], (entry.get("Message") or "")[:140]), r["t"])
        prev = i if prev is None else max(prev, i)
    out = []
    if holes:
        out.append(Finding(3, ("holes",),
                           "SSE ids are not consecutive: the stream skipped %d id(s) that the "
                           "event log does not have either (the numbering has gaps), e.g. %s" % (
                               len(holes), _ids(holes[:12]))))
    if restored:
        out.append(Finding(3, ("restored",), "SSE skipped %d id(s) that the final log shows as "
                                             "restored events or that a MissingChanges alert "
                                             "named, e.g. %s" % (
                                                 len(restored), _ids(restored[:12])), note=True))
    what = {"order": "ids repeated or out of order",
            "missed": "skipped id(s) of events the log has",
            "gone": "event(s) the log does not have (under that id or at all)",
            "changed": "event(s) that the log now holds as a different event under the same id"}
    for (kind, conn), items in groups.items():
        ids = sorted(set(i for i, _, _ in items))
        t = items[0][2]
        out.append(Finding(3, (kind, conn),
                           "SSE connection %d: %d %s: %s; e.g. %s" % (
                               conn, len(items), what[kind], _ids(ids[:20]),
                               " | ".join(x for _, x, _ in items[:2])),
                           t=t, around=(t - 5, items[-1][2] + 0.5)))
    return out


def _ids(ids):
    """[3, 4, 5, 9] -> '3-5, 9'."""
    out, start = [], None
    for k, i in enumerate(ids):
        if start is None:
            start = i
        if k + 1 == len(ids) or ids[k + 1] != i + 1:
            out.append(str(start) if start == i else "%d-%d" % (start, i))
            start = None
    return ", ".join(out)


# ---------------------------------------------------------------- 4: outages

def answered(probe_records):
    """Reader attempts that got an HTTP answer (any status), sorted by completion time:
    [(t_done, sp)]."""
    out = []
    for r in probe_records:
        if r.get("status") is not None and r.get("t") is not None:
            out.append((r["t"] + (r.get("ms") or 0) / 1000.0, r.get("sp")))
    out.sort()
    return out


def gaps(probe_records, min_gap):
    """Outages: [(t0, t1)] between consecutive answers more than min_gap apart."""
    ans = answered(probe_records)
    return [(a[0], b[0]) for a, b in zip(ans, ans[1:]) if b[0] - a[0] > min_gap]


def probe_starved(probe_records, t0, t1, max_hole=0.3):
    """True when the reader itself started no attempt for more than max_hole somewhere in
    [t0, t1] (the machine starved it): such an outage cannot be blamed on the pair."""
    starts = sorted(r["t"] for r in probe_records if r.get("t") is not None and t0 <= r["t"] <= t1)
    pts = [t0] + starts + [t1]
    return any(b - a > max_hole for a, b in zip(pts, pts[1:]))


def outages(probe_records, power, model, limit=1.0, min_gap=0.25, resolution=0.01, t0=0.0):
    """Invariant 4: an outage is charged for the time some SP could serve (model.can_serve);
    more than `limit` seconds of it in one outage is a violation. Returns (outages, findings)
    with outages [(t0, t1, charged)]."""
    out, findings = [], []
    for a, b in gaps(probe_records, min_gap):
        longest, run = 0.0, 0.0
        n = int((b - a) / resolution) + 1
        run_start = best_start = None
        for k in range(n):
            t = a + k * resolution
            if someone_can_serve(t, power, model):
                if run == 0.0:
                    run_start = t
                run += resolution
                if run > longest:
                    longest, best_start = run, run_start
            else:
                run = 0.0
        out.append((a, b, longest))
        if longest > limit:
            if probe_starved(probe_records, a, b):
                findings.append(Finding(4, ("starved", round(a, 2)),
                                        "outage %.2f s (+%.3f to +%.3f s) while the reader itself "
                                        "was starved: not judged" % (b - a, a - t0, b - t0),
                                        t=a, note=True))
                continue
            findings.append(Finding(4, ("outage", round(a, 2)),
                                    "the floating IP did not answer for %.2f s (from +%.3f to "
                                    "+%.3f s), %.2f s of it while an SP could serve (from +%.3f s)" % (
                                        b - a, a - t0, b - t0, longest, best_start - t0),
                                    t=a, around=(a - 3, b + 1)))
    return out, findings


def slow_reads(by_sp, limit=1.0, t0=0.0):
    """Notes (invariant 4): a reader about one SP's Manager got no answer for more than
    `limit` seconds while the reader about the other SP was answered all along (no 0.5 s
    without an answer) meanwhile (the floating
    IP answered; the read about one SP, typically the active SP's peer over a bad peer link,
    was slow beyond the documented 500 ms deadline for a stale answer)."""
    out = []
    for sp, recs in sorted(by_sp.items()):
        others = [t for x, rs in by_sp.items() if x != sp for t, _ in answered(rs)]
        others.sort()
        for a, b in gaps(recs, limit):
            inside = [t for t in others if a < t < b]
            pts = [a] + inside + [b]
            if not inside or max(y - x for x, y in zip(pts, pts[1:])) > 0.5:
                continue    # the other reader was not answered all along: not a slow read alone
            f = Finding(4, ("slow", sp, round(a, 2)),
                        "reads of /redfish/v1/Managers/SP%s through the floating IP got no answer for "
                        "%.2f s (+%.3f to +%.3f s) while reads about the other SP were answered (%d)" % (
                            sp, b - a, a - t0, b - t0, len(inside)), t=a, note=True)
            f.duration = b - a
            out.append(f)
    return out


# ---------------------------------------------------------------- 5: role changes

def role_changes(probe_records):
    """[(t_last_old, t_first_new, old, new)] from the X-DualSP-SP of the reader's answers."""
    out = []
    last = None
    for t, sp in answered(probe_records):
        if not sp:
            continue
        if last is not None and sp != last[1]:
            out.append((last[0], t, last[1], sp))
        last = (t, sp)
    return out


def needless_role_changes(probe_records, steps, model, quiet=5.0, t0=0.0, stats=None):
    """Invariant 5: a role change with no step but cut (of some paths), heal or loss in the
    `quiet` seconds before it, and some heartbeat path clean (no cut, no loss, cable in) all
    along, is a violation."""
    out = []
    if stats is not None:
        stats.update(changes=0, judged=0)
    for ta, t1, old, new in role_changes(probe_records):
        if stats is not None:
            stats["changes"] += 1
        w0 = ta - quiet
        busy = [s for s in steps if s["kind"] not in PATH_ONLY and
                s.get("t_start", 0) <= t1 and s.get("t_end", s.get("t_start", 0)) >= w0]
        # a settle that powered an SP on again did a `start`
        busy += [s for s in steps if any(w0 <= t <= t1 for t in s.get("restarts") or [])]
        if busy:
            continue
        if any(s["kind"] == "cut" and s.get("path") == "all" and s.get("t_start", 0) <= t1 and
               s.get("t_end", 0) >= w0 for s in steps):
            continue
        times = [w0] + model.change_times(w0, t1)
        if all(model.clean_paths(t) for t in times) and not any(model.all_cut(t) for t in times):
            if stats is not None:
                stats["judged"] += 1
            out.append(Finding(5, ("role", round(ta, 2)),
                               "role change SP-%s -> SP-%s (last answer of SP-%s at +%.3f s, first "
                               "of SP-%s at +%.3f s) with only path cuts/loss in the %.0f s before "
                               "and path(s) %s clean" % (old, new, old, ta - t0, new, t1 - t0, quiet,
                                                         "/".join(model.clean_paths(ta))),
                               t=ta, around=(w0, t1 + 1)))
    return out
