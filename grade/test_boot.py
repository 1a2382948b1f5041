"""The foundation: boot on 1 to 8 harts, memory from the device tree, the kernel
self-tests, panics and power-off. These run in `scons test`; the lab graders build on them.
"""

import os
import re
import shutil
import subprocess

import pytest

from shuttle_qemu import load_config

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HART_COUNTS = [1, 2, 4, 8]


def boot_and_power_off(shuttle, **kwargs):
    m = shuttle.boot(bootargs="poweroff", **kwargs)
    status = m.wait_exit()
    assert status == 0, f"QEMU exited with status {status} after poweroff, expected 0"
    return m


@pytest.mark.points(5)
@pytest.mark.parametrize("cpus", HART_COUNTS)
def test_all_harts_online(shuttle, cpus):
    """All harts come online"""
    m = boot_and_power_off(shuttle, cpus=cpus)
    # QEMU numbers the harts of virt 0..N-1; each says so once.
    for hartid in range(cpus):
        lines = re.findall(rf"^hart {hartid} online$", m.log, re.MULTILINE)
        assert len(lines) == 1, f"expected one 'hart {hartid} online' line, saw {len(lines)}"
    assert re.search(rf"^{cpus} harts online$", m.log, re.MULTILINE), \
        f"no '{cpus} harts online' line"
    # The summary comes only after every hart said it is online.
    last_hart = max(m.log.rfind(f"hart {h} online\n") for h in range(cpus))
    assert m.log.find(f"{cpus} harts online") > last_hart, \
        "'N harts online' was printed before every hart was online"


@pytest.mark.points(5)
@pytest.mark.parametrize("mem_mib", [128, 256, 1024])
def test_memory_matches_qemu(shuttle, mem_mib):
    """The memory found in the device tree matches QEMU's -m"""
    m = boot_and_power_off(shuttle, cpus=2, mem=f"{mem_mib}M")
    found = sum(int(x) for x in re.findall(r"^memory: (\d+) MiB at ", m.log, re.MULTILINE))
    assert found == mem_mib, f"kernel found {found} MiB, QEMU gave {mem_mib} MiB"
    free = re.search(r"^memory: (\d+) pages free$", m.log, re.MULTILINE)
    assert free, "no 'memory: N pages free' line"
    pages = int(free.group(1))
    # All but the firmware's 2 MiB, the kernel image and the device tree.
    assert mem_mib * 256 - 1024 < pages < mem_mib * 256, \
        f"{pages} pages free of {mem_mib * 256}: too many reserved, or reserved memory freed"


KTESTS = ["kalloc", "spinlock", "timer",
          "sched_spread", "sched_preempt", "sched_sleep", "sched_priority", "sched_affinity"]


@pytest.mark.points(5)
@pytest.mark.parametrize("cpus", [1, 4, 8])
@pytest.mark.parametrize("ktest", KTESTS)
def test_kernel_selftest(shuttle, ktest, cpus):
    """Kernel self-test passes on every hart at once"""
    m = shuttle.boot(cpus=cpus, bootargs=f"ktest={ktest}")
    m.expect_test(ktest)
    assert m.wait_exit() == 0, "the kernel did not power off cleanly after its self-test"


@pytest.mark.points(5)
@pytest.mark.parametrize("timer", ["sstc", "sbi"])
def test_timer_paths(shuttle, timer):
    """Timer ticks reach every hart through Sstc and through SBI"""
    m = shuttle.boot(cpus=4, bootargs=f"ktest=timer timer={timer}")
    expected = "Sstc (stimecmp)" if timer == "sstc" else "SBI set_timer"
    m.expect(rf"^timer: {re.escape(expected)}$")
    m.expect_test("timer")
    assert m.wait_exit() == 0


def test_all_selftests_in_one_boot(shuttle):
    """ktest=all runs every self-test (the scheduler's invariant check on; sched=perhart's
    runs are Lab 3's grader)"""
    m = shuttle.boot(cpus=4, bootargs="ktest=all schedcheck")
    for name in KTESTS:
        m.expect_test(name)
    assert m.wait_exit() == 0


