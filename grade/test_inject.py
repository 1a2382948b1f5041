"""Fault injection (kern/mm/failalloc.h): the kernel's allocations fail on purpose for the
processes under test, and the kernel must cope: no panic, no hang, the suite runs to its
end (its own tests may fail: a call that needed memory got E_NOMEM), and the machine powers
off. Whether anything leaked under injection is the fuzzer's question (test_fuzz.py runs
it with failing allocations and compares the kernel's counts); here each suite's paths
meet failures in the places only they reach. Not a lab test.

Each suite runs with three seeds, so that its failures fall in different places; a seed
fixes which allocation numbers fail (which allocation gets a given number depends on how
the harts interleave).
"""

import re

import pytest

# suite, harts, one in how many allocations fails
SUITES = [("usertests", 4, 30), ("ipctests", 2, 30), ("robusttests", 4, 20),
          ("servertests", 1, 10), ("kvstests", 8, 10)]


def failures(log):
    """(failed, made) from the kernel's failalloc line at power off."""
    m = re.search(r"^failalloc: (\d+) of (\d+) allocations failed on purpose", log, re.MULTILINE)
    assert m, "the kernel printed no failalloc report at power off"
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("suite,cpus,one_in", SUITES)
def test_suite_survives_failing_allocations(shuttle, suite, cpus, one_in, seed):
    """A suite whose allocations fail at random ends, and the kernel does not panic"""
    m = shuttle.boot(cpus=cpus, bootargs=f"run={suite} failalloc={one_in} failseed={seed} "
                                         f"failin={suite}", timeout=60)
    m.expect(rf"^failalloc: 1 in {one_in} allocations fail \(seed {seed}\), "
             rf"for processes named {suite}")
    m.expect(rf"^init: {suite} exited with status", timeout=240)
    assert m.wait_exit(timeout=60) in (0, 3), "the machine did not power off cleanly"
    failed, made = failures(m.log)
    assert made > 0 and failed > 0, f"no allocation failed ({failed} of {made}): injection is off"
