"""Editor support: `scons cdb` writes compile_commands.json for clangd and other editors.

It must cover every C and assembly file in the tree that the build compiles (the kernel,
the SBI library, user programs and servers, and the host unit tests), each with the flags
its environment really uses; and with those flags every #include must resolve, as clangd
would resolve it. The check runs each recorded command through the preprocessor only.
"""

import concurrent.futures
import json
import os
import shlex
import subprocess

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def preprocess(entry):
    """None when entry's command preprocesses its file cleanly, else the error."""
    argv = shlex.split(entry["command"])
    keep, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a != "-c":
            keep.append(a)
    r = subprocess.run(keep + ["-E", "-o", os.devnull], cwd=entry["directory"],
                       capture_output=True, text=True, timeout=60)
    return None if r.returncode == 0 else f"{entry['file']}: {r.stderr.strip()[:400]}"


def test_compile_commands_cover_the_tree_and_resolve_every_header():
    """`scons cdb` lists every compiled file, and every #include resolves with its flags"""
    r = subprocess.run(["scons", "-Q", "cdb"], cwd=REPO_ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, f"scons cdb failed:\n{r.stdout}\n{r.stderr}"
    with open(os.path.join(REPO_ROOT, "compile_commands.json"), encoding="utf-8") as f:
        entries = json.load(f)
    files = {e["file"] for e in entries}
    sources = subprocess.run(["git", "ls-files", "*.c", "*.S"], cwd=REPO_ROOT,
                             capture_output=True, text=True).stdout.split()
    assert sources, "git lists no sources"
    missing = [s for s in sources if s not in files]
    assert not missing, f"compile_commands.json lacks {missing}"
    for part in ("kern/", "sbi/", "user/bin/", "user/servers/", "user/lib/", "grade/host/"):
        assert any(f.startswith(part) for f in files), f"nothing from {part}"

    unique = {(e["file"], e["command"]): e for e in entries}.values()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        errors = [e for e in pool.map(preprocess, unique) if e]
    assert not errors, "headers that do not resolve:\n" + "\n".join(errors[:5])
