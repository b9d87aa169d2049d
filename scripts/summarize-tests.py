#!/usr/bin/env python3
"""Counts passed and failed tests over JUnit XML reports (lit, pytest).

Prints skipped tests on one line, then the plain line "N passed, N failed".
Exits 1 when a test failed or no report holds any test.
"""
import sys
import xml.etree.ElementTree as ET


def main(paths):
    passed = failed = skipped = 0
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as err:
            print(f"unreadable test report {path}: {err}")
            failed += 1
            continue
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    if skipped:
        print(f"{skipped} skipped (unsupported here)")
    if passed + failed == 0:
        failed = 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
