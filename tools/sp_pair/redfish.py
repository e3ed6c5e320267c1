"""Tiny HTTP/Redfish client (http.client: no proxies from the environment).

Authentication (docs/HARNESS.md "Credentials"): every request carries HTTP Basic credentials
by default, from resolve_auth(): the environment variable DUALSP_AUTH ("user:password"),
else the `credentials` file of the pair that is up ($DUALSP_PAIR_STATE, else the default
state directories). A caller opts out with auth=False, or passes its own credentials
(auth="user:password" or (user, password)), or its own Authorization / X-Auth-Token header
(then nothing is added). The paths that need no credentials (OPEN_PATHS: the service root,
/redfish/v1/odata, /redfish/v1/$metadata) get none by default: they answer with them too
(spweb does not look at credentials there), but a probe polling the service root during a
failover then sends the same bytes, and works against a pair without an administrator.
"""

import http.client
import json


def resolve_auth(auth=None):
    """The credentials to send as "user:password", or None for none.
    auth: None = the default (env DUALSP_AUTH, else <state>/credentials of the pair that is
    up: $DUALSP_PAIR_STATE, else /run/dualsp-pair (root) or /tmp/dualsp-pair-<uid>, the one
    with a pair.json); False = none; "user:password" or (user, password) = those.
    Self-contained (its source is run in other namespaces with http_request's)."""
    import os
    if auth is False:
        return None
    if isinstance(auth, (tuple, list)):
        return "%s:%s" % (auth[0], auth[1])
    if auth:
        return str(auth)
    env = os.environ.get("DUALSP_AUTH")
    if env:
        return env
    state = os.environ.get("DUALSP_PAIR_STATE")
    states = [state] if state else (
        (["/run/dualsp-pair"] if os.geteuid() == 0 else []) + ["/tmp/dualsp-pair-%d" % os.getuid()])
    for s in states:
        if state or os.path.exists(os.path.join(s, "pair.json")):
            try:
                with open(os.path.join(s, "credentials")) as f:
                    line = f.readline().strip()
                if ":" in line:
                    return line
            except OSError:
                pass
    return None


def auth_headers(auth=None, headers=None, path=None):
    """{"Authorization": "Basic ..."} for resolve_auth(auth), or {} when there are no
    credentials, `headers` already carries Authorization or X-Auth-Token, or auth is None
    (the default) and `path` needs no credentials (OPEN_PATHS, its query aside).
    Self-contained (uses resolve_auth)."""
    import base64
    if any(k.lower() in ("authorization", "x-auth-token") for k in (headers or {})):
        return {}
    open_paths = ("/redfish", "/redfish/", "/redfish/v1", "/redfish/v1/", "/redfish/v1/odata",
                  "/redfish/v1/$metadata")  # OPEN_PATHS
    if auth is None and path is not None and path.split("?", 1)[0] in open_paths:
        return {}
    cred = resolve_auth(auth)
    if not cred:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(cred.encode("utf-8")).decode("ascii")}


def http_request(host, path, method="GET", body=None, timeout=0.5, headers=None, port=80,
                 auth=None):
    """One request on a fresh connection; `body` is JSON-encoded, or sent as is when bytes.
    {"status", "headers" (lower-case names), "text",
    "json" (None when not JSON), "err"}; status None with err set when there was no answer.
    Credentials: auth_headers(auth, headers) (see the module's doc).
    Self-contained with resolve_auth and auth_headers (the system tests run their source in
    the client namespace: SOURCE_FUNCTIONS)."""
    import http.client
    import json
    out = {"status": None, "headers": {}, "text": None, "json": None, "err": None}
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        h = {"Connection": "close", "Accept": "application/json"}
        data = None
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)  # sent as is: a test's malformed or hostile body
            h["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(auth_headers(auth, headers, path))
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        out["status"] = resp.status
        out["headers"] = {k.lower(): v for k, v in resp.getheaders()}
        out["text"] = resp.read().decode("utf-8", "replace")
        try:
            out["json"] = json.loads(out["text"]) if out["text"] else None
        except ValueError:
            pass
    except (OSError, http.client.HTTPException) as e:
        out["err"] = "%s: %s" % (type(e).__name__, e)
    finally:
        conn.close()
    return out


OPEN_PATHS = ("/redfish", "/redfish/", "/redfish/v1", "/redfish/v1/", "/redfish/v1/odata",
              "/redfish/v1/$metadata")

# What to send to another process so that it can call http_request (in this order).
SOURCE_FUNCTIONS = (resolve_auth, auth_headers, http_request)


def source():
    """The source of http_request and what it needs, to run in another process (whose
    environment must carry DUALSP_AUTH, or which passes auth=)."""
    import inspect
    return "\n".join(inspect.getsource(f) for f in SOURCE_FUNCTIONS)


def get(host, port, path, timeout=0.5, auth=None, headers=None):
    """(status, headers{lower: value}, body bytes). Raises OSError/HTTPException.
    Credentials as http_request sends them."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        h = {"Connection": "close"}
        h.update(auth_headers(auth, headers, path))
        h.update(headers or {})
        conn.request("GET", path, headers=h)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def manager(host, port, sp, timeout=0.5, auth=None):
    """The SP's own Manager resource as a dict, or None when it does not answer (or not with
    200: without valid credentials, 401)."""
    try:
        status, _, body = get(host, port, "/redfish/v1/Managers/SP" + sp, timeout, auth)
        if status != 200:
            return None
        return json.loads(body)
    except (OSError, http.client.HTTPException, ValueError):
        return None


def role_of(doc):
    """(role, health, epoch, boot_id) from a Manager resource (None values when absent)."""
    if not isinstance(doc, dict):
        return None, None, None, None
    oem = (doc.get("Oem") or {}).get("DualSP") or {}
    status = doc.get("Status") or {}
    return oem.get("Role"), status.get("Health"), oem.get("Epoch"), oem.get("BootId")


def answers(host, port, timeout=0.5):
    """GET /redfish/v1 (needs no credentials) answers 200."""
    try:
        status, _, _ = get(host, port, "/redfish/v1", timeout, auth=False)
        return status == 200
    except (OSError, http.client.HTTPException):
        return False


def served_certificate(host, port=443, timeout=1.0):
    """The certificate `host` serves on `port` (PEM), or None when no TLS handshake completes.
    Not verified: the array's certificate is self-signed until an administrator replaces it."""
    import ssl
    try:
        return ssl.get_server_certificate((host, port), timeout=timeout)
    except (OSError, ssl.SSLError, ValueError):
        return None
