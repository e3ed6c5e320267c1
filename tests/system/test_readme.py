"""The README's curl examples work as written (issue 15): every `curl` command of README.md's
shell blocks is run by bash, unchanged, in the README's order, against a fresh pair, from
the repository's root (so `tools/sp-pair credentials` answers for the harness's pair), and
must answer what it promises: JSON without an `error`, or nothing for a 204.

Two need their moment, as in the README: the SSE stream runs until stopped (given 7 s, it
must carry an event or the keep-alive comment), and the ForceFailover of SP-B is run while
SP-B is active (the README's earlier steps made it so; here a ForceFailover of SP-A does).
"""

import json
import re
import subprocess
from pathlib import Path

from conftest import FLOATING, wait_for
from sp_pair.redfish import http_request

README = Path(__file__).resolve().parents[2] / "README.md"


def curl_commands():
    """The curl commands of README.md's ```sh blocks, continuation lines joined."""
    text = README.read_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        current = None
        for line in block.splitlines():
            if line.startswith("curl "):
                current = line
                commands.append(current)
            elif current is not None and line.startswith("  ") and not line.strip().startswith("#"):
                commands[-1] += "\n" + line
            else:
                current = None
    return commands


def run(pair, command, timeout=20):
    # tools/sp-pair credentials (in the commands) answers for the pair $DUALSP_PAIR_STATE names.
    env = dict(pair.env, AUTH=":".join(pair.credentials()), DUALSP_PAIR_STATE=str(pair.state))
    return subprocess.run(["bash", "-c", command], cwd=README.parent, env=env, timeout=timeout,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_readmes_curl_examples_work_as_written(pair):
    commands = curl_commands()
    assert len(commands) >= 10, commands
    pair.wait_active()
    ran = 0
    for command in commands:
        if "/EventService/SSE" in command:
            p = run(pair, "timeout 7 " + command, timeout=15)
            assert "data:" in p.stdout or ": keep-alive" in p.stdout, (command, p.stdout[-500:])
            ran += 1
            continue
        if "Managers/SPB/Actions/Manager.ForceFailover" in command:
            if pair.active() != "B":
                r = http_request(FLOATING, "/redfish/v1/Managers/SPA/Actions/Manager.ForceFailover",
                                 "POST", {}, timeout=10)
                assert r["status"] in (200, 204), r
                pair.wait_active("B", timeout=10)
            wait_for(lambda: pair.roles()["A"] == "passive", 20, 0.1, "SP-A passive")
        p = run(pair, command)
        assert p.returncode == 0, (command, p.returncode, p.stderr)
        out = p.stdout.strip()
        if out:
            doc = json.loads(out)
            assert "error" not in doc, (command, out[-1000:])
        if "Manager.ForceFailover" in command:  # as a reader would: until the hand-over is done
            pair.wait_active("A", timeout=10)
            wait_for(lambda: pair.roles()["B"] == "passive", 20, 0.1, "SP-B passive")
        ran += 1
    assert ran == len(commands)
