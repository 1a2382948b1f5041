"""One Shuttle kernel running in QEMU, driven through its serial console.

conftest.py builds these for the `shuttle` fixture; a Machine also works on its own:

    config = load_config()          # reads build/shuttle.json; run from the repo root
    m = Machine(config, "build/grade-logs/try.log", bootargs="ktest=all")
    m.expect_test("alloc.basic")
    m.kill()

The console contract (see DESIGN.md, "Grading and the output contract"):

- Every boot gets a fresh random nonce, passed to the kernel as `nonce=<hex>` in its bootargs.
- A test reports `TEST <name>: ok <nonce>` or `TEST <name>: FAIL <why...> <nonce>`. A line
  whose last word is not this boot's nonce is ignored, so a hard-coded line proves nothing.
- A line starting with `panic: ` is a kernel panic. Waiting for anything else stops at once
  when one appears, unless the caller passes allow_panic=True.

Carriage returns are dropped from the console output, so every line ends with "\\n" and `$`
in a pattern means the end of a line.
"""

import json
import os
import re
import secrets
import shlex
import signal
import time
from dataclasses import dataclass
from typing import Optional

import pexpect

DEFAULT_TIMEOUT = 60      # seconds; multiplied by $SHUTTLE_TIMEOUT_SCALE
TAIL_LINES = 30           # console lines shown when something goes wrong
PANIC_LINE = re.compile(r"^panic: [^\n]*\n", re.MULTILINE)
BIOS_KEYWORDS = ("default", "none")

# Where the console goes. Plain `-nographic` puts a monitor multiplexer on stdio: ^C does
# reach the guest, but ^A is QEMU's escape key (^A x quits QEMU), and `-nographic -monitor
# none` or `-serial stdio` let ^C kill QEMU. A stdio chardev with signal=off hands every
# byte, ^C and ^A included, to the guest's UART (checked with QEMU 7.2 and a UART echo
# program), and there is no monitor at all.
CONSOLE_ARGS = ["-chardev", "stdio,id=ttyS0,signal=off", "-serial", "chardev:ttyS0",
                "-display", "none", "-monitor", "none"]


class ConfigError(Exception):
    """The build configuration is missing or unusable: the fix is to run scons."""


class ShuttleError(AssertionError):
    """A machine did not do what the test waited for. The message ends with the console tail."""

    def __init__(self, machine, summary):
        self.machine = machine
        self.summary = summary
        super().__init__(f"{summary}\n{machine.console_report()}")


class ConsoleTimeout(ShuttleError):
    """Waited too long for something on the console."""


class KernelPanic(ShuttleError):
    """A `panic: ` line appeared while waiting for something else."""


class QemuExited(ShuttleError):
    """QEMU exited while the test was still waiting for output."""


class KernelTestFailed(ShuttleError):
    """The kernel reported `TEST <name>: FAIL <why> <nonce>`."""


@dataclass(frozen=True)
class Config:
    """build/shuttle.json, with paths made absolute."""
    qemu: str
    machine: str
    bios: str
    kernel: str
    initrd: Optional[str]
    cpus: int
    mem: str
    root: str


def load_config(repo_root="."):
    """Read $SHUTTLE_CONFIG, or build/shuttle.json under repo_root (written by scons)."""
    path = os.environ.get("SHUTTLE_CONFIG")
    shown = path or "build/shuttle.json"
    path = path or os.path.join(repo_root, "build", "shuttle.json")
    if not os.path.exists(path):
        raise ConfigError(f"{shown} not found: run `scons` first (or `scons test`)")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    missing = [k for k in ("qemu", "machine", "bios", "kernel", "cpus", "mem") if k not in data]
    if missing:
        raise ConfigError(f"{shown} has no {', '.join(missing)}: run `scons` again")
    root = os.path.join(repo_root, data.get("root") or ".")

    def file(value):
        return os.path.normpath(os.path.join(root, value)) if value else None

    qemu = data["qemu"]
    bios = data["bios"]
    return Config(qemu=file(qemu) if "/" in qemu else qemu,   # a bare name is found on PATH
                  machine=data["machine"],
                  bios=bios if bios in BIOS_KEYWORDS else file(bios),
                  kernel=file(data["kernel"]),
                  initrd=file(data.get("initrd")),
                  cpus=int(data["cpus"]),
                  mem=str(data["mem"]),
                  root=os.path.normpath(root))


def check_files(config):
    """Fail with a clear message when the kernel (or bios, initrd) has not been built."""
    for what, path in (("kernel", config.kernel), ("bios", config.bios), ("initrd", config.initrd)):
        if path and path not in BIOS_KEYWORDS and not os.path.exists(path):
            raise ConfigError(f"{what} {path} not found: run `scons` first")


