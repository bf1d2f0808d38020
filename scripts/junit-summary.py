"""Sum the JUnit XML reports of every tier into one closing line: 'N passed, N failed, N skipped'."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(paths: list[str]) -> int:
    passed = failed = skipped = 0
    for path in paths:
        root = ET.parse(path).getroot()
        for suite in root.iter("testsuite"):
            tests = int(suite.get("tests", 0))
            fails = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skips = int(suite.get("skipped", 0))
            tier = path.rsplit("junit-", 1)[-1].removesuffix(".xml")
            print(f"  {tier:<12} {tests - fails - skips:>5} passed {fails:>4} failed {skips:>4} skipped")
            passed += tests - fails - skips
            failed += fails
            skipped += skips
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
