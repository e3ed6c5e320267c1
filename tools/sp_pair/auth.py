"""The pair's first administrator (docs/HARNESS.md "Credentials"; the SP side:
docs/SETTINGS.md `accounts.*`).

`up` provisions each SP with `<sp_dir>/initial-admin`: the hash (`spd --hash-password`) of
a random initial password, mode 0600. While the replicated store holds no account, that is
the administrator `admin`, whose password must be changed before anything else works. Once
both SPs answer, `first_login` changes it (PATCH of the account through the floating
address, with the initial password) to another random one and keeps `admin:<new>` in
`<state>/credentials` (0600), which `sp-pair credentials` prints and every client of the
repository reads (tools/sp_pair/redfish.py resolve_auth).

Secrets are never printed, logged or put in an exception message here: only paths and
HTTP statuses are.
"""

import json
import os
import secrets
import subprocess
import time

from . import redfish
from .common import HarnessError

ADMIN = "admin"
ACCOUNT_PATH = "/redfish/v1/AccountService/Accounts/" + ADMIN
CREDENTIALS = "credentials"           # <state>/credentials: "admin:<password>\n", 0600
PENDING_INITIAL = "initial-password"  # <state>/initial-password: until the first change
PENDING_NEW = "credentials.new"       # <state>/credentials.new: the change under way
INITIAL_ADMIN = "initial-admin"       # <sp_dir>/initial-admin: the hash spd reads
FIRST_LOGIN_TIMEOUT = 20.0


def new_password():
    """A random password: 32 URL-safe characters (24 random bytes), within the server's
    12..64 characters."""
    return secrets.token_urlsafe(24)