def qemu_command(config, bootargs, *, cpus=None, mem=None, machine=None, icount=False,
                 gdb_port=None, extra_args=()):
    """The QEMU command line for one boot, as a list of arguments."""
    cmd = [config.qemu,
           "-machine", machine or config.machine,
           "-bios", config.bios,
           "-kernel", config.kernel,
           "-smp", str(cpus or config.cpus),
           "-m", str(mem or config.mem)]
    cmd += CONSOLE_ARGS
    if config.initrd:
        cmd += ["-initrd", config.initrd]
    if icount:
        cmd += ["-icount", "shift=0,sleep=off"]  # counts repeat; idle time does not run on
    if gdb_port:
        cmd += ["-S", "-gdb", f"tcp:127.0.0.1:{gdb_port}"]   # wait for GDB; localhost only
    cmd += ["-append", bootargs]
    return cmd + list(extra_args)


def parse_test_line(line, nonce):
    """(name, ok, why) for a `TEST <name>: ok|FAIL ... <nonce>` line, else None."""
    words = line.split()
    if not words or words[-1] != nonce:
        return None
    m = re.match(r"TEST (\S+): (ok|FAIL)\b ?(.*)$", line.rstrip()[:-len(nonce)].rstrip())
    if not m:
        return None
    return m.group(1), m.group(2) == "ok", m.group(3).strip()


class _Spawn(pexpect.spawn):
    """pexpect.spawn that drops carriage returns, so console lines end with "\\n"."""

    def read_nonblocking(self, size=1, timeout=-1):
        return super().read_nonblocking(size, timeout).replace("\r", "")


class _ConsoleLog:
    """pexpect's logfile_read: keeps everything the console printed and copies it to a file."""

    def __init__(self, path, command):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._file = open(path, "w", encoding="utf-8")
        self._file.write(f"# {shlex.join(command)}\n")
        self.text = ""

    def write(self, s):
        s = s.replace("\r", "")
        self.text += s
        if not self._file.closed:
            self._file.write(s)

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        self._file.close()


