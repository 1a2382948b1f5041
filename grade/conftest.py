"""The Shuttle grader: pytest boots your kernel in QEMU and reads its console.

A grading test looks like this:

    @pytest.mark.points(5)
    def test_harts_online(shuttle):
        '''All harts come online'''
        m = shuttle.boot(cpus=4, bootargs="ktest=smp")
        m.expect(r"4 harts online")
        m.expect_test("smp.hello")

`shuttle.boot()` starts QEMU with the kernel that scons built (build/shuttle.json says where
it is) and returns a Machine (see shuttle_qemu.py). Each boot gets a random nonce in its
bootargs; a kernel test reports `TEST <name>: ok <nonce>` or `TEST <name>: FAIL <why> <nonce>`,
and lines without the right nonce are ignored. A `panic: ` line fails the test at once.

Every machine is killed when its test ends, pass or fail. Its console is saved in
build/grade-logs/<test>.log, and a failing test shows the last console lines.

The test's title is the first line of its docstring. Tests marked points(N) are listed at the
end with their points, then `Score: X/Y`. `--gradescope results.json` also writes the score in
Gradescope's format. $SHUTTLE_TIMEOUT_SCALE multiplies every timeout (e.g. 3 on a slow machine).

Most tests run at several hart counts (a `cpus` parameter). `--harts 4` (or $SHUTTLE_HARTS,
e.g. "1,4") runs only those: a quick check while you work; the grade is all of them.
`--points-file F` writes the points of the collected tests to F (with --collect-only: the
most a grader gives, without running it).
"""

import json
import os
import re

import pytest

from shuttle_qemu import DEFAULT_TIMEOUT, ConfigError, Machine, ShuttleError, load_config

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MACHINES = pytest.StashKey()   # item.stash[MACHINES]: the test's Shuttle, for failure reports


# --- options and markers ---

def pytest_addoption(parser):
    parser.addoption("--gradescope", metavar="PATH",
                     help="also write the score as a Gradescope results.json to PATH")
    parser.addoption("--harts", metavar="LIST", default=os.environ.get("SHUTTLE_HARTS", ""),
                     help="run only the tests at these hart counts, e.g. 4 or 1,4 "
                          "(default $SHUTTLE_HARTS, else all)")
    parser.addoption("--points-file", metavar="PATH",
                     help="write the total points of the collected tests to PATH")


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the test is worth n points")
    config.pluginmanager.register(Scoreboard(config), "shuttle-scoreboard")


# --- the fixture ---

class Shuttle:
    """Boots machines for one test; each is killed when the test ends (pytest finalizer)."""

    def __init__(self, test_id, at_teardown):
        self.test_id = test_id
        self.at_teardown = at_teardown
        self.machines = []

    def boot(self, *, cpus=None, mem=None, bootargs="", icount=False, timeout=DEFAULT_TIMEOUT,
             machine=None, gdb_port=None, extra_args=()):
        """Start QEMU and return its Machine. cpus and mem default to build/shuttle.json's."""
        try:
            config = load_config(REPO_ROOT)
            m = Machine(config, self._log_path(config.root), cpus=cpus, mem=mem,
                        bootargs=bootargs, icount=icount, timeout=timeout, machine=machine,
                        gdb_port=gdb_port, extra_args=extra_args)
        except ConfigError as e:
            problem = str(e)
        else:
            self.at_teardown(m.kill)
            self.machines.append(m)
            return m
        pytest.fail(problem, pytrace=False)     # a plain message: the fix is to run scons

    def run_test(self, name, *, cpus, bootargs, started, icount=False):
        """Boot with bootargs (which select one test of a user test program), wait for the
        line `started` (init is up), then for test `name`'s TEST line, then for a clean
        poweroff: init powers off with the program's verdict."""
        m = self.boot(cpus=cpus, bootargs=bootargs, timeout=120, icount=icount)
        m.expect(started)
        m.expect_test(name, timeout=300)
        status = m.wait_exit(timeout=120)
        assert status == 0, f"init powered off with status {status}: a test failed"
        return m

    def _log_path(self, root):
        name = re.sub(r"[^\w.=-]+", "_", self.test_id).strip("_")
        suffix = f"-{len(self.machines) + 1}" if self.machines else ""
        return os.path.join(root, "build", "grade-logs", f"{name}{suffix}.log")


@pytest.fixture
def shuttle(request):
    """Boots Shuttle in QEMU: `m = shuttle.boot(cpus=4, bootargs="ktest=all")`."""
    s = Shuttle(request.node.nodeid, request.addfinalizer)
    request.node.stash[MACHINES] = s
    return s


