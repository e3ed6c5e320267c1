"""spctl as an administrator uses it (docs/SPCTL.md), from the client namespace, through the
floating address over HTTPS with the array's certificate pinned; each test checks what
spctl printed and its exit status, and what the array holds after it.

The 500-operation failover acceptance is test_spctl_failover.py.
"""

import json
import os
import stat
import subprocess
import time

import pytest

from conftest import FLOATING, MGMT, NS, pair_up
from sp_pair.redfish import http_request
from test_spctl_failover import SPCTL, pin_of_array_certificate

CHASSIS = "/redfish/v1/Chassis/Enclosure"


@pytest.fixture(scope="module")
def pair():
    """One pair for the module: each test leaves it serving."""
    if not SPCTL.exists():
        pytest.fail("spctl is not built at %s" % SPCTL)
    with pair_up() as p:
        yield p


@pytest.fixture
def env(pair, tmp_path):
    user, password = pair.credentials()
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path / "cache"), "SPCTL_USER": user,
            "SPCTL_PASSWORD": password, "LC_ALL": "C.UTF-8"}


def spctl(env, *args, pin=None, stdin=subprocess.DEVNULL):
    pin = pin or pin_of_array_certificate()
    argv = ["ip", "netns", "exec", NS["cli"], str(SPCTL), "-a", FLOATING, "--deadline", "20"]
    if pin != "none":
        argv += ["--pin", pin]
    p = subprocess.run(argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=stdin, text=True, timeout=60, env=env)
    return p.returncode, p.stdout, p.stderr


def test_status_shows_both_sps_and_which_holds_the_address(pair, env):
    active = pair.wait_active()
    code, out, err = spctl(env, "status")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["SP", "ROLE", "STATE", "HEALTH", "ADDRESS", "UPTIME", "FAULTS"]
    rows = {l.split()[0]: l for l in lines[1:]}
    assert set(rows) == {"SPA", "SPB"}, out
    assert " active " in rows["SP" + active] and "holds it" in rows["SP" + active], out
    assert " passive " in rows["SP" + ("B" if active == "A" else "A")], out
    code, out, err = spctl(env, "--json", "status")
    assert code == 0, err
    doc = {m["Id"]: m for m in json.loads(out)}
    assert doc["SP" + active]["Role"] == "active" and doc["SP" + active]["HoldsFloatingIp"]


def test_the_session_token_is_cached_privately_and_reused(pair, env, tmp_path):
    code, _, err = spctl(env, "status")
    assert code == 0, err
    files = list((tmp_path / "cache" / "spctl").iterdir())
    assert len(files) == 1, files
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cache" / "spctl").stat().st_mode) == 0o700
    # Without the password the cached session still works...
    no_password = {k: v for k, v in env.items() if k != "SPCTL_PASSWORD"}
    code, out, err = spctl(no_password, "chassis", "show")
    assert code == 0, err
    # ...and after logout it is gone: a password is needed again (no terminal: exit 3).
    code, out, err = spctl(env, "logout")
    assert code == 0, err
    assert not list((tmp_path / "cache" / "spctl").iterdir())
    code, out, err = spctl(no_password, "chassis", "show")
    assert code == 3 and "SPCTL_PASSWORD" in err, (code, err)


def test_a_token_file_others_can_read_is_not_used(pair, env, tmp_path):
    assert spctl(env, "status")[0] == 0
    token_file = next((tmp_path / "cache" / "spctl").iterdir())
    token_file.chmod(0o644)
    no_password = {k: v for k, v in env.items() if k != "SPCTL_PASSWORD"}
    code, out, err = spctl(no_password, "-v", "status")
    assert code == 3 and "ignored" in err, (code, err)


def test_chassis_set_and_show(pair, env):
    code, out, err = spctl(env, "chassis", "set", "--asset-tag", "rack-7 unit 12")
    assert code == 0, err
    code, out, err = spctl(env, "chassis", "show")
    assert code == 0 and "rack-7 unit 12" in out, (out, err)
    r = http_request(MGMT["A"], CHASSIS, timeout=3)
    assert r["json"]["AssetTag"] == "rack-7 unit 12"


def test_volumes_created_listed_renamed_and_deleted(pair, env):
    code, out, err = spctl(env, "pool", "create", "--name", "spctl", "--raid", "RAID1",
                           "--drives", "Disk8,Disk9")
    assert code == 0, err
    pool = out.strip()
    code, out, err = spctl(env, "volume", "create", "--pool", pool, "--name", "db",
                           "--capacity", "2GiB")
    assert code == 0, err
    vid = out.strip()
    code, out, err = spctl(env, "--json", "volume", "show", vid)
    assert code == 0 and json.loads(out)["CapacityBytes"] == 2 << 30, out
    code, out, err = spctl(env, "volume", "set", vid, "--name", "db-renamed")
    assert code == 0, err
    code, out, err = spctl(env, "volume", "list")
    assert any(l.split()[:2] == [vid, "db-renamed"] for l in out.splitlines()), out
    code, out, err = spctl(env, "volume", "delete", vid)
    assert code == 0, err
    code, out, err = spctl(env, "volume", "show", vid)
    assert code == 4 and "ResourceNotFound" in err, (code, err)


