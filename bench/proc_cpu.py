"""CPU a process on this machine has used so far, read from /proc (the bench's profiles)."""

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used (0 when it is not a process on this machine,
    such as a PostgreSQL backend on another host)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
