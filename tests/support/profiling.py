"""Where a benchmark's time goes: a cProfile summary by module, and the CPU time of a server process by PID."""

from __future__ import annotations

import cProfile
import math
import os
import pstats
import sysconfig
from pathlib import Path
from typing import Any

IDLE = "(event loop idle: waiting on worker threads, timers, sockets)"


def _module(path: str, func: str) -> str:
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/")[0].removesuffix(".py")
    if "/src/nwdaf/" in path:
        return "nwdaf." + path.split("/src/nwdaf/", 1)[1].removesuffix(".py").replace("/", ".")
    if path == "~":
        return func
    return f"stdlib {os.path.basename(path)}" if path.startswith(sysconfig.get_paths()["stdlib"]) else path


def profile_summary(profile: cProfile.Profile, top: int = 16) -> dict[str, list[tuple[str, float]]]:
    """Own time of the profiled thread by module (a C function's time goes to its Python callers' modules; the
    event loop's ``epoll`` wait is reported as idle) and the ``top`` functions with the most own time."""
    raw: dict[tuple[str, int, str], Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    by_module: dict[str, float] = {}
    for (path, _line, func), (_cc, _nc, own, _cum, callers) in raw.items():
        if path == "~" and "epoll" in func:
            by_module[IDLE] = by_module.get(IDLE, 0.0) + float(own)
            continue
        shares = [(_module(c[0], c[2]), float(v[2])) for c, v in callers.items()] if path == "~" and callers else []
        for name, secs in shares or [(_module(path, func), float(own))]:
            by_module[name] = by_module.get(name, 0.0) + secs
    funcs = [(f"{os.path.basename(p)}:{line} {fn}", float(v[2])) for (p, line, fn), v in raw.items()]
    return {"modules": sorted(by_module.items(), key=lambda kv: -kv[1])[:top],
            "functions": sorted(funcs, key=lambda kv: -kv[1])[:top]}


def cpu_ticks(pid: int, proc: Path = Path("/proc")) -> int:
    """utime + stime (clock ticks) of ``pid`` and its live descendants; every thread counts."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])

    def descends(p: int) -> bool:
        seen = set()
        while p not in seen and p in parents:
            if p == pid:
                return True
            seen.add(p)
            p = parents[p]
        return False

    return sum(t for p, t in ticks.items() if descends(p))


def process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds a process (and its descendants) has used so far; NaN when unknown or gone."""
    if pid is None or not os.path.exists(f"/proc/{pid}"):
        return math.nan
    return cpu_ticks(pid) / os.sysconf("SC_CLK_TCK")
