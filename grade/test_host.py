"""The host unit tests: the kernel's pure code (printf, boot arguments, the device tree
reader and the platform code) built for this machine under AddressSanitizer and UBSan.

`scons` builds them into build/host (see grade/host/SConscript); each is a program that
prints one line per failed check and a summary, and exits non-zero when a check failed.
Then QEMU's own device trees, dumped with `-machine virt,dumpdtb=PATH` for 1, 4 and 8 harts
and three memory sizes, are read by test_fdt and checked against the command line.

These are not lab tests: they carry no points.
"""

import os
import shutil
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST_BUILD = os.path.join(REPO_ROOT, "build", "host")
HOST_TESTS = ["test_fmt", "test_bootargs", "test_fdt", "test_elf", "test_cpio", "test_string"]
TIMEOUT = 60 * float(os.environ.get("SHUTTLE_TIMEOUT_SCALE", "1"))   # each takes < 5 s
QEMU_MEM_MIB = {"128M": 128, "256M": 256, "1G": 1024}


def host_test(name):
    """The path of a built host test program; fails the test when scons has not built it."""
    path = os.path.join(HOST_BUILD, name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{os.path.relpath(path, REPO_ROOT)} not found: run `scons` first",
                    pytrace=False)
    return path


def run(argv):
    """Runs a test program; returns its exit status and its output (stdout and stderr,
    where the sanitizers report)."""
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", timeout=TIMEOUT, cwd=REPO_ROOT)
    return r.returncode, r.stdout


def check_passed(name, status, output):
    how = f"killed by signal {-status}" if status < 0 else f"exited with status {status}"
    assert status == 0, f"{name} {how}:\n{output}"
    assert f"{name}: " in output and ", 0 failed" in output, \
        f"{name} exited 0 without its summary line:\n{output}"


@pytest.mark.parametrize("name", HOST_TESTS)
def test_host_program(name):
    """Host unit test passes under AddressSanitizer and UBSan"""
    status, output = run([host_test(name)])
    check_passed(name, status, output)


def dump_qemu_dtb(path, harts, mem, aclint=False):
    """QEMU's device tree for the virt machine; QEMU exits as soon as it has written it."""
    machine = "virt,aclint=on" if aclint else "virt"
    qemu = shutil.which("qemu-system-riscv64")
    if not qemu:
        pytest.fail("qemu-system-riscv64 not found: install qemu-system-misc", pytrace=False)
    argv = [qemu, "-machine", f"{machine},dumpdtb={path}", "-smp", str(harts), "-m", mem,
            "-display", "none"]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", timeout=TIMEOUT)
    assert r.returncode == 0 and os.path.exists(path), \
        f"{' '.join(argv)} exited with status {r.returncode}:\n{r.stdout}"


@pytest.mark.parametrize("aclint", [False, True])
@pytest.mark.parametrize("mem", list(QEMU_MEM_MIB))
@pytest.mark.parametrize("harts", [1, 4, 8])
def test_qemu_device_tree(tmp_path, harts, mem, aclint):
    """The device tree reader finds QEMU's harts, memory, timebase, UART, PLIC, ACLINT SSWI
    (aclint=on) and test device"""
    test_fdt = host_test("test_fdt")
    dtb = str(tmp_path / f"virt-{harts}-{mem}-{int(aclint)}.dtb")
    dump_qemu_dtb(dtb, harts, mem, aclint)
    status, output = run([test_fdt, "--dtb", dtb, "--harts", str(harts),
                          "--mem-mib", str(QEMU_MEM_MIB[mem]), "--aclint", str(int(aclint))])
    check_passed("test_fdt", status, output)
