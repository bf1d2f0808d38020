"""Tap benchmark CLI: ``.venv/bin/python benchmarks/tap.py [--pcap FILE] [--json OUT]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from nwdaf.upf.dataplane.bench import run_tap_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pcap", type=Path, default=None, help="capture to use (default: a synthetic 1.5M-packet one)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args()
    run_tap_benchmark(args.pcap, args.json)


if __name__ == "__main__":
    main()
