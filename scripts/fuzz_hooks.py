"""Hooks for the API fuzz run (scripts/fuzz_api.py loads them into schemathesis).

* The run signs in as a staff member of its own. A generated write to that member's row
  (deactivate it, a new password or email, delete it) would end its token, and every case after
  it would test nothing but the 401. Such a write is sent to another staff member's row instead
  (the decoy), so the staff endpoints are still fuzzed with the same bodies.
* Every answer's status is appended to a file, so the run ends with how many cases reached the
  application (2xx) and how many were refused (4xx) or failed (5xx).
"""
from __future__ import annotations

import os
import threading

import schemathesis

OWN = os.environ["CRM_FUZZ_STAFF_ID"]
DECOY = os.environ["CRM_FUZZ_DECOY_ID"]
STATUS_LOG = os.environ["CRM_FUZZ_STATUS_LOG"]
READS = {"GET", "HEAD", "OPTIONS"}
_write = threading.Lock()  # workers are threads


def _own_row(case) -> bool:
    return (case.method.upper() not in READS and case.operation.path.rstrip("/").endswith("/staff/{obj_id}")
            and str((case.path_parameters or {}).get("obj_id")) == OWN)


@schemathesis.hook
def before_call(context, case, kwargs):
    if _own_row(case):
        _record("redirected", case)
        case.path_parameters = {**case.path_parameters, "obj_id": int(DECOY)}


def _record(status: str, case) -> None:
    with _write, open(STATUS_LOG, "a") as log:
        log.write(f"{status} {case.method.upper()} {case.operation.path}\n")


@schemathesis.hook
def after_call(context, case, response):
    _record(str(response.status_code), case)


@schemathesis.hook
def after_network_error(context, case, request):
    _record("error", case)
