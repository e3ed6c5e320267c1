"""The randomized fault campaign (tests/chaos, docs/CHAOS.md)."""

import collections
import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import time

from . import checks
from .clients import (FLOATING, PowerObserver, SseFollower, Writer, Background, http_request,
                      keep_running)
from .model import FAULTS, SPS, Model, PowerTimeline, other

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(REPO, "tools")
PYTHON = "/usr/bin/python3"
MGMT = {"A": "198.18.0.11", "B": "198.18.0.12"}
ENTRIES = "/redfish/v1/Managers/SPA/LogServices/Events/Entries"

BOOT_GRACE = 2.0        # s after power-on (or a firmware reset) before an SP counts as able to serve
OUTAGE_LIMIT = 1.0      # invariant 4
QUIET = 5.0             # invariant 5: seconds with only path steps before a role change
SETTLE_TIMEOUT = 30.0   # invariant 6
SPWEB_KILLS_PER_MIN = 3  # 5 crashes in 60 s is a crash loop: Critical until spd restarts
PRINT_LIMIT = 10        # violations printed in full per invariant (all are in chaos-result.json)


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


class Campaign:
    def __init__(self, args):
        self.args = args
        self.state = args.state
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.steps = []
        self.findings = {}       # key -> Finding, in report order
        self.t0 = time.monotonic()
        self.model = Model(self.t0)
        self.power = PowerTimeline(BOOT_GRACE)
        self.off_seen, self.stopped_seen = {}, {}
        self.spweb_kills = {"A": [], "B": []}
        self.settles = []
        self.settle_restarts = []
        self.printed = {}
        self.failed_settles = 0
        self.stress = None
        self.bg = []
        self.writer = self.sse = self.observer = self.probe = self.holders = None
        self.readers = {}
        self.steps_path = os.path.join(self.state, "chaos-steps.json")
        self.result_path = os.path.join(self.state, "chaos-result.json")

    # ------------------------------------------------------------ harness
    def sp_pair(self, *args):
        """One sp-pair verb, in this process (no interpreter start-up per step).
        Returns (rc, output)."""
        from sp_pair import cli
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                rc = cli.main(["--state", self.state] + [str(a) for a in args])
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 2
            except Exception as e:      # a harness bug must not kill the campaign
                print("sp-pair %s: %s: %s" % (args[0], type(e).__name__, e))
                rc = 3
        return rc, buf.getvalue().strip()

    def live_state(self, sp):
        from sp_pair import control, procs
        from sp_pair.common import NS_SP
        return control.sp_state(procs.pids_in_netns(NS_SP[sp]))

    def holder_now(self):
        r = http_request(FLOATING, "/redfish/v1", timeout=0.5)
        return r["headers"].get("x-dualsp-sp")

    # ------------------------------------------------------------ steps
    def execute(self, step):
        """Runs one step (dict: kind and arguments), recording t_start, t_end and the result."""
        kind, sp = step["kind"], step.get("sp")
        step["i"] = len(self.steps)
        step["t_start"] = time.monotonic()
        step["at"] = round(step["t_start"] - self.t0, 3)
        rc, out = 0, ""
        if kind == "kill":
            rc, out = self.sp_pair("kill", sp)
        elif kind == "start":
            if self.live_state(sp) != "off":
                rc, out = 0, "skipped: SP-%s is not off" % sp
            else:
                rc, out = self.sp_pair("start", sp)
        elif kind in ("hang", "resume"):
            rc, out = self.sp_pair(kind, sp)
        elif kind == "cut":
            rc, out = self.sp_pair("cut", sp, "--path", step["path"])
        elif kind == "loss":
            rc, out = self.sp_pair("loss", sp, "--path", step["path"], "--percent", step["percent"])
        elif kind == "heal":
            rc, out = self.heal()
        elif kind == "fault":
            rc, out = self.sp_pair("fault", sp, step["name"])
        elif kind == "clear":
            rc, out = self.sp_pair("clear", sp, *([step["name"]] if step.get("name") else []))
        elif kind == "failover":
            holder = self.holder_now()
            step["target"] = holder
            if holder is None:
                rc, out = 1, "no answer on the floating IP"
            else:
                r = http_request(FLOATING, "/redfish/v1/Managers/SP%s/Actions/Manager.ForceFailover"
                                 % holder, "POST", {}, timeout=3.0)
                rc, out = (0 if r["status"] == 204 else 1), "HTTP %s %s" % (
                    r["status"], (r["text"] or r["err"] or "")[:160])
        elif kind == "reset":
            r = http_request(FLOATING, "/redfish/v1/Managers/SP%s/Actions/Manager.Reset" % sp,
                             "POST", {"ResetType": "GracefulRestart"}, timeout=3.0)
            rc, out = (0 if r["status"] == 204 else 1), "HTTP %s %s" % (
                r["status"], (r["text"] or r["err"] or "")[:160])
        elif kind == "kill-spweb":
            rc, out = self.kill_spweb(sp)
        elif kind == "recover":
            rc, out = self.recover()
        elif kind == "settle":
            rc, out = self.settle()
        else:
            rc, out = 2, "unknown step kind %r" % kind
        step["t_end"] = time.monotonic()
        step["rc"], step["out"] = rc, out[-400:]
        if kind == "settle":
            step["restarts"] = list(self.settle_restarts)
        if kind == "reset" and rc == 0:
            self.power.add_boot(sp, step["t_start"], step["t_end"])
        self.model.apply(step, self.args.loss)
        self.steps.append(step)
        log("[%7.2fs] #%d %s -> %s%s (%.0f ms)" % (
            step["at"], step["i"], describe(step), "" if rc == 0 else "rc %s: " % rc,
            out.splitlines()[-1][:150] if out else "", (step["t_end"] - step["t_start"]) * 1000))
        self.save_steps()
        return step

    def heal(self):
        rc, out = self.sp_pair("heal")
        if self.args.loss:
            rc2, out2 = self.sp_pair("loss", "A", "--path", "peer", "--percent", self.args.loss)
            rc, out = rc or rc2, out + "; " + out2
        return rc, out

    def kill_spweb(self, sp):
        from sp_pair import procs
        from sp_pair.common import NS_SP
        pids = [p for p in procs.pids_in_netns(NS_SP[sp])
                if os.path.basename(procs.cmdline(p)[0].decode(errors="replace")) == "spweb"]
        if not pids:
            return 1, "SP-%s has no spweb" % sp
        done = procs.signal_pids(pids, signal.SIGKILL)
        self.spweb_kills[sp].append(time.monotonic())
        return 0, "SIGKILL spweb of SP-%s: pids %s" % (sp, done)

    def recover(self):
        """End of an episode: heal, clear every fault, resume hung SPs, power off ones on."""
        outs = []
        rc, out = self.heal()
        outs.append(out)
        for sp in SPS:
            r, o = self.sp_pair("clear", sp)
            rc, _ = rc or r, outs.append(o)
        for sp in SPS:
            if self.live_state(sp) == "stopped":
                r, o = self.sp_pair("resume", sp)
                rc, _ = rc or r, outs.append(o)
        time.sleep(0.3)
        for sp in SPS:
            if self.live_state(sp) == "off":
                r, o = self.sp_pair("start", sp)
                rc, _ = rc or r, outs.append(o)
        return rc, "; ".join(o for o in outs if o)

    # ------------------------------------------------------------ settle and checks
    def pair_state(self):
        """(settled, text): both running, one active and one passive on their own addresses,
        the floating address on the active only, the peer link up both ways (fresh answers
        about the peer), the configuration and the event log the same on both."""
        from sp_pair import netns, redfish
        from sp_pair.common import NS_SP
        power = {sp: self.live_state(sp) for sp in SPS}
        if any(p != "running" for p in power.values()):
            return False, "power %s" % power, None
        docs = {sp: redfish.manager(MGMT[sp], 80, sp, timeout=0.5) for sp in SPS}
        roles = {sp: redfish.role_of(docs[sp])[0] for sp in SPS}
        health = {sp: redfish.role_of(docs[sp])[1] for sp in SPS}
        epochs = {sp: redfish.role_of(docs[sp])[2] for sp in SPS}
        actives = [sp for sp in SPS if roles[sp] == "active"]
        if len(actives) != 1 or roles[other(actives[0])] != "passive":
            mute = [sp for sp in SPS if docs[sp] is None]
            return False, "roles %s, epochs %s, health %s%s" % (
                roles, epochs, health, "".join(
                    "; SP-%s is running but its Manager does not answer on its own address" % sp
                    for sp in mute)), (None if mute else actives)
        act, pas = actives[0], other(actives[0])
        holders = [sp for sp in SPS if netns.holds(NS_SP[sp], FLOATING)]
        if holders != [act]:
            return False, "active SP-%s, floating address on %s" % (act, holders), actives
        for host, about in ((FLOATING, pas), (MGMT[pas], act)):
            r = http_request(host, "/redfish/v1/Managers/SP" + about, timeout=1.0)
            oem = ((r["json"] or {}).get("Oem") or {}).get("DualSP") or {} if r["status"] == 200 else {}
            if oem.get("Stale") is not False:
                return False, "peer link: %s answers about SP-%s with status %s, Stale %s%s" % (
                    host, about, r["status"], oem.get("Stale"),
                    " (no answer%s)" % (" from the floating IP" if host == FLOATING else "")
                    if r["status"] is None else ""), actives
        tags, counts = {}, {}
        for sp in SPS:
            r = http_request(MGMT[sp], "/redfish/v1/Chassis/Enclosure", timeout=1.0)
            tags[sp] = (r["json"] or {}).get("AssetTag") if r["status"] == 200 else ("HTTP %s" % r["status"])
            r = http_request(MGMT[sp], ENTRIES + "?$top=1", timeout=1.0)
            counts[sp] = (r["json"] or {}).get("Members@odata.count") if r["status"] == 200 else None
        if tags["A"] != tags["B"] or counts["A"] != counts["B"] or counts["A"] is None:
            return False, "not in sync: AssetTag %s, events %s (health %s)" % (tags, counts, health), actives
        return True, "SP-%s active, SP-%s passive, in sync (%s events)" % (act, pas, counts["A"]), actives

    def settle(self):
        """Waits (writer paused) for the pair to settle; invariant 6; then every check."""
        if self.writer:
            self.writer.pause()
        t0 = time.monotonic()
        self.settle_restarts = []
        ok, text, actives = False, "", None
        restarts, off_since = 0, {}
        for _ in range(int(SETTLE_TIMEOUT / 0.25) + 2):
            ok, text, actives = self.pair_state()
            if ok or time.monotonic() - t0 > SETTLE_TIMEOUT:
                break
            for sp in SPS:
                # An SP powered on by the recovery may be fenced again at once (today a
                # starting spd fences a peer it has not heard yet): once it has been off for
                # a second, power it on again (a few times at most) and say so.
                if self.live_state(sp) != "off":
                    off_since.pop(sp, None)
                    continue
                off_since.setdefault(sp, time.monotonic())
                if time.monotonic() - off_since[sp] >= 1.0 and restarts < 3:
                    off_since.pop(sp)
                    restarts += 1
                    self.settle_restarts.append(time.monotonic())
                    rc, out = self.sp_pair("start", sp)
                    self.report([checks.Finding(
                        6, ("restart", len(self.settles), restarts),
                        "SP-%s was off during the settle (%s); powered on again: %s" % (
                            sp, self.last_power_off(sp), out), t=time.monotonic(), note=True)])
            time.sleep(0.25)
        took = time.monotonic() - t0
        self.settles.append({"ok": ok, "took": round(took, 2), "state": text})
        if not ok:
            self.failed_settles += 1
            what = ("two active SPs" if actives is not None and len(actives) == 2 else
                    "no active SP" if actives == [] else "not settled")
            self.report([checks.Finding(6, ("settle", len(self.settles)),
                                        "%s %.0f s after heal/clear/resume/start: %s" % (
                                            what, took, text), t=t0, around=(t0 - 10, t0))])
        else:
            self.failed_settles = 0
        self.check_all(settled=ok)
        if self.writer:
            self.writer.resume()
        return (0 if ok else 1), "%s in %.1f s: %s" % ("settled" if ok else "NOT settled", took, text)

    def last_power_off(self, sp):
        """The last line of power.log that powered SP `sp` off."""
        try:
            with open(os.path.join(self.state, "power.log"), errors="replace") as f:
                lines = [l.strip() for l in f if ("power-off %s'" % sp) in l or
                         ("sp-pair kill %s " % sp) in l]
            return lines[-1] if lines else "no power-off in power.log"
        except OSError:
            return "no power.log"

    def read_log(self):
        """The whole array event log, oldest first (paged), from the floating IP."""
        for _ in range(5):
            out, skip, fine = [], 0, True
            for _ in range(1000):
                r = http_request(FLOATING, "%s?$top=1000&$skip=%d" % (ENTRIES, skip), timeout=3.0)
                if r["status"] != 200 or not isinstance(r["json"], dict):
                    fine = False
                    break
                members = r["json"].get("Members") or []
                out += members
                skip += len(members)
                if not members or skip >= r["json"].get("Members@odata.count", 0):
                    break
            if fine:
                return out
            time.sleep(0.5)
        return None

    def check_all(self, settled=True):
        """Every check over what was recorded so far. The writes and the event stream are
        judged against the log only when the pair has settled (in sync, nothing being merged)."""
        found = []
        if self.holders:
            found += checks.holders(self.holders.records())
        # What the clients saw is taken before the log is read: an event the stream received
        # (or a write acknowledged) after the read would look like one the log lost.
        received = self.sse.snapshot()[0] if (self.sse and settled) else None
        written = self.writer.snapshot() if (self.writer and settled) else None
        entries = self.read_log() if settled else None
        if entries is not None:
            try:
                with open(os.path.join(self.state, "chaos-events.json"), "w") as f:
                    json.dump(entries, f)
            except OSError:
                pass
        if not settled:
            log("  (not settled: writes and SSE not judged against the log now)")
        elif entries is None:
            log("  (the event log could not be read; writes and SSE not checked now)")
        else:
            if self.writer:
                found += checks.writes(written, entries, self.writer.prefix)
            if self.sse:
                sse_found = checks.sse(received, entries)
                found += sse_found
                if any(not f.note for f in sse_found):
                    # The log as it was when the stream disagreed with it, for the post-mortem.
                    try:
                        with open(os.path.join(self.state, "chaos-events-at-%d.json" %
                                               len(self.settles)), "w") as f:
                            json.dump(entries, f)
                    except OSError:
                        pass
        if self.probe:
            by_sp = self.reader_records()
            recs = by_sp["A"] + by_sp["B"]
            found += checks.slow_reads(by_sp, t0=self.t0)
            _, f = checks.outages(recs, self.power, self.model, OUTAGE_LIMIT, t0=self.t0)
            found += f
            found += checks.needless_role_changes(recs, self.steps, self.model, QUIET, t0=self.t0)
        self.report(found)
        return entries

    def reader_records(self):
        """{SP: the reader's records about that SP's Manager}."""
        return {sp: b.records() for sp, b in self.readers.items()} if self.readers else {"A": [], "B": []}

    def report(self, found):
        """Prints the findings not reported before (the first PRINT_LIMIT violations of each
        invariant in full, with the steps around them), then the step list so far."""
        printed = 0
        for f in found:
            if f.key in self.findings:
                self.findings[f.key].text = f.text      # an aggregate may have grown
                continue
            self.findings[f.key] = f
            idx = self.step_index(f.t)
            if f.note:
                n = self.printed[("note", f.invariant)] = self.printed.get(("note", f.invariant), 0) + 1
                if n <= PRINT_LIMIT:
                    log("NOTE invariant %d (seed %s, step #%s): %s" % (f.invariant, self.seed, idx, f.text))
                continue
            n = self.printed[f.invariant] = self.printed.get(f.invariant, 0) + 1
            if n > PRINT_LIMIT:
                if n == PRINT_LIMIT + 1:
                    log("(more violations of invariant %d: counted, not printed; all of them are in "
                        "%s)" % (f.invariant, self.result_path))
                continue
            printed += 1
            log("VIOLATION invariant %d (seed %s, step #%s): %s" % (f.invariant, self.seed, idx, f.text))
            if f.around:
                near = [s for s in self.steps if s["t_end"] >= f.around[0] and s["t_start"] <= f.around[1]]
                for s in near[-12:]:
                    log("    near: [%7.2fs] #%d %s -> %s" % (s["at"], s["i"], describe(s),
                                                           (s.get("out") or "").splitlines()[-1][:120]
                                                           if s.get("out") else "rc %s" % s["rc"]))
        if printed:
            log("    steps so far (seed %s): %s" % (self.seed, steps_line(self.steps)))

    def step_index(self, t):
        if t is None:
            return len(self.steps) - 1 if self.steps else "-"
        idx = "-"
        for s in self.steps:
            if s["t_start"] <= t:
                idx = s["i"]
        return idx

    # ------------------------------------------------------------ the generator
    def obligation(self):
        """A step the pair needs now (an SP off or hung too long, both off), or None."""
        now = time.monotonic()
        st = {sp: self.live_state(sp) for sp in SPS}
        for sp in SPS:
            if st[sp] == "off":
                self.off_seen.setdefault(sp, (now, self.rng.uniform(0.5, 5.0)))
            else:
                self.off_seen.pop(sp, None)
            if st[sp] == "stopped":
                self.stopped_seen.setdefault(sp, (now, self.rng.uniform(0.3, 4.0)))
            else:
                self.stopped_seen.pop(sp, None)
        if st["A"] == st["B"] == "off":
            return {"kind": "start", "sp": self.rng.choice(SPS)}, st
        for sp in SPS:
            if sp in self.off_seen and now - self.off_seen[sp][0] > self.off_seen[sp][1]:
                return {"kind": "start", "sp": sp}, st
            if sp in self.stopped_seen and now - self.stopped_seen[sp][0] > self.stopped_seen[sp][1]:
                return {"kind": "resume", "sp": sp}, st
        return None, st

    def random_step(self, st):
        rng = self.rng
        now = time.monotonic()
        holder = self.holder_now()
        model = self.model.now()
        on = [sp for sp in SPS if st[sp] != "off"]
        running = [sp for sp in SPS if st[sp] == "running"]
        faulted = [sp for sp in SPS if model[sp]["faults"]]
        choices = []

        def add(weight, make):
            choices.append((weight, make))
        if on:
            add(3, lambda: {"kind": "kill", "sp": holder if holder in on and rng.random() < 0.6
                            else rng.choice(on)})
        if len(on) < 2:
            add(2, lambda: {"kind": "start", "sp": rng.choice([sp for sp in SPS if sp not in on])})
        if running:
            add(1.5, lambda: {"kind": "hang", "sp": holder if holder in running and rng.random() < 0.5
                              else rng.choice(running)})
        if any(st[sp] == "stopped" for sp in SPS):
            add(2, lambda: {"kind": "resume", "sp": rng.choice([sp for sp in SPS if st[sp] == "stopped"])})
        add(3, lambda: {"kind": "cut", "sp": rng.choice(SPS),
                        "path": rng.choices(["peer", "mgmt", "midplane", "all"], [3, 3, 3, 1])[0]})
        add(1.5, lambda: {"kind": "heal"})
        add(2, lambda: {"kind": "fault", "sp": rng.choice(SPS),
                        "name": rng.choices(FAULTS, [1, 1, 1, 1, 1, 2])[0]})
        if faulted:
            def clear():
                sp = rng.choice(faulted)
                names = model[sp]["faults"]
                return {"kind": "clear", "sp": sp,
                        "name": rng.choice(names) if rng.random() < 0.6 else None}
            add(1.5, clear)
        if len(running) == 2:
            add(1.5, lambda: {"kind": "failover"})
        if running:
            add(1, lambda: {"kind": "reset", "sp": rng.choice(running)})
        webkill = [sp for sp in running
                   if len([t for t in self.spweb_kills[sp] if now - t < 60]) < SPWEB_KILLS_PER_MIN]
        if webkill:
            add(1, lambda: {"kind": "kill-spweb", "sp": rng.choice(webkill)})
        add(1.5, lambda: {"kind": "loss", "sp": rng.choice(SPS), "path": rng.choice(["peer", "mgmt"]),
                          "percent": rng.choice([10, 20, 30, 50, 60])})
        weights = [w for w, _ in choices]
        return rng.choices(choices, weights)[0][1]()

    def pause(self):
        r = self.rng.random()
        if r < 0.25:
            return 0.0
        if r < 0.6:
            return round(self.rng.uniform(0, 0.5), 3)
        return round(self.rng.uniform(0.5, 3.0), 3)

    # ------------------------------------------------------------ the run
    def start_load(self, seconds):
        deadline = time.monotonic() + seconds
        self.observer = PowerObserver(self.power, deadline)
        self.observer.sample()
        self.observer.start()
        dur = str(int(min(600, seconds + 30)))
        # Two readers, one about each SP's Manager, every 40 ms each: the floating IP answers
        # when either gets an answer; a read about the active SP's peer may be slow alone.
        self.readers = {sp: Background("reader-%s" % sp.lower(), [
            "ip", "netns", "exec", "dualsp-cli", PYTHON, os.path.join(TOOLS, "probe"),
            "--url", "http://%s/redfish/v1/Managers/SP%s" % (FLOATING, sp), "--interval", "0.04",
            "--timeout", "1.0", "--duration", dur], self.state) for sp in SPS}
        self.probe = True
        self.holders = Background("holder-watch", [
            PYTHON, os.path.join(TOOLS, "holder-watch"), "--floating", FLOATING,
            "--interval", "0.002", "--duration", str(int(min(3600, seconds + 30)))], self.state)
        self.bg = list(self.readers.values()) + [self.holders]
        keep_running(self.bg, deadline)
        self.writer = Writer(self.seed, deadline)
        self.writer.start()
        self.sse = SseFollower(deadline)
        self.sse.start()
        if self.args.stress:
            self.stress = subprocess.Popen(
                ["stress-ng", "--cpu", "0", "--timeout", "%ds" % int(seconds), "--quiet"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)

    def stop_stress(self):
        if self.stress is None or self.stress.poll() is not None:
            return
        try:
            os.killpg(self.stress.pid, signal.SIGTERM)   # its own group: stress-ng and workers
            self.stress.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.stress.pid, signal.SIGKILL)
            except OSError:
                pass
            self.stress.wait(5)

    def stop_load(self):
        for t in (self.writer, self.sse, self.observer):
            if t is not None:
                t.stop.set()
        for t in (self.writer, self.sse, self.observer):
            if t is not None:
                t.join(10)
        for b in self.bg:
            b.stop()

    def run(self):
        replay = None
        if self.args.replay:
            with open(self.args.replay) as f:
                replay = json.load(f)["steps"]
        budget = self.args.minutes * 60.0
        log("chaos: seed %s, %s, state %s, build %s" % (
            self.seed, ("replay of %d steps from %s" % (len(replay), self.args.replay)) if replay
            else "%.1f min" % self.args.minutes, self.state, os.environ.get("DUALSP_BUILD_DIR", "(default)")))
        os.environ.pop("DUALSP_AUTH", None)
        rc, out = self.sp_pair("up")
        log(out)
        if rc != 0:
            log("chaos: sp-pair up failed")
            return 2
        # every client (this process's threads, probe and holder-watch) authenticates with
        # the pair's administrator (tools/sp_pair/redfish.py)
        from sp_pair import auth
        cred = auth.read_credentials(self.state)
        if cred:
            os.environ["DUALSP_AUTH"] = cred
        if self.args.loss:
            log(self.sp_pair("loss", "A", "--path", "peer", "--percent", self.args.loss)[1])
        # how long the load may run at most (it is stopped at the end anyway): the budget, or
        # the recorded pauses, plus the settles and the final one
        expected = (sum(float(s.get("pause_before") or 0) for s in replay) + 3 * len(replay) +
                    SETTLE_TIMEOUT * len([s for s in replay if s["kind"] == "settle"])) if replay else budget
        self.start_load(expected + 2 * SETTLE_TIMEOUT + 240)
        self.t0 = time.monotonic()
        try:
            self.settle_first()
            if replay:
                self.replay(replay)
            else:
                self.campaign(budget)
            self.stop_stress()
            self.execute({"kind": "recover", "pause_before": 0})
            self.execute({"kind": "settle", "pause_before": 0})
            if self.writer:
                self.writer.pause()  # the final checks see the log as settled
            time.sleep(1.0)          # the SSE follower takes the last events
            self.stop_load()
            entries = self.check_all(settled=bool(self.settles) and self.settles[-1]["ok"])
        finally:
            self.stop_stress()
            self.stop_load()
            self.save_steps()
        return self.summary(entries)

    def settle_first(self):
        """The fresh pair settles before the first step (linked, in sync)."""
        self.execute({"kind": "settle", "pause_before": 0})

    def campaign(self, budget):
        end = self.t0 + budget
        pause = 0.0
        for episode in range(100000):
            if time.monotonic() >= end:
                break
            n = self.rng.randint(2, 7)
            for _ in range(n):
                if time.monotonic() >= end:
                    break
                for b in self.bg:
                    b.ensure()
                step, st = self.obligation()
                if step is None:
                    step = self.random_step(st)
                step["pause_before"] = pause
                self.execute(step)
                pause = self.pause()
                if all(self.live_state(sp) == "off" for sp in SPS):
                    pause = min(pause, 0.5)
                time.sleep(pause)
            self.execute({"kind": "recover", "pause_before": pause})
            self.execute({"kind": "settle", "pause_before": 0})
            pause = self.pause()
            time.sleep(pause)
            if self.failed_settles >= 2:
                log("chaos: two settles in a row failed; the pair does not recover, stopping")
                break

    def replay(self, recorded):
        for s in recorded:
            step = {k: v for k, v in s.items() if k in (
                "kind", "sp", "path", "percent", "name", "pause_before")}
            time.sleep(min(float(step.get("pause_before") or 0), 30))
            for b in self.bg:
                b.ensure()
            self.execute(step)

    def save_steps(self):
        doc = {"seed": self.seed, "minutes": self.args.minutes, "stress": self.args.stress,
               "t0_monotonic": self.t0,   # step times are relative to it; the tools' "t" are not
               "loss": self.args.loss, "build": os.environ.get("DUALSP_BUILD_DIR"),
               "steps": [{k: (round(v - self.t0, 3) if k in ("t_start", "t_end") else v)
                          for k, v in s.items()} for s in self.steps]}
        tmp = self.steps_path + ".tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(doc, f, indent=1)
            os.replace(tmp, self.steps_path)
        except OSError:
            pass

    def summary(self, entries):
        kinds = collections.Counter(s["kind"] for s in self.steps)
        writes = self.writer.snapshot() if self.writer else []
        outcomes = collections.Counter(w["outcome"] for w in writes)
        events, conns = self.sse.snapshot() if self.sse else ([], [])
        by_sp = self.reader_records()
        probe = by_sp["A"] + by_sp["B"]
        outs, _ = checks.outages(probe, self.power, self.model, OUTAGE_LIMIT)
        roles = {}
        checks.needless_role_changes(probe, self.steps, self.model, QUIET, stats=roles)
        violations = [f for f in self.findings.values() if not f.note]
        notes = [f for f in self.findings.values() if f.note]
        by_inv = collections.Counter(f.invariant for f in violations)
        answers = checks.answered(probe)
        log("")
        log("==== chaos summary: seed %s, %d steps, %.0f s" % (
            self.seed, len(self.steps), time.monotonic() - self.t0))
        log("steps: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
        log("writes: %d acknowledged, %d refused (503), %d unknown" % (
            outcomes["acknowledged"], outcomes["refused"], outcomes["unknown"]))
        streams = len([c for c in conns if c["status"] == 200])
        log("SSE: %d events followed, %d streams opened (%d reconnects), %d connection attempts" % (
            len(events), streams, max(0, streams - 1), len(conns)))
        log("reader: %d attempts, %d answered; outages over 0.25 s: %d, longest %.2f s "
            "(longest while an SP could serve: %.2f s)" % (
                len(probe), len(answers), len(outs), max([b - a for a, b, _ in outs] or [0]),
                max([c for _, _, c in outs] or [0])))
        log("role changes seen by the readers: %d, of which %d with no step but cuts/heal/loss "
            "before them (invariant 5)" % (roles.get("changes", 0), roles.get("judged", 0)))
        log("settles: %d, failed %d" % (len(self.settles), len([s for s in self.settles if not s["ok"]])))
        slow = [f for f in notes if f.key[0] == "slow"]
        if slow:
            log("slow reads: %d times a reader about one SP got no answer within 1 s for over 1 s "
                "while the other was answered (notes), longest %.2f s" % (
                    len(slow), max(f.duration for f in slow)))
        log("violations: %d (%s); notes: %d" % (
            len(violations), ", ".join("invariant %d: %d" % kv for kv in sorted(by_inv.items())) or "none",
            len(notes)))
        shown = collections.Counter()
        for f in violations:
            shown[f.invariant] += 1
            if shown[f.invariant] <= PRINT_LIMIT:
                log("  - invariant %d: %s" % (f.invariant, f.text))
            elif shown[f.invariant] == PRINT_LIMIT + 1:
                log("  - invariant %d: ... %d more in %s" % (
                    f.invariant, by_inv[f.invariant] - PRINT_LIMIT, self.result_path))
        log("steps file (for --replay): %s" % self.steps_path)
        result = {"seed": self.seed, "steps": dict(kinds), "writes": dict(outcomes),
                  "sse": {"events": len(events), "streams": streams, "attempts": len(conns)},
                  "outages": [[round(a - self.t0, 3), round(b - self.t0, 3), round(c, 3)] for a, b, c in outs],
                  "settles": self.settles,
                  "violations": [{"invariant": f.invariant, "text": f.text} for f in violations],
                  "notes": [{"invariant": f.invariant, "text": f.text} for f in notes]}
        try:
            with open(self.result_path, "w") as f:
                json.dump(result, f, indent=1)
        except OSError:
            pass
        return 1 if violations else 0


def describe(s):
    k = s["kind"]
    if k == "cut":
        return "cut %s --path %s" % (s["sp"], s["path"])
    if k == "loss":
        return "loss %s --path %s --percent %s" % (s["sp"], s["path"], s["percent"])
    if k == "fault":
        return "fault %s %s" % (s["sp"], s["name"])
    if k == "clear":
        return "clear %s%s" % (s["sp"], (" " + s["name"]) if s.get("name") else "")
    if k == "failover":
        return "ForceFailover%s" % ((" (SP-%s)" % s["target"]) if s.get("target") else "")
    if k == "reset":
        return "Manager.Reset SP%s" % s["sp"]
    if s.get("sp"):
        return "%s %s" % (k, s["sp"])
    return k


def steps_line(steps):
    return ", ".join("%d:%s" % (s["i"], describe(s)) for s in steps)