def test_unknown_policy_stops_the_boot(shuttle):
    """An unknown sched= stops the boot with one line naming the policies there are"""
    m = shuttle.boot(cpus=2, bootargs="sched=nosuch")
    status = m.wait_exit()
    assert re.search(r"^boot: no scheduling policy sched=nosuch; the policies are: "
                     r"global, perhart$", m.log, re.MULTILINE), "no line naming the policies"
    assert status != 0, "QEMU exited 0 after an unknown policy"
    assert "harts online" not in m.log, "the boot went on"


def test_invariant_check_catches_idle_harts(shuttle):
    """schedcheck panics when harts stay idle while another holds their work (steal=0)"""
    m = shuttle.boot(cpus=4, bootargs="ktest=sched_spread sched=perhart schedcheck steal=0")
    assert m.wait_exit(allow_panic=True) == 1, "no panic: the invariant check did not fire"
    assert re.search(r"^panic: hart \d+: sched: invariant: hart \d+ idle for two ticks",
                     m.log, re.MULTILINE), "the panic does not name the invariant"


def test_unknown_selftest_is_an_error(shuttle):
    """An unknown ktest name is reported and fails the boot"""
    m = shuttle.boot(cpus=1, bootargs="ktest=nosuchtest")
    m.expect(r"ktest: unknown test in ktest=nosuchtest")
    assert m.wait_exit() != 0


@pytest.mark.points(5)
def test_forced_panic_fails_qemu(shuttle):
    """A panic names the hart and subsystem and powers off with a failure status"""
    m = shuttle.boot(cpus=4, bootargs="panic=boot")
    status = m.wait_exit(allow_panic=True)
    assert re.search(r"^panic: hart \d+: boot: panic requested by boot argument panic=boot$",
                     m.log, re.MULTILINE), "no complete panic line naming hart and subsystem"
    assert status == 1, f"QEMU exited with {status} after a panic, expected 1"
    # Other harts were stopped: nothing but the panic's own report follows its line.
    after = m.log[m.log.index("panic: "):].strip().splitlines()[1:]
    others = [line for line in after
              if not line.startswith(("backtrace:", "other harts:", "  "))]
    assert not others, f"output after the panic report: {others}"


@pytest.mark.points(5)
def test_kernel_fault_panics_with_registers(shuttle):
    """An unexpected kernel trap panics with scause, sepc and stval"""
    m = shuttle.boot(cpus=2, bootargs="panic=trap")
    # Wait for the end first: a pattern ending in $ could match a line half printed.
    assert m.wait_exit(allow_panic=True) == 1
    found = re.search(r"^panic: hart \d+: trap: .*$", m.log, re.MULTILINE)
    assert found, "no 'panic: hart N: trap: ...' line"
    line = found.group(0)
    assert "scause 0xd (load page fault)" in line, line
    assert re.search(r"sepc 0xffffffc0[0-9a-f]+ ", line), f"no kernel sepc in: {line}"
    assert re.search(r"stval 0 ", line), f"stval is not the address read (0): {line}"


def kernel_symbols():
    """{name: address} of the kernel's functions, from build/kern/kernel.sym."""
    path = os.path.join(os.path.dirname(load_config(REPO_ROOT).kernel), "kernel.sym")
    symbols = {}
    with open(path, encoding="utf-8") as f:
        for words in (line.split() for line in f):
            if len(words) == 3 and words[1] in "tT":
                symbols.setdefault(words[2], int(words[0], 16))
    return symbols


