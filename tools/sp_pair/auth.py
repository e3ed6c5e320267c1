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


def new_initial(state, spd):
    """A new initial password: kept in <state>/initial-password (0600) until the first
    change; returns its hash (spd --hash-password), or None when spd has no accounts."""
    if not spd_hashes_passwords(spd):
        return None
    password = new_password()
    digest = hash_password(spd, password)
    write_secret(os.path.join(state, PENDING_INITIAL), "%s:%s\n" % (ADMIN, password))
    return digest


def provision(lay, sp_dirs=None):
    """A new initial password for the pair: its hash in <sp_dir>/initial-admin of both SPs
    (0600), the password itself in <state>/initial-password (0600) until the first change.
    Returns False (and provisions nothing) when spd has no --hash-password."""
    digest = new_initial(lay.state, lay.spd)
    if digest is None:
        return False
    for d in sp_dirs or [lay.sp_dir(sp) for sp in ("A", "B")]:
        write_secret(os.path.join(d, INITIAL_ADMIN), digest + "\n")
    return True


def pending(state):
    """Whether a first password change is still to be done (`up` provisioned a password
    that has not been changed yet)."""
    return os.path.exists(os.path.join(state, PENDING_INITIAL))


def requester(host, port):
    """request(method, path, body, auth, timeout) -> (status, err) over this process's
    network (sp-pair: the root namespace reaches the floating address)."""
    def request(method, path, body, cred, timeout):
        r = redfish.http_request(host, path, method, body, timeout=timeout, port=port,
                                 auth=cred or False)
        return r["status"], r["err"]
    return request


def works(request, cred, timeout=1.0):
    """GET of cred's own account answers 200: (ok, status)."""
    user = cred.split(":", 1)[0]
    status, _ = request("GET", "/redfish/v1/AccountService/Accounts/" + user, None, cred, timeout)
    return status == 200, status


def first_change(state, request, timeout=3.0):
    """One attempt at the first password change (request: see requester(); it reaches the
    floating address). Returns (done, what): done True once <state>/credentials holds
    working credentials; `what` says what happened (statuses only, never a password)."""
    initial = read_secret(os.path.join(state, PENDING_INITIAL))
    if initial is None:
        cred = read_credentials(state)
        if cred is None:
            return False, "no %s and no %s in %s" % (CREDENTIALS, PENDING_INITIAL, state)
        ok, status = works(request, cred, timeout)
        return ok, "the existing credentials: HTTP %s" % status
    # The new password is chosen (and kept) before it is sent: when the change is made but
    # its answer is lost, the next attempt finds the initial password refused and the new
    # one working.
    new = read_secret(os.path.join(state, PENDING_NEW))
    if new is None:
        new = "%s:%s" % (ADMIN, new_password())
        write_secret(os.path.join(state, PENDING_NEW), new + "\n")
    status, err = request("PATCH", ACCOUNT_PATH, {"Password": new.split(":", 1)[1]}, initial,
                          timeout)
    if status == 200:
        return _adopt(state, new), "changed"
    if status == 401:
        # The initial password is refused: the change was made (answer lost), or the store
        # already has accounts (an SP's store from before): whatever works is kept.
        for cand in (new, read_credentials(state)):
            if cand and works(request, cand, timeout)[0]:
                return _adopt(state, cand), "the store already had the account"
        return False, "the initial password is refused (HTTP 401) and %s/%s does not work" % (
            state, CREDENTIALS)
    return False, "HTTP %s%s" % (status, " (%s)" % err if err else "")


def try_first_login(lay, timeout=3.0):
    """first_change through the sp-pair's floating address."""
    return first_change(lay.state, requester(lay.floating, lay.web_port), timeout)


def _adopt(state, cred):
    write_secret(credentials_path(state), cred + "\n")
    remove(os.path.join(state, PENDING_NEW))
    remove(os.path.join(state, PENDING_INITIAL))
    return True


def first_login(lay, timeout=FIRST_LOGIN_TIMEOUT, state=None, request=None, where=None):
    """first_change until it succeeds or the deadline passes (HarnessError). The first change
    may be refused (503) while the pair settles. Default: sp-pair's Layout `lay`; the QEMU
    pair passes lay=None with its state directory, its request and where it goes."""
    state = state or lay.state
    request = request or requester(lay.floating, lay.web_port)
    where = where or lay.floating
    end = time.monotonic() + timeout
    what = "no attempt"
    for _ in range(int(timeout / 0.1) + 2):
        done, what = first_change(state, request)
        if done:
            return read_credentials(state)
        if time.monotonic() > end:
            break
        time.sleep(0.1)
    raise HarnessError("the first password change through %s did not succeed within %.0f s: "
                       "%s" % (where, timeout, what))


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
