"""Accounts, sessions and authorization against both SPs as real processes (docs/SECURITY.md
"Accounts and sessions"): only the service documents answer without credentials; a session
opened through the active SP goes on working through the floating address after that SP is
killed; a ReadOnly account gets 403 on writes; repeated failures lock an account and the
lockout is evented; no password or token appears in a log or the process list.
"""

import subprocess

from conftest import FLOATING, MGMT, other, wait_for
from sp_pair.redfish import http_request, resolve_auth

SESSIONS = "/redfish/v1/SessionService/Sessions"
ACCOUNTS = "/redfish/v1/AccountService/Accounts"


def admin():
    creds = resolve_auth()
    assert creds and ":" in creds, "the harness keeps the administrator's credentials"
    return tuple(creds.split(":", 1))


def req(path, method="GET", body=None, auth=None, headers=None, host=FLOATING, timeout=5.0):
    return http_request(host, path, method, body, timeout=timeout, headers=headers, auth=auth)


def message_key(r):
    return r["json"]["error"]["@Message.ExtendedInfo"][0]["MessageId"].rsplit(".", 1)[-1]


def login(user, password, host=FLOATING):
    r = req(SESSIONS, "POST", {"UserName": user, "Password": password}, auth=False, host=host)
    assert r["status"] == 201, r
    token = r["headers"].get("x-auth-token")
    assert token and len(token) >= 32, r["headers"]
    assert r["headers"]["location"].startswith(SESSIONS + "/"), r["headers"]
    return token, r["headers"]["location"]


def create_account(user, password, role):
    r = req(ACCOUNTS, "POST", {"UserName": user, "Password": password, "RoleId": role},
            auth=admin())
    assert r["status"] == 201, r
    return r


def test_without_credentials_only_the_service_documents_answer(pair):
    pair.wait_active()
    for host in (FLOATING, MGMT["A"], MGMT["B"]):
        assert req("/redfish", auth=False, host=host)["status"] == 200
        assert req("/redfish/v1", auth=False, host=host)["status"] == 200
        for path in ("/redfish/v1/Managers", "/redfish/v1/Managers/SPA", "/redfish/v1/Chassis",
                     "/redfish/v1/AccountService/Accounts", "/redfish/v1/EventService"):
            r = req(path, auth=False, host=host)
            assert r["status"] == 401, (host, path, r)
            assert r["headers"].get("www-authenticate") == 'Basic realm="DualSP"', r["headers"]
            assert message_key(r) == "NoValidSession"
        user, _ = admin()
        bad = req("/redfish/v1/Managers", auth=(user, "not-the-password"), host=host)
        assert bad["status"] == 401, bad
        good = req("/redfish/v1/Managers", auth=admin(), host=host)
        assert good["status"] == 200, good
    # A change without credentials is refused and changes nothing.
    r = req("/redfish/v1/Managers/SPA/Actions/Manager.Reset", "POST", {"ResetType": "GracefulRestart"},
            auth=False)
    assert r["status"] == 401, r


def test_a_session_opened_through_the_active_sp_works_after_it_is_killed(pair):
    active = pair.wait_active()
    token, location = login(*admin())
    assert req("/redfish/v1/Managers", headers={"X-Auth-Token": token})["status"] == 200
    assert req("/redfish/v1/Managers", headers={"X-Auth-Token": token + "0"})["status"] == 401
    pair.kill(active)
    survivor = other(active)
    pair.wait_active(survivor, timeout=10)

    def served():
        r = req("/redfish/v1/Managers", headers={"X-Auth-Token": token}, timeout=1.0)
        return r["status"] == 200 and r["headers"].get("x-dualsp-sp") == survivor
    wait_for(served, 10, 0.05, "the session served by SP-%s" % survivor)
    # Logging out ends it.
    r = req(location, "DELETE", headers={"X-Auth-Token": token})
    assert r["status"] == 204, r
    assert req("/redfish/v1/Managers", headers={"X-Auth-Token": token})["status"] == 401


