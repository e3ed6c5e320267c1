"""Idempotent retries (docs/WEB.md "Idempotent retries"): a change with an Idempotency-Key is
made once, its retry answered with the first result, also through the passive SP's own address
and after the active SP is killed (the key is in the replicated store, atomically with the
change)."""

import threading
import time

from conftest import FLOATING, MGMT, other
from sp_pair.redfish import http_request

SUBSCRIPTIONS = "/redfish/v1/EventService/Subscriptions"


def keyed_post(key, body, host=FLOATING, timeout=2.0):
    return http_request(host, SUBSCRIPTIONS, "POST", body, timeout,
                        headers={"Idempotency-Key": key})


def subscription(tag):
    return {"Destination": "http://198.18.0.100:8080/%s" % tag, "Protocol": "Redfish"}


def destinations(host=FLOATING):
    """Destination of every subscription, as the array holds them now."""
    r = http_request(host, SUBSCRIPTIONS + "?$expand=.", "GET", None, 3.0)
    assert r["status"] == 200, r
    return [m["Destination"] for m in r["json"]["Members"]]


def retried_until_success(key, body, deadline_s=15.0):
    """The same keyed request again until a 2xx (503, 409, no answer: retry), within a deadline,
    as a client riding through a failover does."""
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        last = keyed_post(key, body, timeout=1.0)
        if last["status"] is not None and 200 <= last["status"] < 300:
            return last
        assert last["status"] in (None, 409, 500, 503), last
        time.sleep(0.05)  # a client's backoff, not a wait for a state
    raise AssertionError("no success for %s within %.0f s: %s" % (key, deadline_s, last))


def test_a_keyed_create_is_made_once_and_a_reused_key_is_refused(pair):
    active = pair.wait_active()
    first = keyed_post("create-once", subscription("once"))
    assert first["status"] == 201, first
    assert "idempotent-replayed" not in first["headers"]
    location = first["headers"]["location"]

    again = keyed_post("create-once", subscription("once"))
    assert again["status"] == 201, again
    assert again["headers"].get("idempotent-replayed") == "true"
    assert again["headers"]["location"] == location
    assert again["json"] == first["json"]
    assert destinations().count(subscription("once")["Destination"]) == 1

    reused = keyed_post("create-once", subscription("other"))
    assert reused["status"] == 422, reused
    assert reused["json"]["error"]["code"] == "Base.1.22.1.HeaderInvalid"
    assert subscription("other")["Destination"] not in destinations()

    bad = keyed_post("x" * 256, subscription("bad"))
    assert bad["status"] == 400, bad

    # Through the passive SP's own address: the key is checked and recorded on the active SP,
    # so the retry on the floating address (or the passive's again) is the first answer.
    passive = other(active)
    forwarded = keyed_post("through-passive", subscription("passive"), host=MGMT[passive])
    assert forwarded["status"] == 201, forwarded
    assert forwarded["headers"]["x-dualsp-sp"] == passive
    for host in (FLOATING, MGMT[passive]):
        replay = keyed_post("through-passive", subscription("passive"), host=host)
        assert replay["status"] == 201, replay
        assert replay["headers"].get("idempotent-replayed") == "true"
        assert replay["headers"]["location"] == forwarded["headers"]["location"]
    assert destinations().count(subscription("passive")["Destination"]) == 1


def test_a_keyed_create_acknowledged_before_a_kill_is_answered_by_the_survivor(pair):
    active = pair.wait_active()
    first = keyed_post("before-kill", subscription("before-kill"))
    assert first["status"] == 201, first
    pair.kill(active)
    survivor = other(active)
    pair.wait_active(survivor, timeout=10)
    retry = retried_until_success("before-kill", subscription("before-kill"))
    assert retry["status"] == 201, retry
    assert retry["headers"].get("idempotent-replayed") == "true"
    assert retry["headers"]["location"] == first["headers"]["location"]
    assert retry["headers"]["x-dualsp-sp"] == survivor
    assert destinations().count(subscription("before-kill")["Destination"]) == 1


def test_keyed_creates_across_a_kill_of_the_active_sp_are_each_made_exactly_once(pair):
    """Creates paced through the kill (sent while `sp-pair kill` starts up, powers the active SP
    off and the passive takes over): some answered before it, some lost in it (no answer, a
    503, a 500 whose outcome is unknown), some after. Each is retried with its own key until
    it succeeds; afterwards each exists exactly once, and a create the client saw succeed is
    named the same by its retry."""
    active = pair.wait_active()
    keys = ["across-%d" % i for i in range(14)]
    first_answers = {}
    sent_at = {}

    def send():
        for key in keys:
            sent_at[key] = time.monotonic()
            first_answers[key] = keyed_post(key, subscription(key), timeout=1.0)
            time.sleep(0.04)

    sender = threading.Thread(target=send)
    sender.start()
    killed_at = pair.kill(active)  # while the sender goes on
    sender.join(60)
    assert not sender.is_alive()
    pair.wait_active(other(active), timeout=10)

    answers = {k: retried_until_success(k, subscription(k)) for k in keys}
    held = destinations()
    for key in keys:
        assert held.count(subscription(key)["Destination"]) == 1, (key, first_answers[key], held)
        first = first_answers[key]
        if first["status"] == 201:  # the client saw it created: the retry names the same one
            assert answers[key]["headers"]["location"] == first["headers"]["location"], key
    print("kill at +%.0f ms; first answers: %s" % (
        (killed_at - sent_at[keys[0]]) * 1000,
        [(k, round((sent_at[k] - killed_at) * 1000), first_answers[k]["status"],
          answers[k]["headers"].get("idempotent-replayed")) for k in keys]))