# --- failure reports: show the console ---

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, add each machine's console tail and log path to the report."""
    report = (yield).get_result()
    s = item.stash.get(MACHINES, None)
    if not report.failed or s is None:
        return
    error = call.excinfo.value if call.excinfo else None
    for m in s.machines:
        if isinstance(error, ShuttleError) and error.machine is m:
            continue      # the error message already shows this console
        m.drain(0.2)
        report.sections.append(("shuttle console", m.console_report()))


# --- points and score ---

def pytest_collection_modifyitems(config, items):
    """--harts deselects; tests marked points(N) carry their title and points in
    user_properties."""
    only_harts(config, items)
    for item in items:
        marker = item.get_closest_marker("points")
        if marker is None:
            continue
        if len(marker.args) != 1 or not isinstance(marker.args[0], (int, float)):
            raise pytest.UsageError(f"{item.nodeid}: write @pytest.mark.points(N)")
        item.user_properties += [("title", title_of(item)), ("points", marker.args[0])]


def only_harts(config, items):
    """Keeps the tests whose cpus parameter is in --harts (and those without one)."""
    wanted = config.getoption("harts")
    if not wanted:
        return
    try:
        harts = {int(h) for h in wanted.split(",")}
    except ValueError:
        raise pytest.UsageError(f"--harts {wanted}: give hart counts, e.g. 4 or 1,4") from None
    keep, drop = [], []
    for item in items:
        cpus = getattr(item, "callspec", None) and item.callspec.params.get("cpus")
        (drop if cpus is not None and cpus not in harts else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session):
    path = session.config.getoption("points_file")
    if path:
        total = sum(dict(item.user_properties).get("points", 0) for item in session.items)
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"{total:g}\n")


def title_of(item):
    """First line of the docstring (else the test's name), then its parameters if any."""
    doc = getattr(getattr(item, "function", None), "__doc__", None) or ""
    title = doc.strip().split("\n")[0].strip() or getattr(item, "originalname", item.name)
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return title
    simple = all(isinstance(v, (int, float, str, bool, type(None)))
                 for v in callspec.params.values())
    params = ", ".join(f"{k}={v}" for k, v in callspec.params.items()) if simple else callspec.id
    return f"{title} [{params}]"


class Scoreboard:
    """Adds up the points. Registered as a plugin; it reads the test reports, so it also
    works with pytest-xdist (the reports reach the controller)."""

    def __init__(self, config):
        self.config = config
        self.tests = {}    # nodeid -> {"name", "max_score", "passed", "output"}

    def pytest_runtest_logreport(self, report):
        props = dict(report.user_properties)
        if "points" not in props:
            return
        t = self.tests.setdefault(report.nodeid, {"name": props["title"], "passed": None,
                                                  "max_score": props["points"], "output": ""})
        if report.failed or report.skipped:     # in setup, call or teardown
            t["passed"] = False
            t["output"] = t["output"] or short_failure(report)
        elif report.when == "call" and t["passed"] is None:
            t["passed"] = True

    def rows(self):
        return [dict(t, passed=bool(t["passed"]), score=t["max_score"] if t["passed"] else 0)
                for t in self.tests.values()]

    def pytest_terminal_summary(self, terminalreporter):
        rows = self.rows()
        if not rows:
            return
        terminalreporter.section("Shuttle score")
        points = [f"{num(r['score'])}/{num(r['max_score'])}" for r in rows]
        width = max(len(r["name"]) for r in rows)
        pwidth = max(len(p) for p in points)
        for r, p in zip(rows, points):
            verdict = "PASS" if r["passed"] else "FAIL"
            terminalreporter.line(f"  {r['name']:<{width}}  {p:>{pwidth}}  {verdict}")
        score = sum(r["score"] for r in rows)
        terminalreporter.line(f"Score: {num(score)}/{num(sum(r['max_score'] for r in rows))}")

    def pytest_sessionfinish(self):
        path = self.config.getoption("gradescope")
        if path and not hasattr(self.config, "workerinput"):   # not in an xdist worker
            write_gradescope(path, self.rows())


def short_failure(report):
    """The error message and the console tails: what Gradescope shows for a failed test."""
    if report.skipped:
        return "skipped"
    crash = getattr(report.longrepr, "reprcrash", None)
    parts = [crash.message if crash else str(report.longrepr)]
    parts += [text for name, text in report.sections if name == "shuttle console"]
    return "\n".join(parts)[:6000]


def num(x):
    return f"{x:g}"


def write_gradescope(path, rows):
    results = {"score": sum(r["score"] for r in rows),
               "max_score": sum(r["max_score"] for r in rows),
               "tests": [{k: r[k] for k in ("name", "score", "max_score", "output")}
                         for r in rows],
               "visibility": "visible"}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
