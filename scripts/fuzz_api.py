#!/usr/bin/env python
"""Fuzz the JSON API with schemathesis (generated from /api/v1/openapi.json) on a demo server and
fail on any server error: every bad request must get a 4xx naming what is wrong.

    make fuzz-api
    .venv/bin/python scripts/fuzz_api.py [--examples 25] [--database-url postgresql+psycopg://...]

The database (a temporary SQLite file unless --database-url names a scratch one) is migrated and
filled with the demo data; the server is the app's own (`flask run`), signed in as the demo
administrator. Its log is kept in the temporary folder printed at the start.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", type=int, default=25, help="examples per operation (default 25)")
    ap.add_argument("--database-url", help="a scratch database (default: a temporary SQLite file)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crm-fuzz-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": args.database_url or f"sqlite:///{work / 'fuzz.sqlite'}",
           "CRM_SANDBOX": "1", "PUBLIC_URL": base, "SECRET_KEY": "fuzz-secret"}
    env.pop("REDIS_URL", None)
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    print(f"work folder: {work}")
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "crm", "demo-data"], cwd=ROOT, env=env, check=True, capture_output=True)
    with open(work / "server.log", "w") as log:
        server = subprocess.Popen([*flask, "run", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            token = None
            for _ in range(60):
                try:
                    req = urllib.request.Request(f"{base}/api/v1/auth/token", method="POST",
                                                 data=json.dumps({"email": "admin@crmconnect.test",
                                                                  "password": "admin1234"}).encode(),
                                                 headers={"Content-Type": "application/json"})
                    token = json.load(urllib.request.urlopen(req, timeout=5))["token"]
                    break
                except OSError:
                    time.sleep(0.5)
            if token is None:
                print("the server did not answer; see server.log")
                return 2
            return subprocess.run([str(BIN / "schemathesis"), "run", f"{base}/api/v1/openapi.json",
                                   "-H", f"Authorization: Bearer {token}", "--checks", "not_a_server_error",
                                   # revoking tokens would revoke the run's own: the rest would be 401s
                                   "--exclude-path-regex", "/auth/tokens",
                                   "--max-examples", str(args.examples), "--workers", "2"], cwd=ROOT).returncode
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
