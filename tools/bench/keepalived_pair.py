"""keepalived on the sp-pair topology, for side-by-side benches (tools/bench/failover --vs
keepalived, docs/PERFORMANCE.md).

Each SP namespace (dualsp-spa, dualsp-spb) gets what a keepalived user would run there instead
of spd: Debian's keepalived (VRRPv3, one instance on mgmt0, the floating address
198.18.0.10/24, SP-A priority 150, SP-B 100, defaults otherwise) and a plain HTTP server on
port 80 that answers every GET with a small JSON body and the header `X-DualSP-SP` (so the
probe tells the nodes apart exactly as it does for spweb). Both run as children of the bench,
started with their own configuration in a temporary directory (`keepalived -n -l -P -G -f
CONF -p PIDFILE -r VRRP_PIDFILE`, no system service) and stopped by pid: `stop` is the
harness's power-off (links down, SIGKILL of every pid in the namespace, floating address
flushed), which is also the fault the bench injects.

`python3 keepalived_pair.py serve --sp A --port 80 --ready FILE` is the HTTP server.
"""

import argparse
import json
import os
import subprocess
import sys
import threading

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from sp_pair import control, netns  # noqa: E402
from sp_pair.common import NS_SP  # noqa: E402

PY = "/usr/bin/python3"
KEEPALIVED = "/usr/sbin/keepalived"
PRIORITY = {"A": 150, "B": 100}
VRID = 74
SERVER_LIFETIME = 3600  # s: the HTTP server stops on its own after this


def config_text(lay, sp, advert_int):
    """keepalived.conf for one node. VRRPv3 (advert_int below 1 s needs it)."""
    return """global_defs {
    router_id dualsp-bench-%(sp)s
    vrrp_version 3
}

vrrp_instance dualsp_bench {
    state BACKUP
    interface %(ifname)s
    virtual_router_id %(vrid)d
    priority %(prio)d
    advert_int %(advert)s
    virtual_ipaddress {
        %(floating)s/24 dev %(ifname)s
    }
}
""" % {"sp": sp.lower(), "ifname": lay.mgmt_if, "vrid": VRID, "prio": PRIORITY[sp],
       "advert": advert_int, "floating": lay.floating}


class Node:
    """keepalived and its HTTP server in one SP namespace."""

    def __init__(self, lay, sp, advert_int, workdir):
        self.lay, self.sp, self.advert_int = lay, sp, advert_int
        self.dir = os.path.join(workdir, "sp" + sp.lower())
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "keepalived.conf")
        self.log = os.path.join(self.dir, "keepalived.log")
        self.ready = os.path.join(self.dir, "http.ready")
        self.procs = []

    def start(self):
        """Power-on: boot addresses and links up, then keepalived and the HTTP server."""
        ns = NS_SP[self.sp]
        with control.power_switch(self.lay, self.sp):
            if control.is_off(self.lay, self.sp):
                os.unlink(control.off_marker(self.lay, self.sp))
            netns.boot_addresses(self.lay, self.sp)
            with open(self.conf, "w") as f:
                f.write(config_text(self.lay, self.sp, self.advert_int))
            for p in (self.ready, self.log):
                if os.path.exists(p):
                    os.unlink(p)
            with open(self.log, "ab") as log:
                ka = [KEEPALIVED, "-n", "-l", "-P", "-G", "-f", self.conf,
                      "-p", os.path.join(self.dir, "keepalived.pid"),
                      "-r", os.path.join(self.dir, "vrrp.pid")]
                self.procs.append(subprocess.Popen(
                    ["ip", "netns", "exec", ns] + ka, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True, cwd=self.dir))
                srv = [PY, os.path.abspath(__file__), "serve", "--sp", self.sp,
                       "--port", str(self.lay.web_port), "--ready", self.ready]
                self.procs.append(subprocess.Popen(
                    ["ip", "netns", "exec", ns] + srv, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True, cwd=self.dir))

    def state(self):
        """The last VRRP state keepalived logged ("MASTER", "BACKUP", "FAULT") or None."""
        last = None
        try:
            with open(self.log, errors="replace") as f:
                for line in f:
                    i = line.find("Entering ")
                    if i >= 0 and "STATE" in line[i:]:
                        last = line[i + 9:].split()[0]
        except OSError:
            pass
        return last

    def serving(self):
        return os.path.exists(self.ready)

    def stop(self):
        """Power-off (the harness's: links down, SIGKILL by pid, address flushed), reaped."""
        control.power_off(self.lay, self.sp)
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.procs = []


class Pair:
    """Two keepalived nodes (A and B) at one advert interval."""

    def __init__(self, lay, advert_int, workdir):
        self.nodes = {sp: Node(lay, sp, advert_int, workdir) for sp in ("A", "B")}

    def start(self):
        for n in self.nodes.values():
            n.start()

    def stop(self):
        for n in self.nodes.values():
            n.stop()

    def ready(self):
        """The master (SP name) once one node is MASTER, the other BACKUP and both HTTP
        servers listen; else None."""
        st = {sp: n.state() for sp, n in self.nodes.items()}
        masters = [sp for sp, s in st.items() if s == "MASTER"]
        if len(masters) != 1 or not all(n.serving() for n in self.nodes.values()):
            return None
        other = "B" if masters[0] == "A" else "A"
        return masters[0] if st[other] == "BACKUP" else None


# ---------------------------------------------------------------- the HTTP server

def serve(sp, port, ready, lifetime=SERVER_LIFETIME):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = json.dumps({"@odata.id": "/redfish/v1", "Name": "keepalived bench node",
                       "Id": "SP" + sp, "Oem": {"DualSP": {"SP": sp}}}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-DualSP-SP", sp)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, *args):
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    open(ready, "w").close()
    timer = threading.Timer(lifetime, srv.shutdown)
    timer.daemon = True
    timer.start()
    srv.serve_forever(poll_interval=0.5)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="the plain HTTP server of one node")
    s.add_argument("--sp", choices=("A", "B"), required=True)
    s.add_argument("--port", type=int, default=80)
    s.add_argument("--ready", required=True, help="created once the server listens")
    s.add_argument("--lifetime", type=float, default=SERVER_LIFETIME)
    args = ap.parse_args()
    return serve(args.sp, args.port, args.ready, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
