#!/usr/bin/env python3
"""Counts passed and failed tests over JUnit XML reports (lit, pytest).

Prints skipped tests on one line, then the plain line "N passed, N failed".
Exits 1 when a test failed or no report holds any test.

    summarize-tests.py REPORT.xml...
    summarize-tests.py --write-case OUT.xml SUITE NAME STATUS SECONDS [LOG]

The second form records a step that is not a test runner of its own (the
fuzzer run of scripts/test.sh) as a report of one test case: passed when
STATUS is 0, else failed with the end of LOG as the failure text.
"""
import re
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


def write_case(out, suite, name, status, seconds, log=None):
    text = ""
    if log:
        try:
            with open(log, errors="replace") as f:
                text = "".join(f.readlines()[-200:])
        except OSError as err:
            text = f"unreadable log {log}: {err}"
    # Characters XML 1.0 cannot hold (the log may quote a fuzzer input).
    text = re.sub(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd]", "?", text)
    suites = ET.Element("testsuites")
    failed = int(status) != 0
    node = ET.SubElement(suites, "testsuite", name=suite, tests="1",
                         failures=str(int(failed)), time=str(seconds))
    case = ET.SubElement(node, "testcase", classname=suite, name=name,
                         time=str(seconds))
    if failed:
        ET.SubElement(case, "failure",
                      message=f"exit status {status}").text = text
    else:
        ET.SubElement(case, "system-out").text = text
    ET.ElementTree(suites).write(out, encoding="utf-8", xml_declaration=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--write-case"]:
        sys.exit(write_case(*sys.argv[2:]))
    sys.exit(main(sys.argv[1:]))
