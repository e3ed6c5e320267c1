#!/usr/bin/python3
"""The slow-client attack of docs/SECURITY.md "Hostile input", run in the client namespace by
test_slow_clients.py: event streams opened from several source addresses and held, and
connections that send a PATCH's headers and then drip its body one byte at a time.

Prints one JSON line "ready" once every connection has sent its headers, then, when every
drip has ended (answered or closed) or --duration is over, one JSON line with what each got:
{"streams": [{"source", "status"}], "drips": [{"status", "ended_s"}]} (status None: no
answer; ended_s None: still open at the end).
Every request carries HTTP Basic credentials from $DUALSP_AUTH (set by conftest after `up`).
"""

import argparse
import base64
import json
import os
import select
import socket
import sys
import time

BODY = b'{"AssetTag": "' + b"x" * 48 + b'"}'
AUTH = (b"Authorization: Basic " + base64.b64encode(os.environ["DUALSP_AUTH"].encode()) + b"\r\n"
        if os.environ.get("DUALSP_AUTH") else b"")


def connect(target, source):
    s = socket.create_connection((target, 80), timeout=2.0, source_address=(source, 0))
    s.setblocking(False)
    return s


def status_of(data):
    line = data.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--sources", required=True, help="comma-separated source addresses")
    ap.add_argument("--streams-per-source", type=int, default=0)
    ap.add_argument("--drips", type=int, default=0, help="from the first source")
    ap.add_argument("--drip-interval", type=float, default=0.5)
    ap.add_argument("--duration", type=float, default=20.0)
    a = ap.parse_args()
    sources = a.sources.split(",")
    start = time.monotonic()

    streams = []
    for source in sources:
        for _ in range(a.streams_per_source):
            s = connect(a.target, source)
            s.sendall(b"GET /redfish/v1/EventService/SSE HTTP/1.1\r\nHost: x\r\n" + AUTH +
                      b"Accept: text/event-stream\r\n\r\n")
            streams.append({"sock": s, "source": source, "data": b""})
            # One at a time: the server takes each in turn, in the order they are counted.
            end = time.monotonic() + 2.0
            while b"\r\n" not in streams[-1]["data"] and time.monotonic() < end:
                r, _, _ = select.select([s], [], [], 0.05)
                if r:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    streams[-1]["data"] += chunk

    head = (b"PATCH /redfish/v1/Chassis/Enclosure HTTP/1.1\r\nHost: x\r\n" + AUTH +
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY))
    drips = []
    for _ in range(a.drips):
        s = connect(a.target, sources[0])
        s.sendall(head)
        drips.append({"sock": s, "data": b"", "sent": 0, "ended": None})
    print(json.dumps({"ready": True, "t": time.monotonic() - start}), flush=True)

    drip_start = time.monotonic()
    next_drip = drip_start
    for _ in range(int(a.duration / 0.02) + 1):
        now = time.monotonic()
        if now - drip_start > a.duration or all(d["ended"] is not None for d in drips):
            break
        open_drips = [d for d in drips if d["ended"] is None]
        if now >= next_drip:
            for d in open_drips:
                if d["sent"] < len(BODY):
                    try:
                        d["sock"].send(BODY[d["sent"]:d["sent"] + 1])
                        d["sent"] += 1
                    except OSError:
                        d["ended"] = now - drip_start
            next_drip += a.drip_interval
        socks = [d["sock"] for d in open_drips if d["ended"] is None]
        readable, _, _ = select.select(socks, [], [], 0.02) if socks else ([], [], [])
        for d in open_drips:
            if d["sock"] in readable:
                try:
                    chunk = d["sock"].recv(4096)
                except OSError:
                    chunk = b""
                d["data"] += chunk
                if not chunk:
                    d["ended"] = time.monotonic() - drip_start
                elif status_of(d["data"]) is not None and d["ended"] is None:
                    d["ended"] = time.monotonic() - drip_start

    out = {"streams": [{"source": s["source"], "status": status_of(s["data"])} for s in streams],
           "drips": [{"status": status_of(d["data"]), "ended_s": d["ended"]} for d in drips]}
    for s in streams + drips:
        s["sock"].close()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
