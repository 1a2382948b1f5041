"""The C sources are laid out as .clang-format says (clang-format 14, Debian's package
`clang-format`): run `clang-format -i FILE` on a file this test names. Not a lab test."""

import os
import shutil
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def c_sources():
    """The C files git tracks (generated ones live in build/ and are not tracked)."""
    out = subprocess.run(["git", "ls-files", "*.c", "*.h"], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    return [f for f in out.split("\n") if f]


def test_c_sources_are_formatted():
    """Every C file is formatted with .clang-format"""
    if not shutil.which("clang-format"):
        pytest.fail("clang-format not found: install it with `apt-get install clang-format`",
                    pytrace=False)
    files = c_sources()
    assert files, "git lists no C files: run the tests in a git checkout"
    bad = [f for f in files
           if subprocess.run(["clang-format", "--dry-run", "--Werror", f], cwd=REPO_ROOT,
                             capture_output=True).returncode != 0]
    assert not bad, ("not formatted as .clang-format says (run `clang-format -i` on them): "
                     + ", ".join(bad))
