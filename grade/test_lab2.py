"""Lab 2 — A user-level server (lab/lab2.md). 100 points.

Exercise 1 answers KVS_PUT, KVS_GET and KVS_DELETE in the key-value server with its
bounds (user/servers/kvs.c), exercise 2 KVS_LIST, exercise 3 writes the client stubs
(user/lib/kvs.c) and the kv command's calls (user/bin/kv.c). kvstests (user/bin/kvstests.c)
tests all of it from user space, one test per boot, at 1, 2, 4 and 8 harts; then the kv command
is typed at the shell on the console, as a user would. Exercise 4 (measuring) is read by
the instructors, not graded here.
"""

import re

import pytest

PROMPT = r"^\$ $"   # the shell's prompt, at the start of a line, nothing typed yet


def run_kvstest(shuttle, name, cpus):
    shuttle.run_test(name, cpus=cpus, bootargs=f"run=kvstests kvstests={name}",
                     started=r"init: starting ns, con, pm, fs, kvs")


@pytest.mark.points(4)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_protocol(shuttle, cpus):
    """kvs: put, get, overwrite, delete and list through the client, any bytes in values"""
    run_kvstest(shuttle, "protocol", cpus)


@pytest.mark.points(3.5)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_bounds(shuttle, cpus):
    """kvs: each bound gives its error (E_TOOBIG, E_INVAL, E_LIMIT, E_NOENT)"""
    run_kvstest(shuttle, "bounds", cpus)


@pytest.mark.points(3)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_bad_requests(shuttle, cpus):
    """kvs: malformed raw requests are refused with an error, and kvs keeps serving"""
    run_kvstest(shuttle, "bad_requests", cpus)


@pytest.mark.points(4.5)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_concurrency(shuttle, cpus):
    """kvs: 8 client threads on every hart; each read sees what some writer wrote"""
    run_kvstest(shuttle, "concurrency", cpus)


@pytest.mark.points(4)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_restart(shuttle, cpus):
    """kvs: killed and restarted by init mid-run; clients see at most E_DEAD, then go on"""
    run_kvstest(shuttle, "restart", cpus)


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_kv_command(shuttle, cpus):
    """kv: what it prints, its messages on stderr and its exit statuses"""
    run_kvstest(shuttle, "kv_command", cpus)


# --- the kv command at the shell ---

def boot_shell(shuttle, cpus):
    m = shuttle.boot(cpus=cpus, timeout=60)
    m.expect(r"init: starting ns, con, pm, fs, kvs")
    m.expect(PROMPT)
    return m


def run(m, line, timeout=30):
    """Types line, waits for the next prompt; returns the lines printed in between (the
    echoed command line left out)."""
    start = len(m.log)
    m.sendline(line)
    m.expect(PROMPT, timeout=timeout)
    out = m.log[start:]
    return out[:out.rfind("$ ")].split("\n")[1:]


@pytest.mark.points(2.5)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_kv_at_the_shell(shuttle, cpus):
    """kv put, get, list and del typed at the shell: kvs keeps values between commands"""
    m = boot_shell(shuttle, cpus)
    out = run(m, "kv put greeting 'hello world'")
    assert not [line for line in out if line.strip()], f"`kv put` printed {out}"
    run(m, "kv put colour blue")
    out = run(m, "kv get greeting")
    assert "hello world" in out, f"`kv get greeting` printed {out}"
    out = run(m, "kv list")
    assert "greeting" in out and "colour" in out, f"`kv list` printed {out}"
    assert out.index("colour") < out.index("greeting"), f"`kv list` is not in order: {out}"
    run(m, "kv put colour green")
    assert "green" in run(m, "kv get colour"), "`kv put` did not replace the value"
    run(m, "kv del colour")
    out = run(m, "kv list")
    assert "colour" not in out and "greeting" in out, \
        f"after `kv del colour`, `kv list` printed {out}"


@pytest.mark.points(1.5)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_kv_errors_at_the_shell(shuttle, cpus):
    """kv's errors at the shell: a missing key, a key too long, a bad command line"""
    m = boot_shell(shuttle, cpus)
    out = "\n".join(run(m, "kv get nosuchkey"))
    assert re.search(r"^kv: get nosuchkey: no such key$", out, re.MULTILINE), \
        f"`kv get nosuchkey` printed {out!r}"
    out = "\n".join(run(m, "kv del nosuchkey"))
    assert re.search(r"^kv: del nosuchkey: no such key$", out, re.MULTILINE), \
        f"`kv del nosuchkey` printed {out!r}"
    out = "\n".join(run(m, "kv put " + "k" * 65 + " v"))
    assert re.search(r"^kv: put: the key is 65 bytes, at most 64$", out, re.MULTILINE), \
        f"a 65-byte key: kv printed {out!r}"
    out = "\n".join(run(m, "kv frobnicate"))
    assert re.search(r"^usage: kv ", out, re.MULTILINE), f"`kv frobnicate` printed {out!r}"
    assert "ok" in run(m, "echo ok"), "the shell did not go on"
