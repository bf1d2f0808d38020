"""``FORMAT:PATH`` input specifications: PATH is a file, a glob pattern or a directory.

A directory stands for the files under it (recursively, hidden ones left out) whose names show the format:
``*.binetflow*`` for Argus, ``*conn*.log*`` for Zeek (a Zeek log directory also holds dns.log, http.log...),
``*.csv*`` for CICFlowMeter and NFStream, ``*.pcap*``/``*.cap`` for captures. Files are taken in sorted order.
"""

from __future__ import annotations

import fnmatch
import glob
from pathlib import Path
from typing import Final

FORMATS: Final = ("binetflow", "zeek", "cicflow", "nfstream")
"""Flow-record formats of :func:`nwdaf.lib.flows.read_flows`."""
DIRECTORY_PATTERNS: Final[dict[str, tuple[str, ...]]] = {
    "binetflow": ("*.binetflow*",),
    "zeek": ("*conn*.log*",),
    "cicflow": ("*.csv", "*.csv.gz"),
    "nfstream": ("*.csv", "*.csv.gz"),
    "pcap": ("*.pcap", "*.pcap.gz", "*.pcapng", "*.cap"),
}


def split_spec(spec: str, formats: tuple[str, ...] = FORMATS) -> tuple[str, str]:
    """``(FORMAT, PATH)``; ``ValueError`` when FORMAT is not one of ``formats`` or there is no PATH."""
    fmt, sep, where = spec.partition(":")
    if not sep or fmt not in formats or not where:
        raise ValueError(f"flow spec must be FORMAT:PATH with FORMAT one of {list(formats)}, got {spec!r}")
    return fmt, where


def spec_paths(fmt: str, where: str, spec: str | None = None) -> list[Path]:
    """The files ``where`` (a file, a glob or a directory) stands for; ``FileNotFoundError`` when none."""
    spec = spec or f"{fmt}:{where}"
    if glob.has_magic(where):
        paths = [Path(p) for p in sorted(glob.glob(where)) if Path(p).is_file()]
        if not paths:
            raise FileNotFoundError(f"no file matches {where!r} (flow spec {spec!r})")
        return paths
    path = Path(where)
    if path.is_dir():
        patterns = DIRECTORY_PATTERNS.get(fmt, ("*",))
        paths = sorted(
            p for p in path.rglob("*")
            if p.is_file() and not p.name.startswith(".") and any(fnmatch.fnmatch(p.name, pat) for pat in patterns)
        )
        if not paths:
            raise FileNotFoundError(f"directory {where!r} holds no {fmt} file (names like {', '.join(patterns)}; "
                                    f"flow spec {spec!r})")
        return paths
    if not path.is_file():
        raise FileNotFoundError(f"flow file {where!r} does not exist (flow spec {spec!r})")
    return [path]


def flow_paths(spec: str, formats: tuple[str, ...] = FORMATS) -> tuple[str, list[Path]]:
    """``FORMAT:PATH`` to the format and the files it stands for (module docstring)."""
    fmt, where = split_spec(spec, formats)
    return fmt, spec_paths(fmt, where, spec)
