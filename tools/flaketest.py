#!/usr/bin/python3
"""Runs test files again and again and counts each test's failures: a flaky test is a bug
to find (a race in the kernel, or a test that assumes timing), not one to retry.

    tools/flaketest.py [--runs N] [--report PATH] [FILE ...]

By default it runs every lab's grader (grade/test_lab*.py, each at all its hart counts)
and the IPC and server suites, N times (20). It prints one line per run, then every test
that failed at least once with its failure count and its last failure, and writes the
counts as JSON (build/flaketest.json). The consoles of a run with a failure are kept in
build/flaketest-logs/run-N/. Exit status 1 when any test failed.
`scons flaketest RUNS=N` runs it after building.
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_FILES = sorted(glob.glob(os.path.join(REPO, "grade", "test_lab*.py"))) + [
    os.path.join(REPO, "grade", "test_ipc.py"), os.path.join(REPO, "grade", "test_servers.py")]


def one_run(files, xml_path):
    """{test id: failure message or None} for one pytest run of files."""
    subprocess.run(["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    f"--junitxml={xml_path}"] + files, cwd=REPO, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    results = {}
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        results[name] = None if bad is None else (bad.get("message") or "")[:300]
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--report", default=os.path.join(REPO, "build", "flaketest.json"))
    ap.add_argument("files", nargs="*", default=DEFAULT_FILES)
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.report), exist_ok=True)
    failures, last_why, tests = {}, {}, set()
    shutil.rmtree(os.path.join(REPO, "build", "flaketest-logs"), ignore_errors=True)
    for i in range(1, args.runs + 1):
        start = time.time()
        results = one_run(args.files, os.path.join(REPO, "build", "flaketest-run.xml"))
        tests |= results.keys()
        failed = [name for name, why in results.items() if why is not None]
        for name in failed:
            failures[name] = failures.get(name, 0) + 1
            last_why[name] = results[name]
        if failed:
            keep = os.path.join(REPO, "build", "flaketest-logs", f"run-{i}")
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(os.path.join(REPO, "build", "grade-logs"), keep)
            shutil.copy(os.path.join(REPO, "build", "flaketest-run.xml"), keep)
        print(f"run {i}/{args.runs}: {len(results)} tests, {len(failed)} failed "
              f"({time.time() - start:.0f} s)", flush=True)
        for name in failed:  # now, not only at the end: a long series may be cut short
            print(f"    {name}: {results[name].splitlines()[0] if results[name] else ''}",
                  flush=True)
    print(f"\n{len(tests)} tests, {args.runs} runs each: "
          f"{len(failures)} failed at least once")
    for name, n in sorted(failures.items(), key=lambda kv: -kv[1]):
        print(f"  {n:3d}/{args.runs}  {name}\n         last: {last_why[name]}")
    with open(args.report, "w", encoding="utf-8") as f:
        json.dump({"runs": args.runs, "tests": len(tests), "failures": failures}, f, indent=2)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