def test_a_refusal_exits_1_with_the_arrays_message_and_changes_nothing(pair, env):
    code, out, err = spctl(env, "volume", "create", "--pool", "nosuchpool", "--name", "x",
                           "--capacity", "1GiB")
    assert code in (1, 4), (code, err)
    assert "Base." in err, err
    code, out, err = spctl(env, "volume", "create", "--pool", "1", "--name", "x",
                           "--capacity", "lots")
    assert code == 2 and "size" in err, (code, err)


def test_events_list_and_follow(pair, env):
    code, out, err = spctl(env, "--json", "events", "list", "--top", "5")
    assert code == 0, err
    listed = [json.loads(l) for l in out.splitlines()]
    assert 1 <= len(listed) <= 5
    ids = [int(e["Id"]) for e in listed]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    first = max(ids) - 2
    code, out, err = spctl(env, "--json", "events", "follow", "--from", str(first), "--count", "2",
                           "--for", "20")
    assert code == 0, err
    followed = [int(json.loads(l)["Id"]) for l in out.splitlines()]
    assert followed == [first + 1, first + 2], out


def test_wrong_password_exits_3(pair, env):
    bad = dict(env, SPCTL_PASSWORD="not-the-password")
    code, out, err = spctl(bad, "--no-cache", "status")
    assert code == 3, (code, err)
    assert "login" in err, err


def test_a_certificate_other_than_the_pinned_one_exits_7_before_anything_is_sent(pair, env):
    before = http_request(FLOATING, "/redfish/v1/SessionService/Sessions", timeout=3)
    pin = pin_of_array_certificate()
    wrong = "sha256:" + ("0" if pin[-1] != "0" else "1") * 64
    code, out, err = spctl(env, "--no-cache", "chassis", "set", "--asset-tag", "pinned?",
                           pin=wrong)
    assert code == 7 and "not the pinned one" in err, (code, err)
    # Unpinned and not in the system's CAs (self-signed): refused too.
    code, out, err = spctl(env, "--no-cache", "status", pin="none")
    assert code == 7, (code, err)
    after = http_request(FLOATING, "/redfish/v1/SessionService/Sessions", timeout=3)
    assert after["json"]["Members@odata.count"] == before["json"]["Members@odata.count"]
    assert http_request(FLOATING, CHASSIS, timeout=3)["json"]["AssetTag"] != "pinned?"


def test_credentials_file_must_be_private(pair, env, tmp_path):
    user, password = pair.credentials()
    creds = tmp_path / "creds"
    creds.write_text("user=%s\npassword=%s\n" % (user, password))
    creds.chmod(0o644)
    bare = {k: v for k, v in env.items() if not k.startswith("SPCTL_")}
    code, out, err = spctl(bare, "--no-cache", "--credentials-file", str(creds), "status")
    assert code == 3 and "mode 644" in err, (code, err)
    creds.chmod(0o600)
    code, out, err = spctl(bare, "--no-cache", "--credentials-file", str(creds), "status")
    assert code == 0, err


def test_no_password_on_the_command_line(pair, env):
    code, out, err = spctl(env, "--password", "x", "status")
    assert code == 2 and "never taken on the command line" in err, (code, err)


def test_after_a_kill_status_names_the_survivor_and_failover_is_refused_at_once(pair, env):
    """Last in the module: it kills the active SP. A dead SP's Manager keeps its last known
    role ("active") marked Stale: spctl shows it unreachable and never sends it an action, so
    `failover` asks the survivor, which refuses at once (no peer to hand over to: exit 1)
    instead of retrying a dead SP's 503 until the deadline."""
    active = pair.wait_active()
    survivor = "B" if active == "A" else "A"
    pair.kill(active)
    pair.wait_active(survivor, timeout=10)
    code, out, err = spctl(env, "--json", "status")
    assert code == 0, err
    doc = {m["Id"]: m for m in json.loads(out)}
    assert doc["SP" + survivor]["Role"] == "active" and not doc["SP" + survivor]["Stale"], doc
    assert doc["SP" + active]["Stale"], doc
    code, out, err = spctl(env, "status")
    assert "unreachable" in [l for l in out.splitlines() if l.startswith("SP" + active)][0], out
    started = time.monotonic()
    code, out, err = spctl(env, "failover", "--yes")
    assert code == 1 and "SP" + survivor in err, (code, err)
    assert time.monotonic() - started < 10, "failover retried instead of being refused"