def test_a_read_only_account_gets_403_on_writes(pair):
    pair.wait_active()
    create_account("viewer", "viewer-password-1", "ReadOnly")
    viewer = ("viewer", "viewer-password-1")
    assert req("/redfish/v1/Managers/SPA", auth=viewer)["status"] == 200
    writes = [
        ("/redfish/v1/Managers/SPA", "PATCH", {"Oem": {}}),
        ("/redfish/v1/Managers/SPA/Actions/Manager.Reset", "POST", {"ResetType": "GracefulRestart"}),
        ("/redfish/v1/Managers/SPA/Actions/Manager.ForceFailover", "POST", {}),
        ("/redfish/v1/EventService/Subscriptions", "POST",
         {"Destination": "http://198.18.0.100:8089/", "Protocol": "Redfish"}),
        (ACCOUNTS, "POST", {"UserName": "mallory", "Password": "mallory-password", "RoleId": "Administrator"}),
        (ACCOUNTS + "/viewer", "PATCH", {"RoleId": "Administrator"}),
        (ACCOUNTS + "/" + admin()[0], "PATCH", {"Password": "stolen-password-2"}),
        ("/redfish/v1/AccountService", "PATCH", {"AccountLockoutThreshold": 0}),
    ]
    for path, method, body in writes:
        r = req(path, method, body, auth=viewer)
        assert r["status"] == 403, (method, path, r)
        assert message_key(r) == "InsufficientPrivilege", r
    # Nothing of it happened: the administrator's password still works, no mallory.
    assert req(ACCOUNTS + "/mallory", auth=admin())["status"] == 404
    assert req("/redfish/v1/Managers", auth=admin())["status"] == 200
    # Its own password it may change.
    r = req(ACCOUNTS + "/viewer", "PATCH", {"Password": "viewer-password-2"}, auth=viewer)
    assert r["status"] == 200, r
    assert req("/redfish/v1/Managers", auth=("viewer", "viewer-password-2"))["status"] == 200


def test_repeated_failures_lock_the_account_for_the_lockout_duration(pair):
    pair.wait_active()
    r = req("/redfish/v1/AccountService", "PATCH",
            {"AccountLockoutThreshold": 3, "AccountLockoutDuration": 2}, auth=admin())
    assert r["status"] == 200, r
    create_account("operator", "operator-password-1", "Operator")
    for _ in range(3):
        assert req("/redfish/v1/Managers", auth=("operator", "wrong-password-0"))["status"] == 401
    # Locked: the right password is refused too, until the duration has passed.
    assert req("/redfish/v1/Managers", auth=("operator", "operator-password-1"))["status"] == 401
    locked = req(ACCOUNTS + "/operator", auth=admin())
    assert locked["json"]["Locked"] is True, locked
    wait_for(lambda: req("/redfish/v1/Managers", auth=("operator", "operator-password-1"))["status"] == 200,
             10, 0.25, "the lockout to expire")

    def evented():
        r = req("/redfish/v1/Managers/SPA/LogServices/Events/Entries?$top=100", auth=admin())
        ids = [e.get("MessageId", "") for e in (r["json"] or {}).get("Members", [])]
        return any(i.endswith("AccountLocked") for i in ids) and \
            any(i.endswith("InvalidCredentials") for i in ids)
    wait_for(evented, 5, 0.1, "AccountLocked and InvalidCredentials in the event log")


def test_alternating_between_the_sps_gives_no_more_tries(pair):
    """Wrong passwords sent in turn to SP-A's and SP-B's own addresses: each SP counts the
    other's failures, so the threshold locks the account on both; an administrator's unlock
    through the floating address ends it on both."""
    pair.wait_active()
    r = req("/redfish/v1/AccountService", "PATCH",
            {"AccountLockoutThreshold": 4, "AccountLockoutDuration": 300}, auth=admin())
    assert r["status"] == 200, r
    create_account("operator", "operator-password-1", "Operator")
    for i in range(4):
        host = MGMT["A" if i % 2 == 0 else "B"]
        r = req("/redfish/v1/Managers", auth=("operator", "wrong-password-0"), host=host)
        assert r["status"] == 401, (host, r)
    # Two failures on each SP, four in all: locked on both.
    for sp in ("A", "B"):
        r = req("/redfish/v1/Managers", auth=("operator", "operator-password-1"), host=MGMT[sp])
        assert r["status"] == 401, (sp, r)
    r = req(ACCOUNTS + "/operator", "PATCH", {"Locked": False}, auth=admin())
    assert r["status"] == 200, r
    for sp in ("A", "B"):
        wait_for(lambda: req("/redfish/v1/Managers", auth=("operator", "operator-password-1"),
                             host=MGMT[sp])["status"] == 200, 5, 0.1,
                 "SP-%s unlocked too" % sp)


def test_no_password_token_or_key_in_logs_or_the_process_list(pair):
    pair.wait_active()
    user, password = admin()
    token, _ = login(user, password)
    assert req("/redfish/v1/Managers", headers={"X-Auth-Token": token})["status"] == 200
    req("/redfish/v1/Managers", auth=(user, "wrong-password-3"))
    create_account("auditor", "auditor-password-1", "ReadOnly")
    with open("%s/pair.key" % pair.state) as f:
        pair_key = f.read().strip()
    secrets = [password, token, "auditor-password-1", "wrong-password-3", pair_key]
    for sp in ("A", "B"):
        for name in ("spd.log", "spweb.log"):
            try:
                text = pair.log_text(sp, name)
            except OSError:
                continue
            for s in secrets:
                assert s not in text, "a secret in SP-%s %s" % (sp, name)
    ps = subprocess.run(["ps", "-eo", "args"], stdout=subprocess.PIPE, text=True, timeout=10).stdout
    for s in secrets:
        assert s not in ps
    # The audit trail names who did it.
    assert "auditor" in pair.log_text(pair.active() or "A")
