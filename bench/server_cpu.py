"""CPU time spent by a database server running on this machine, read from /proc: the share of a
benchmark's work that the server does, which no change to the application's Python can remove."""
from __future__ import annotations

import os


def server_cpu_seconds(process_name: str = "postgres") -> float | None:
    """User + system CPU seconds of the processes named ``process_name`` that are alive now (None
    where /proc is not there). Compare two readings around a run; a process that starts and ends
    between them (an autovacuum worker) is missed, so the difference is a lower bound."""
    if not os.path.isdir("/proc"):
        return None
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != process_name:
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks
