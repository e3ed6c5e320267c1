"""spweb stops promptly when spd restarts it in the other mode (issue 12; chaos seed 7: the
floating IP went unanswered for 1.1 s because spweb, told to stop, waited for a request in
flight and was killed after spd's 1 s grace). docs/WEB.md "Stopping": a stop answers the
requests waiting for spd at once (503, Retry-After) and waits at most 250 ms for the rest.

Every wait is a poll with a deadline."""

import socket
import threading
import time

from conftest import FLOATING, MGMT, auth_header_line, http_request, other, wait_for
from test_config import CHASSIS, asset_tag, patch, wait_in_sync

# Fault to degraded server answering through the floating IP: spweb's stop (at most 250 ms)
# plus spd reaping it and starting the degraded one. Well under the chaos bound of 1 s.
OUTAGE_S = 0.75
# The in-flight request and the slow client each get their answer (or their connection
# closed) within this of the fault: never a hang.
ANSWERED_S = 1.0


def no_peer_route(pair, sp):
    m = pair.manager(sp) or {"Oem": {"DualSP": {}}}
    return m["Oem"]["DualSP"].get("PeerLinkRoute", "x") is None


def longest_silence(polls):
    """The longest time between two answered polls ((start, end, answered) tuples): how long
    the floating IP went unanswered."""
    ends = [end for _, end, answered in polls if answered]
    return max((b - a for a, b in zip(ends, ends[1:])), default=None)


def slow_body(host):
    """A PATCH whose body never completes: a worker waits in CivetWeb's read for it."""
    s = socket.create_connection((host, 80), timeout=3.0)
    s.sendall(b"PATCH " + CHASSIS.encode() + b" HTTP/1.1\r\nHost: " + host.encode() +
              b"\r\n" + auth_header_line().encode() +
              b"Content-Type: application/json\r\nContent-Length: 64\r\n\r\n{\"AssetTag\":")
    return s


def closed_or_answered(sock, timeout):
    """The time at which the server answered or closed `sock` (None if it did neither)."""
    sock.settimeout(timeout)
    try:
        sock.recv(4096)  # b"" (closed) or a response: either is an end
    except ConnectionError:
        pass
    except socket.timeout:
        return None
    return time.monotonic()


def test_a_mode_switch_with_a_change_in_flight_answers_within_a_bound(pair):
    """Both SPs Critical in the end, so the active SP keeps the floating IP and serves it in
    degraded mode. Before its fault: a change in flight on it, waiting in spd for the passive
    (the SPs cannot talk, the midplane still hears both: peer_link.change_wait), and a client
    sending a body slowly. The degraded server answers through the floating IP within
    OUTAGE_S; the change gets 500 OperationTimeout at once (spd has it: its outcome is for the
    client to read back, not a 503, which promises nothing was done), goes on in spd, which refuses it
    (applied on neither SP); the slow client's connection is closed."""
    act = pair.wait_active()
    pas = other(act)
    assert patch(FLOATING, CHASSIS, {"AssetTag": "before"})["status"] == 200
    wait_in_sync(pair)
    pair.fault(pas, "fan-failed")
    wait_for(lambda: pair.spweb(pas)[1] == "degraded", 3, 0.05, "SP-%s degraded" % pas)
    pair.cut(act, "peer")
    pair.cut(act, "mgmt")
    wait_for(lambda: no_peer_route(pair, act), 3, 0.05, "no route of the peer link up")
    old_spweb = pair.spweb(act)[0]

    # The floating IP polled every ~10 ms from before the fault to the degraded server's answer.
    polls = []
    stop_polling = threading.Event()

    def poll_floating():
        end = time.monotonic() + 30
        while not stop_polling.is_set() and time.monotonic() < end:
            t = time.monotonic()
            r = http_request(FLOATING, "/redfish/v1", timeout=0.2)
            polls.append((t, time.monotonic(), r["status"] is not None))
            time.sleep(0.01)
    poller = threading.Thread(target=poll_floating)
    poller.start()
    wait_for(lambda: any(answered for _, _, answered in polls), 3, 0.01, "a first answer")

    change = {}

    def send_change():
        r = patch(FLOATING, CHASSIS, {"AssetTag": "in-flight"}, timeout=8)
        change.update(r, done=time.monotonic())
    writer = threading.Thread(target=send_change)
    writer.start()
    slow = slow_body(FLOATING)
    # `sp-pair fault` is a process start and spd reads the hardware on its next poll: the
    # change has long reached spd (it then waits 2 s there) when the fault takes effect.
    t_fault = pair.fault(act, "fan-failed")
    try:
        wait_for(lambda: (lambda p: p[0] not in (None, old_spweb) and p[1] == "degraded")(
            pair.spweb(act)), 5, 0.01, "SP-%s running spweb --mode degraded" % act)
        t_degraded = time.monotonic()

        def degraded_answered():
            r = http_request(FLOATING, "/redfish/v1", timeout=0.5)
            return r["status"] == 200 and r["headers"].get("x-dualsp-sp") == act
        wait_for(degraded_answered, 3, 0.01, "the degraded server answering")
        wait_for(lambda: any(t > t_degraded and answered for t, _, answered in polls), 3, 0.01,
                 "the poller answered by the degraded server")
    finally:
        stop_polling.set()
        poller.join(5)
    silence = longest_silence(polls)
    assert silence is not None and silence < OUTAGE_S, (
        "the floating IP went unanswered for %.2f s while spweb switched to degraded" % silence)

    writer.join(10)
    assert not writer.is_alive(), "the change in flight got no answer"
    assert change["status"] == 500 and "OperationTimeout" in change["text"], change
    assert "restarting" in change["text"] and "may have been applied" in change["text"], change
    assert change["done"] - t_fault < ANSWERED_S, change["done"] - t_fault
    ended = closed_or_answered(slow, 5)
    slow.close()
    assert ended is not None and ended - t_fault < ANSWERED_S + 0.5, "the slow client hung"

    # spd goes on with the change without spweb: it refuses it once its wait for the passive
    # runs out (peer_link.change_wait). Nothing half applied: after healing, both SPs hold the
    # value from before. (Healed within the wait, spd would have written it on both.)
    wait_for(lambda: pair.grep(r"configuration change refused after", (act,)), 5, 0.05,
             "spd refusing the change in flight")
    pair.heal()
    pair.clear(act)
    pair.clear(pas)
    wait_for(lambda: pair.spweb(act)[1] == "full" and pair.spweb(pas)[1] == "full", 5, 0.05,
             "both spweb full again")
    wait_in_sync(pair, timeout=10)
    assert asset_tag(MGMT[act]) == asset_tag(MGMT[pas]) == "before"
