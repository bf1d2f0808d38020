"""Tap benchmark CLI: ``.venv/bin/python benchmarks/tap.py [--pcap FILE] [--json OUT]``."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repo root holds benchmarks.support and tests.support (neither ships in the wheel).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse

from benchmarks.support.tap import run_tap_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pcap", type=Path, default=None, help="capture to use (default: a synthetic 1.5M-packet one)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    run_tap_benchmark(args.pcap, args.json)


if __name__ == "__main__":
    main()