@pytest.mark.parametrize("cpus", [1, 4])
def test_panic_report_is_symbolized(shuttle, cpus):
    """A kernel fault's panic decodes the trap, names each backtrace frame, and shows every hart"""
    m = shuttle.boot(cpus=cpus, bootargs="panic=trap")
    assert m.wait_exit(allow_panic=True) == 1
    report = m.log[m.log.index("panic: "):]
    symbols = kernel_symbols()

    def check_frame(address, name, offset):
        # The name and offset must be the symbol table's: name's address + offset.
        assert name in symbols, f"{name} is not a kernel function (kernel.sym)"
        assert symbols[name] + int(offset, 16) == int(address, 16), \
            f"{address} is not {name}+{offset}: {name} is at {symbols[name]:#x}"

    trap = re.search(r"^  trap: load page fault \(scause 0xd\) at (0x[0-9a-f]+) (\w+)\+(0x[0-9a-f]+|0), "
                     r"stval 0$", report, re.MULTILINE)
    assert trap, f"no decoded trap line naming the faulting function:\n{report}"
    check_frame(*trap.groups())
    assert re.search(r"^  running: no thread \(boot, or the idle loop\)$", report, re.MULTILINE), \
        report

    assert "\nbacktrace:\n" in report, report
    frames = re.findall(r"^  (0x[0-9a-f]+) (\w+)\+(0x[0-9a-f]+|0)( \(the trapped instruction\))?$",
                        report, re.MULTILINE)
    names = [f[1] for f in frames]
    for address, name, offset, _ in frames:
        # A return address may end its function (a call to a noreturn one): name+size.
        check_frame(address, name, offset)
    # From panic down through the trap to the code that faulted and its callers.
    assert "panic_trap" in names and "kernel_trap" in names and "kernelvec" in names, names
    trapped = [f[1] for f in frames if f[3]]
    assert trapped == [trap.group(2)], f"the trapped instruction is not {trap.group(2)}: {frames}"
    assert names.index("kernel_trap") < names.index("kernelvec") < names.index(trapped[0]), names
    assert len(names) > names.index(trapped[0]) + 1, f"no caller below the trap: {names}"

    others = re.findall(r"^  hart (\d+): (no thread|thread \d+|offline)", report, re.MULTILINE)
    if cpus == 1:
        assert "other harts:" not in report and not others, report
    else:
        assert "\nother harts:\n" in report, report
        panicked = int(re.search(r"^panic: hart (\d+):", report, re.MULTILINE).group(1))
        assert sorted(int(h) for h, _ in others) == sorted(set(range(cpus)) - {panicked}), \
            f"want a line for each other hart:\n{report}"


@pytest.mark.points(5)
def test_clean_poweroff_exits_zero(shuttle):
    """A clean poweroff makes QEMU exit 0"""
    m = boot_and_power_off(shuttle, cpus=4)
    assert "boot: powering off" in m.log


def test_no_preemption_is_caught(shuttle):
    """The preemption self-test fails when the quantum is too long to preempt"""
    m = shuttle.boot(cpus=2, bootargs="ktest=sched_preempt quantum=1000000")
    with pytest.raises(AssertionError, match="no preemption"):
        m.expect_test("sched_preempt")
    assert m.wait_exit() == 3


def test_boots_under_icount(shuttle):
    """Boot and self-tests under -icount shift=0 (the benchmark mode)"""
    m = shuttle.boot(cpus=4, icount=True, bootargs="ktest=spinlock,timer")
    m.expect(r"^4 harts online$")
    m.expect_test("spinlock")
    m.expect_test("timer")
    assert m.wait_exit() == 0


def test_gdb_stops_at_entry(shuttle, tmp_path):
    """GDB stops at the kernel's entry with symbols, and tp holds per-hart state"""
    gdb = shutil.which("gdb-multiarch")
    assert gdb, "gdb-multiarch not found: install it with `apt-get install gdb-multiarch`"
    port = 27000 + os.getpid() % 2000
    m = shuttle.boot(cpus=2, bootargs="poweroff", gdb_port=port)
    kernel = load_config(REPO_ROOT).kernel
    script = tmp_path / "gdbinit"
    script.write_text(
        "set confirm off\nset pagination off\n"
        f"file {kernel}\ntarget remote 127.0.0.1:{port}\n"
        "break _start\ncontinue\n"
        "printf \"PC=%lx\\n\", $pc\ninfo symbol $pc\n"
        "break boot_main\ncontinue\n"
        "printf \"TP=%lx\\n\", $tp\ninfo symbol $tp\n"
        "kill\nquit\n")
    out = subprocess.run([gdb, "-q", "-nx", "-batch", "-x", str(script)],
                         capture_output=True, text=True, timeout=120).stdout
    assert "PC=80200000" in out, f"GDB did not stop at 0x80200000:\n{out}"
    assert "_start in section .text.boot" in out, f"no _start symbol at the entry:\n{out}"
    # At boot_main, tp already points at the early per-hart state.
    assert "early_hart in section" in out, f"tp is not the boot hart's state:\n{out}"