class Machine:
    """A running QEMU. Methods wait on its console; kill() stops it."""

    def __init__(self, config, log_path, *, cpus=None, mem=None, bootargs="", icount=False,
                 timeout=DEFAULT_TIMEOUT, machine=None, gdb_port=None, extra_args=()):
        check_files(config)
        self.nonce = secrets.token_hex(6)
        self.bootargs = f"{bootargs} nonce={self.nonce}".strip()
        self.command = qemu_command(config, self.bootargs, cpus=cpus, mem=mem, machine=machine,
                                    icount=icount, gdb_port=gdb_port, extra_args=extra_args)
        self.log_path = log_path
        self.timeout = timeout
        self.timeout_scale = float(os.environ.get("SHUTTLE_TIMEOUT_SCALE") or 1)
        self._console = _ConsoleLog(log_path, self.command)
        try:
            self._child = _Spawn(self.command[0], self.command[1:], encoding="utf-8",
                                 codec_errors="replace", echo=False)
        except pexpect.ExceptionPexpect as e:
            self._console.close()
            raise ConfigError(f"cannot start QEMU: {e}") from None
        self._child.logfile_read = self._console

    # --- what the console printed ---

    @property
    def log(self):
        """Everything the console printed so far."""
        return self._console.text

    @property
    def pid(self):
        return self._child.pid

    def is_alive(self):
        return not self._child.closed and self._child.isalive()

    def tail(self, lines=TAIL_LINES):
        return "\n".join(self.log.rstrip("\n").split("\n")[-lines:])

    def console_report(self, lines=TAIL_LINES):
        """The last console lines and where the whole log is, for error messages."""
        tail = self.tail(lines) if self.log.strip() else "(the console printed nothing)"
        return (f"--- last {lines} console lines (full log: {self.log_path}) ---\n"
                f"{tail}\n--- end of console ---")

    def test_results(self):
        """{name: (ok, why)} for every TEST line so far that carries this boot's nonce.
        A FAIL is kept even if the same test later says ok."""
        results = {}
        for line in self.log.split("\n"):
            parsed = parse_test_line(line, self.nonce)
            if parsed and results.get(parsed[0], (True,))[0]:
                results[parsed[0]] = parsed[1:]
        return results

    # --- waiting ---

    def expect(self, pattern, timeout=None, allow_panic=False):
        """Wait for a regex (`^` and `$` match at line ends) in new console output.
        Returns the re.Match. Fails fast on a panic line unless allow_panic."""
        __tracebackhide__ = True    # pytest shows the test's line, not this one
        if isinstance(pattern, str):
            pattern = re.compile(pattern, re.MULTILINE)
        return self._wait(pattern, f"/{pattern.pattern}/", timeout, allow_panic)

    def expect_test(self, name, timeout=None):
        """Wait for `TEST <name>: ...` with this boot's nonce; raise KernelTestFailed on FAIL."""
        __tracebackhide__ = True
        if name not in self.test_results():
            line = re.compile(rf"^TEST {re.escape(name)}: (ok|FAIL)\b[^\n]* {self.nonce}\n",
                              re.MULTILINE)
            try:
                self._wait(line, f"`TEST {name}: ok`", timeout, allow_panic=False)
            except ConsoleTimeout as e:
                raise ConsoleTimeout(self, e.summary + self._ignored_lines(name)) from None
        ok, why = self.test_results()[name]
        if not ok:
            raise KernelTestFailed(self, f"kernel test {name} failed: {why or '(no reason given)'}")

    def wait_exit(self, timeout=None, allow_panic=False):
        """Wait for QEMU to exit by itself; return its exit status (-N if killed by signal N)."""
        __tracebackhide__ = True
        self._wait(pexpect.EOF, "QEMU to exit", timeout, allow_panic)
        return self._exit_status()

    def _wait(self, pattern, what, timeout, allow_panic):
        __tracebackhide__ = True
        patterns = [pattern] + ([] if pattern is pexpect.EOF else [pexpect.EOF])
        patterns += [] if allow_panic else [PANIC_LINE]
        seconds = (self.timeout if timeout is None else timeout) * self.timeout_scale
        try:
            got = patterns[self._child.expect(patterns, timeout=seconds)]
        except pexpect.TIMEOUT:
            summary = f"timed out after {seconds:g} s waiting for {what}"
            raise ConsoleTimeout(self, summary) from None
        if got is PANIC_LINE:
            panic = self._child.match.group(0).strip()
            self.drain()      # let the rest of the panic message reach the log
            raise KernelPanic(self, f"kernel panic while waiting for {what}:\n    {panic}")
        if got is pexpect.EOF and pattern is not pexpect.EOF:
            raise QemuExited(self, f"QEMU exited (status {self._exit_status()}) "
                                   f"while waiting for {what}")
        return self._child.match

    def _ignored_lines(self, name):
        ignored = [line for line in self.log.split("\n") if line.startswith(f"TEST {name}:")]
        if not ignored:
            return ""
        return ("\n(ignored, not ending in this boot's nonce "
                f"{self.nonce}: {'; '.join(ignored[:3])})")

    def _exit_status(self):
        status = self._child.wait()
        return status if status is not None else -self._child.signalstatus

    def drain(self, seconds=0.5):
        """Copy output already on its way into the log, for at most `seconds`. expect() does
        not see what this reads: use it when the test is over."""
        deadline = time.monotonic() + seconds
        while not self._child.closed and time.monotonic() < deadline:
            try:
                self._child.read_nonblocking(65536, timeout=0.1)
            except (pexpect.TIMEOUT, pexpect.EOF):
                return

    # --- typing ---

    def send(self, text):
        self._child.send(text)

    def sendline(self, text=""):
        """Type a line and press Enter, which on a terminal sends a carriage return."""
        self._child.send(text + "\r")

    def sendcontrol(self, char):
        """Type a control character: sendcontrol("c") sends ^C to the kernel."""
        self._child.sendcontrol(char)

    # --- stopping ---

    def kill(self, grace=3.0):
        """Stop QEMU: SIGTERM, then SIGKILL after `grace` seconds. Safe to call again."""
        if self._child.closed:
            return
        self.drain(0.2)
        if self._child.isalive():
            self._child.kill(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self._child.isalive() and time.monotonic() < deadline:
                time.sleep(0.02)
            if self._child.isalive():
                self._child.kill(signal.SIGKILL)
        self._child.close(force=True)
        self._console.close()


class Boots:
    """Machines booted once each and run to their power-off, kept for every test that
    reads them (a grader boots once per program and configuration, not once per test).
    A module makes one in a fixture and calls kill_all() when its tests are over."""

    def __init__(self, config, prefix):
        self.config = config
        self.prefix = prefix
        self.machines = {}

    def run(self, cpus, bootargs, *, icount=False, machine=None, timeout=300):
        """(Machine, exit status) after the boot's power-off; status None: it timed out."""
        key = (cpus, bootargs, icount, machine)
        if key not in self.machines:
            label = f"{self.prefix}-{bootargs}-{cpus}" + ("-icount" if icount else "")
            if machine:
                label += f"-{machine}"
            name = re.sub(r"[^\w.=-]+", "_", label)[:200]
            log = os.path.join(self.config.root, "build", "grade-logs", name + ".log")
            m = Machine(self.config, log, cpus=cpus, bootargs=bootargs, icount=icount,
                        machine=machine, timeout=timeout)
            try:
                status = m.wait_exit(timeout=timeout, allow_panic=True)
            except ShuttleError:
                status = None
            m.kill()
            self.machines[key] = (m, status)
        return self.machines[key]

    def kill_all(self):
        for m, _ in self.machines.values():
            m.kill()


def expect_ok(m, status, name):
    """The boot reported `TEST name: ok` (with its nonce) and did not panic."""
    __tracebackhide__ = True
    panic = re.search(r"^panic: .*$", m.log, re.MULTILINE)
    assert not panic, f"the kernel panicked: {panic.group(0)}\n{m.console_report()}"
    ok, why = m.test_results().get(name, (False, "no TEST line"))
    assert ok, f"TEST {name}: {why}\n{m.console_report()}"
