"""The fuzzer (user/bin/fuzz.c): random system calls from a thread on every hart, in
disposable children that the parent also kills at random; after each phase the kernel's
counts must be what they were. A panic, a kill that does not take, or a leak fails.

`scons test` runs each phase for 100,000 calls (about 45 s in all) at 4 harts with a fixed seed,
so the calls are the same every time (the interleaving is the machine's). `scons fuzz`
runs longer and wider: FUZZ_CALLS=250000 a phase (10^6 calls a boot) at FUZZ_CPUS=1,2,4,8,
with a new seed each run unless FUZZ_SEED is given. A failure's log names its seed
(build/grade-logs/); boot with that fuzzseed= to repeat it.

One more boot runs every phase while one in 40 of the children's allocations fails
(failalloc=40 failin=fuzzchild, kern/mm/failalloc.h): what a child was refused must not
leak either.
"""

import os
import re

import pytest

CALLS = int(os.environ.get("SHUTTLE_FUZZ_CALLS", "100000"))
CPUS = [int(c) for c in os.environ.get("SHUTTLE_FUZZ_CPUS", "4").split(",")]
SEED = os.environ.get("SHUTTLE_FUZZ_SEED", "1")
PHASES = ["random", "ipc", "memory", "process"]
SEED_FOR_INJECTION = "2" if SEED == "random" else SEED


@pytest.mark.parametrize("cpus", CPUS)
@pytest.mark.parametrize("phase", PHASES)
def test_fuzz(shuttle, phase, cpus):
    """The kernel survives the fuzzer and leaks nothing"""
    seed = "" if SEED == "random" else f" fuzzseed={SEED}"
    m = shuttle.boot(cpus=cpus, bootargs=f"run=fuzz fuzz={phase} fuzzcalls={CALLS}{seed}",
                     timeout=120)
    m.expect(r"fuzz: seed \d+")
    m.expect_test(phase, timeout=120 + CALLS // 200)
    assert m.wait_exit(timeout=60) == 0, "the fuzzer failed"
    summary = re.search(rf"^fuzz: {phase}: .*$", m.log, re.MULTILINE)
    print(summary.group(0) if summary else "")


def test_fuzz_with_failing_allocations(shuttle):
    """Every phase, while the children's allocations fail at random: the counts come back"""
    calls = max(CALLS // 4, 1000)
    m = shuttle.boot(cpus=CPUS[-1], bootargs=f"run=fuzz fuzzcalls={calls} fuzzseed={SEED_FOR_INJECTION}"
                     " failalloc=40 failseed=7 failin=fuzzchild", timeout=120)
    for phase in PHASES:
        m.expect_test(phase, timeout=120 + calls // 200)
    assert m.wait_exit(timeout=60) == 0, "the fuzzer failed"
    made = re.search(r"^failalloc: (\d+) of (\d+) allocations failed on purpose", m.log,
                     re.MULTILINE)
    assert made and int(made.group(1)) > 0, "no allocation failed: injection is off"
    print(made.group(0))
