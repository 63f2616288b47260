#!/usr/bin/env python
"""Fuzz the JSON API with schemathesis (generated from /api/v1/openapi.json) on a demo server and
fail on any server error: every bad request must get a 4xx naming what is wrong.

    make fuzz-api
    .venv/bin/python scripts/fuzz_api.py [--examples 25] [--max-time 300] [--database-url postgresql+psycopg://...]
        [-- more schemathesis options, e.g. --include-path-regex staff]

The database (a temporary SQLite file unless --database-url names a scratch one) is migrated and
filled with the demo data; the server is the app's own (`flask run`). The run signs in as an
administrator account of its own that it cannot lock itself out of (scripts/fuzz_hooks.py sends
writes to its own staff row to another member's), checks at the end that its token still works,
and prints how many cases reached the application (2xx) and how many were refused, per status
class. The server's log and each answer's status are kept in the temporary folder printed at the
start.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FUZZ_EMAIL = "fuzz@crmconnect.test"
DECOY_EMAIL = "admin@crmconnect.test"  # the demo administrator: writes aimed at the fuzzer's own row go there


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, path: str, *, token: str | None = None, body: dict | None = None) -> tuple[int, object]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    req = urllib.request.Request(f"{base}{path}", method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, None


def staff_id(base: str, token: str, email: str) -> int:
    status, found = call(base, f"/api/v1/staff?email={email}", token=token)
    rows = found.get("items", found) if isinstance(found, dict) else found
    if status != 200 or not rows:
        raise SystemExit(f"staff {email} not found through the API ({status})")
    return rows[0]["staffid"]


def summary(status_log: Path) -> Counter:
    """Answers per status class, and the operations no case of which reached a 2xx."""
    lines = status_log.read_text().splitlines() if status_log.exists() else []
    classes, statuses, operations, reached = Counter(), Counter(), set(), set()
    redirected = 0
    for line in lines:
        status, operation = line.split(" ", 1)
        if status == "redirected":  # noted before its call, which is counted below
            redirected += 1
            continue
        classes["error" if status == "error" else f"{status[0]}xx"] += 1
        statuses[status] += 1
        operations.add(operation)
        if status.startswith("2"):
            reached.add(operation)
    total = sum(classes.values())
    print(f"\n{total} cases sent; {classes['2xx']} reached a 2xx "
          f"({100 * classes['2xx'] // max(total, 1)} %).")
    print("per status class: " + ", ".join(f"{k}: {classes[k]}" for k in sorted(classes)))
    print("per status: " + ", ".join(f"{k}: {statuses[k]}" for k in sorted(statuses)))
    print(f"method and path pairs with at least one 2xx: {len(reached)} of {len(operations)}")
    print(f"writes aimed at the fuzzer's own staff row, sent to another member's: {redirected}")
    return classes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=25, help="examples per operation (default 25)")
    ap.add_argument("--max-time", type=int, help="stop after this many seconds (default: no limit)")
    ap.add_argument("--workers", type=int, default=2, help="concurrent workers (default 2)")
    ap.add_argument("--database-url", help="a scratch database (default: a temporary SQLite file)")
    ap.add_argument("schemathesis_args", nargs="*", metavar="-- ARG",
                    help="more schemathesis options after --, e.g. -- --include-path-regex staff")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crm-fuzz-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": args.database_url or f"sqlite:///{work / 'fuzz.sqlite'}",
           "CRM_SANDBOX": "1", "PUBLIC_URL": base, "SECRET_KEY": "fuzz-secret"}
    env.pop("REDIS_URL", None)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    password = secrets.token_urlsafe(16)
    print(f"work folder: {work}")
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "crm", "demo-data"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "crm", "create-admin", "--email", FUZZ_EMAIL, "--password", password], cwd=ROOT,
                   env=env, check=True, capture_output=True)
    with open(work / "server.log", "w") as log:
        server = subprocess.Popen([*flask, "run", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            token = None
            for _ in range(60):
                try:
                    token = call(base, "/api/v1/auth/token", body={"email": FUZZ_EMAIL, "password": password})[1]["token"]
                    break
                except (OSError, TypeError):
                    time.sleep(0.5)
            if token is None:
                print("the server did not answer; see server.log")
                return 2
            own = staff_id(base, token, FUZZ_EMAIL)
            status_log = work / "statuses.txt"
            hooks_env = {**os.environ, "SCHEMATHESIS_HOOKS": str(ROOT / "scripts" / "fuzz_hooks.py"),
                         "CRM_FUZZ_STAFF_ID": str(own), "CRM_FUZZ_DECOY_ID": str(staff_id(base, token, DECOY_EMAIL)),
                         "CRM_FUZZ_STATUS_LOG": str(status_log)}
            command = [str(BIN / "schemathesis"), "run", f"{base}/api/v1/openapi.json",
                       "-H", f"Authorization: Bearer {token}", "--checks", "not_a_server_error",
                       # revoking tokens would revoke the run's own: the rest would be 401s
                       "--exclude-path-regex", "/auth/tokens",
                       "--max-examples", str(args.examples), "--workers", str(args.workers)]
            if args.max_time:
                command += ["--max-time", str(args.max_time)]
            command += args.schemathesis_args
            code = subprocess.run(command, cwd=ROOT, env=hooks_env).returncode
            summary(status_log)
            still_in = call(base, f"/api/v1/staff/{own}", token=token)[0]
            if still_in != 200:  # the cases after the lock-out tested nothing but the 401
                print(f"the fuzzer's token stopped working (GET its own staff row: {still_in})")
                return code or 1
            print("the fuzzer's token still works at the end of the run")
            return code
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
