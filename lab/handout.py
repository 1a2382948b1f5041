"""Writes the student tree for lab N: `scons handout LAB=N [DEST=dir]`.

The repository is the reference solution. Solution code for lab K stands in

    // LAB K exercise J: what to do (a comment the handout keeps, above the stub)
    #if SOL >= K
    ... the solution ...
    #else
    ... the student's stub: it compiles, and fails clearly ...
    #endif

(the #else part may be absent when the stub is "nothing"). The handout of lab N keeps
the solutions of the labs before N and the stubs of lab N and later: unifdef -DSOL=N-1
over every C, header and assembly file. Everything else git tracks is copied as it is:
the lab texts, the graders, the build. Nothing of the reference's solutions for lab N
or later survives in the handout; check_clean() makes sure.
"""

import os
import shutil
import subprocess
import sys

C_FAMILY = (".c", ".h", ".S")
MARKER = "#if SOL >="


def tracked_files(root):
    """The files git tracks (the handout never includes build output or stray files)."""
    out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True,
                         check=True).stdout.decode()
    return [f for f in out.split("\0") if f]


def strip_solutions(src, dst, sol):
    """unifdef exits 0 when it changed nothing, 1 when it changed the file, 2 on error."""
    result = subprocess.run(["unifdef", "-DSOL=%d" % sol, "-o", dst, src],
                            capture_output=True, text=True)
    if result.returncode not in (0, 1):
        raise SystemExit("handout: unifdef failed on %s: %s" % (src, result.stderr.strip()))


def has_marker(path):
    with open(path, errors="replace") as f:
        return MARKER in f.read()


def check_clean(dest):
    """No solution marker may remain: every one was resolved one way or the other."""
    for dirpath, _, files in os.walk(dest):
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith(C_FAMILY) and has_marker(path):
                raise SystemExit("handout: %s still has a solution marker" % path)


def write(root, lab, dest):
    dest = os.path.join(root, dest) if not os.path.isabs(dest) else dest
    if os.path.exists(dest):
        shutil.rmtree(dest)
    for rel in tracked_files(root):
        src, dst = os.path.join(root, rel), os.path.join(dest, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if rel.endswith(C_FAMILY) and has_marker(src):
            strip_solutions(src, dst, lab - 1)
        else:
            shutil.copy2(src, dst)  # unifdef would stumble on apostrophes in asm comments
    check_clean(dest)
    # A git repository of its own, so the student can commit from the start and the
    # handout's own `scons handout` (for instructors) works too.
    subprocess.run(["git", "init", "-q", dest], check=True)
    subprocess.run(["git", "-C", dest, "add", "-A"], check=True)
    subprocess.run(["git", "-C", dest, "-c", "user.name=Shuttle", "-c",
                    "user.email=shuttle@localhost", "commit", "-q", "-m",
                    "Lab %d handout" % lab], check=True)
    print("handout: lab %d written to %s" % (lab, dest))
    return 0


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]), sys.argv[3])
