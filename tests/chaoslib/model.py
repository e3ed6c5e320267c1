"""What the campaign did to the pair, as a timeline the invariant checks can query.

Two sources:
- the steps themselves (Model): per SP the paths it cut, the loss it has, the faults
  injected into it, whether its management cable is pulled. Harmful changes count from the
  step's start, repairs from its end (so a check never blames the product for the time a
  harness command took).
- observation (PowerTimeline): each SP's power state (off / stopped / running) sampled from
  /proc, because spd powers SPs off itself (fencing) without a step saying so.
"""

import bisect
import copy

SPS = ("A", "B")
PATHS = ("peer", "mgmt", "midplane")
# Every fault sp-pair injects makes the SP Critical (docs/HEALTH.md), so unhealthy.
FAULTS = ("temperature-critical", "fan-failed", "psu-failed", "memory-ecc", "boot-media",
          "mgmt-link-down")
# Step kinds that change nothing but the heartbeat paths (cut of some paths, heal, loss).
PATH_ONLY = ("cut", "heal", "loss", "settle")


def other(sp):
    return "B" if sp == "A" else "A"


def empty_sp():
    return {"cuts": [], "loss": {}, "faults": [], "pulled": False}


class Model:
    """The pair as the steps left it: snapshots in time order."""

    def __init__(self, t0):
        self.times = [t0]
        self.snaps = [{sp: empty_sp() for sp in SPS}]

    def now(self):
        return copy.deepcopy(self.snaps[-1])

    def at(self, t):
        i = bisect.bisect_right(self.times, t) - 1
        return self.snaps[max(i, 0)]

    def _push(self, t, snap):
        # snapshots must stay in time order; a repair stamped with its end may be later than
        # the start of nothing else (steps run one at a time), so t never goes back
        t = max(t, self.times[-1])
        self.times.append(t)
        self.snaps.append(snap)

    def apply(self, step, permanent_loss=None):
        """Records the effect of one executed step (a dict with kind, sp, ..., t_start, t_end)."""
        kind = step["kind"]
        s = self.now()
        sp = step.get("sp")
        harmful = True
        if kind == "cut":
            paths = list(PATHS) if step["path"] == "all" else [step["path"]]
            for p in paths:
                if p not in s[sp]["cuts"]:
                    s[sp]["cuts"].append(p)
        elif kind == "loss":
            s[sp]["loss"][step["path"]] = step["percent"]
        elif kind == "fault":
            if step["name"] not in s[sp]["faults"]:
                s[sp]["faults"].append(step["name"])
            if step["name"] == "mgmt-link-down":
                s[sp]["pulled"] = True
        elif kind in ("heal", "recover"):
            harmful = False
            for x in SPS:
                s[x]["cuts"], s[x]["loss"] = [], {}
                if kind == "recover":
                    s[x]["faults"], s[x]["pulled"] = [], False
            if permanent_loss:
                s["A"]["loss"]["peer"] = permanent_loss
        elif kind == "clear":
            harmful = False
            name = step.get("name")
            s[sp]["faults"] = [] if name is None else [f for f in s[sp]["faults"] if f != name]
            if name in (None, "mgmt-link-down"):
                s[sp]["pulled"] = False
        elif kind == "start":
            harmful = False
            # `sp-pair start` clears the SP's midplane cut flag (a power-on reconnects it)
            s[sp]["cuts"] = [p for p in s[sp]["cuts"] if p != "midplane"]
        else:
            return
        self._push(step["t_start"] if harmful else step["t_end"], s)

    # --- queries ---
    def clean_paths(self, t):
        """Heartbeat paths with no cut, no loss and no pulled cable on either SP at time t."""
        s = self.at(t)
        out = []
        for p in PATHS:
            if any(p in s[x]["cuts"] or p in s[x]["loss"] for x in SPS):
                continue
            if p == "mgmt" and any(s[x]["pulled"] for x in SPS):
                continue
            out.append(p)
        return out

    def all_cut(self, t):
        s = self.at(t)
        return all(any(p in s[x]["cuts"] for x in SPS) for p in PATHS)

    def change_times(self, t0, t1):
        i = bisect.bisect_right(self.times, t0)
        j = bisect.bisect_right(self.times, t1)
        return self.times[i:j]

    def healthy(self, sp, t):
        return not self.at(t)[sp]["faults"]

    def cable(self, sp, t):
        return not self.at(t)[sp]["pulled"]


class PowerTimeline:
    """Observed power state changes per SP: [(t, state)], state off|stopped|running, plus the
    windows during which an SP is booting (not yet able to take over)."""

    def __init__(self, boot_grace):
        self.changes = {sp: [] for sp in SPS}
        self.boots = {sp: [] for sp in SPS}   # (from, until): cannot serve yet
        self.boot_grace = boot_grace

    def record(self, sp, t, state):
        ch = self.changes[sp]
        if ch and ch[-1][1] == state:
            return
        prev = ch[-1][1] if ch else "off"
        ch.append((t, state))
        if state == "running" and prev == "off":
            self.boots[sp].append((t, t + self.boot_grace))

    def add_boot(self, sp, t_from, t_until):
        """A firmware restart (Manager.Reset): the SP cannot serve from t_from until t_until."""
        self.boots[sp].append((t_from, t_until + self.boot_grace))

    def state(self, sp, t):
        ch = self.changes[sp]
        i = bisect.bisect_right([c[0] for c in ch], t) - 1
        return ch[i][1] if i >= 0 else "unknown"

    def booting(self, sp, t):
        return any(a <= t < b for a, b in self.boots[sp])

    def current(self, sp):
        ch = self.changes[sp]
        return ch[-1][1] if ch else "unknown"

    def since(self, sp):
        ch = self.changes[sp]
        return ch[-1][0] if ch else None


def can_serve(sp, t, power, model):
    """Invariant 4's premise for one SP at time t: running (not off, not hung), booted, its
    management cable plugged in, and able to take over: healthy, or its peer is not running
    (a live active peer keeps the role when this SP is unhealthy: docs/ELECTION.md rule 5)."""
    if power.state(sp, t) != "running" or power.booting(sp, t) or not model.cable(sp, t):
        return False
    return model.healthy(sp, t) or power.state(other(sp), t) != "running"


def someone_can_serve(t, power, model):
    return any(can_serve(sp, t, power, model) for sp in SPS)
