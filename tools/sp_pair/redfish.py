"""Tiny HTTP/Redfish client (http.client: no proxies from the environment)."""

import http.client
import json


def http_request(host, path, method="GET", body=None, timeout=0.5, headers=None, port=80):
    """One request on a fresh connection; `body` is JSON-encoded, or sent as is when bytes.
    {"status", "headers" (lower-case names), "text",
    "json" (None when not JSON), "err"}; status None with err set when there was no answer.
    Self-contained (the system tests run its source in the client namespace)."""
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


def get(host, port, path, timeout=0.5):
    """(status, headers{lower: value}, body bytes). Raises OSError/HTTPException."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def manager(host, port, sp, timeout=0.5):
    """The SP's own Manager resource as a dict, or None when it does not answer."""
    try:
        status, _, body = get(host, port, "/redfish/v1/Managers/SP" + sp, timeout)
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
    try:
        status, _, _ = get(host, port, "/redfish/v1", timeout)
        return status == 200
    except (OSError, http.client.HTTPException):
        return False