def write_secret(path, text):
    """Writes text to path atomically (a temporary name, then rename), mode 0600 from the
    creation of the temporary file on (never readable by anyone else, not even for a moment)."""
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    try:
        os.unlink(tmp)  # left by a crashed run with the same pid
    except OSError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_secret(path):
    """The first line of path, stripped, or None."""
    try:
        with open(path) as f:
            return f.readline().strip() or None
    except OSError:
        return None


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def spd_hashes_passwords(spd):
    """Whether this spd has --hash-password (a server with accounts). Builds from before
    authentication do not: they need no administrator."""
    try:
        p = subprocess.run([spd, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--hash-password" in p.stdout


def hash_password(spd, password, timeout=30):
    """`spd --hash-password` with the password on stdin: the Argon2id hash string."""
    try:
        p = subprocess.run([spd, "--hash-password"], input=(password + "\n").encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise HarnessError("%s --hash-password took more than %d s" % (spd, timeout))
    except OSError as e:
        raise HarnessError("%s --hash-password: %s" % (spd, e.strerror or e))
    out = p.stdout.decode("utf-8", "replace").strip()
    if p.returncode != 0 or not out.startswith("$argon2"):
        # stderr is spd's own message (it never echoes the password); stdout is not shown.
        raise HarnessError("%s --hash-password: exit %d, no hash: %s" % (
            spd, p.returncode, p.stderr.decode("utf-8", "replace").strip()[:300]))
    return out.splitlines()[0]


def credentials_path(state):
    return os.path.join(state, CREDENTIALS)


def read_credentials(state):
    """"user:password" from <state>/credentials, or None."""
    line = read_secret(credentials_path(state))
    return line if line and ":" in line else None


def provision(lay, sp_dirs=None):
    """A new initial password for the pair: its hash in <sp_dir>/initial-admin of both SPs
    (0600), the password itself in <state>/initial-password (0600) until the first change.
    Returns False (and provisions nothing) when spd has no --hash-password."""
    if not spd_hashes_passwords(lay.spd):
        return False
    password = new_password()
    digest = hash_password(lay.spd, password)
    for d in sp_dirs or [lay.sp_dir(sp) for sp in ("A", "B")]:
        write_secret(os.path.join(d, INITIAL_ADMIN), digest + "\n")
    write_secret(os.path.join(lay.state, PENDING_INITIAL), "%s:%s\n" % (ADMIN, password))
    return True


def pending(state):
    """Whether a first password change is still to be done (`up` provisioned a password
    that has not been changed yet)."""
    return os.path.exists(os.path.join(state, PENDING_INITIAL))


def works(host, port, cred, timeout=1.0):
    """GET of the account with cred answers 200: (ok, status)."""
    user = cred.split(":", 1)[0]
    r = redfish.http_request(host, "/redfish/v1/AccountService/Accounts/" + user,
                             timeout=timeout, port=port, auth=cred)
    return r["status"] == 200, r["status"]


def try_first_login(lay, timeout=1.0):
    """One attempt at the first password change through the floating address.
    Returns (done, what): done True once <state>/credentials holds working credentials;
    `what` says what happened (statuses only, never a password)."""
    state = lay.state
    initial = read_secret(os.path.join(state, PENDING_INITIAL))
    if initial is None:
        cred = read_credentials(state)
        if cred is None:
            return False, "no %s and no %s in %s" % (CREDENTIALS, PENDING_INITIAL, state)
        ok, status = works(lay.floating, lay.web_port, cred, timeout)
        return ok, "the existing credentials: HTTP %s" % status
    # The new password is chosen (and kept) before it is sent: when the change is made but
    # its answer is lost, the next attempt finds the initial password refused and the new
    # one working.
    new = read_secret(os.path.join(state, PENDING_NEW))
    if new is None:
        new = "%s:%s" % (ADMIN, new_password())
        write_secret(os.path.join(state, PENDING_NEW), new + "\n")
    r = redfish.http_request(lay.floating, ACCOUNT_PATH, "PATCH",
                             {"Password": new.split(":", 1)[1]}, timeout=timeout,
                             port=lay.web_port, auth=initial)
    if r["status"] == 200:
        return _adopt(state, new), "changed"
    if r["status"] == 401:
        # The initial password is refused: the change was made (answer lost), or the store
        # already has accounts (an SP's store from before): whatever works is kept.
        for cand in (new, read_credentials(state)):
            if cand and works(lay.floating, lay.web_port, cand, timeout)[0]:
                return _adopt(state, cand), "the store already had the account"
        return False, "the initial password is refused (HTTP 401) and %s/%s does not work" % (
            state, CREDENTIALS)
    return False, "HTTP %s%s" % (r["status"], " (%s)" % r["err"] if r["err"] else "")


def _adopt(state, cred):
    write_secret(credentials_path(state), cred + "\n")
    remove(os.path.join(state, PENDING_NEW))
    remove(os.path.join(state, PENDING_INITIAL))
    return True


def first_login(lay, timeout=FIRST_LOGIN_TIMEOUT):
    """try_first_login until it succeeds or the deadline passes (HarnessError). The first
    change may be refused (503) while the pair settles."""
    end = time.monotonic() + timeout
    what = "no attempt"
    for _ in range(int(timeout / 0.1) + 2):
        done, what = try_first_login(lay)
        if done:
            return read_credentials(lay.state)
        if time.monotonic() > end:
            break
        time.sleep(0.1)
    raise HarnessError("the first password change through %s did not succeed within %.0f s: "
                       "%s" % (lay.floating, timeout, what))


# ---------------------------------------------------------------- sessions (benches)

SESSIONS_PATH = "/redfish/v1/SessionService/Sessions"


def create_session(host, port, cred, timeout=5.0):
    """A Redfish session for cred ("user:password"): (token, location). For load generators
    (wrk): a token is checked with a hash, a Basic login the SP has not cached costs it an
    Argon2id verification."""
    user, _, password = cred.partition(":")
    r = redfish.http_request(host, SESSIONS_PATH, "POST", {"UserName": user, "Password": password},
                             timeout=timeout, port=port, auth=False)
    token = r["headers"].get("x-auth-token")
    if r["status"] != 201 or not token:
        raise HarnessError("POST %s at %s: HTTP %s%s" % (SESSIONS_PATH, host, r["status"],
                                                         " (%s)" % r["err"] if r["err"] else ""))
    return token, r["headers"].get("location")


def delete_session(host, port, token, location, timeout=5.0):
    """Logs the session out (True when the SP said so)."""
    if not location:
        return False
    import urllib.parse
    path = urllib.parse.urlsplit(location).path or location
    r = redfish.http_request(host, path, "DELETE", timeout=timeout, port=port,
                             headers={"X-Auth-Token": token})
    return r["status"] is not None and 200 <= r["status"] < 300


def write_header_files(directory, headers):
    """The request headers for command-line clients, in files only root can read (a header
    on a command line would be in every user's `ps`): a wrk Lua script (`wrk -s`) and a curl
    header file (`curl -H @file`). Returns (lua_path, curl_path)."""
    lua = "".join('wrk.headers["%s"] = "%s"\n' % (k, v) for k, v in headers.items())
    curl = "".join("%s: %s\n" % (k, v) for k, v in headers.items())
    lua_path = os.path.join(directory, "bench-headers.lua")
    curl_path = os.path.join(directory, "bench-headers.curl")
    write_secret(lua_path, lua)
    write_secret(curl_path, curl)
    return lua_path, curl_path
