"""The proof that the lab graders are honest (run by `scons test`, so by CI).

For every lab with a grader, `scons handout LAB=N` writes the student tree. It must
build as it is; every earlier lab must still score full marks on it (the handout keeps
their solutions); and lab N itself must not (its exercises are stubs). The reference
scoring full marks on every lab is checked by the graders themselves in `scons test`.
A grader that cannot fail on its own handout is a defect.

On a handout the graders run at 4 harts only (--harts 4), and lab N's own grader stops at
its first failure: the proof needs one failure, and a stub waits out its timeouts. That
each grader gives 100 points in all is checked on the reference, without running it.
"""

import json
import os
import re
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABS = sorted(int(m.group(1)) for m in
              (re.match(r"test_lab(\d+)\.py$", f) for f in os.listdir(os.path.dirname(__file__)))
              if m)
SCONS_TIMEOUT = 600


def run(argv, cwd):
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                            timeout=SCONS_TIMEOUT)
    return result.returncode, result.stdout + result.stderr


HANDOUT_HARTS = "4"


def lab_score(tree, lab, tmp_path, first_failure=False):
    """(score, max) of grade/test_labN.py run inside tree at HANDOUT_HARTS."""
    results = tmp_path / f"lab{lab}.json"
    run(["/usr/bin/python3", "-m", "pytest", f"grade/test_lab{lab}.py", "-q", "-p",
         "no:cacheprovider", "--harts", HANDOUT_HARTS, "--gradescope", str(results)]
        + (["--maxfail=1"] if first_failure else []), tree)
    assert results.exists(), f"the lab {lab} grader wrote no results in {tree}"
    data = json.loads(results.read_text())
    return data["score"], data["max_score"]


@pytest.mark.parametrize("lab", LABS)
def test_grader_gives_100_points(lab, tmp_path):
    """Each lab's grader gives 100 points in all"""
    points = tmp_path / "points"
    status, out = run(["/usr/bin/python3", "-m", "pytest", f"grade/test_lab{lab}.py", "-q",
                       "-p", "no:cacheprovider", "--collect-only", "--points-file", str(points)],
                      REPO_ROOT)
    assert status == 0 and points.exists(), f"cannot collect grade/test_lab{lab}.py:\n{out}"
    assert float(points.read_text()) == 100, \
        f"lab {lab} is graded out of {points.read_text().strip()}, not 100"


@pytest.mark.parametrize("lab", LABS)
def test_handout_fails_its_lab_and_passes_earlier_ones(lab, tmp_path):
    """The lab's handout builds, keeps earlier labs' full marks, and fails its own"""
    tree = tmp_path / f"lab{lab}"
    status, out = run(["scons", "-Q", "handout", f"LAB={lab}", f"DEST={tree}"], REPO_ROOT)
    assert status == 0, f"scons handout LAB={lab} failed:\n{out[-3000:]}"
    status, out = run(["scons", "-Q", "-j2"], tree)
    assert status == 0, f"the lab {lab} handout does not build:\n{out[-3000:]}"
    for earlier in (k for k in LABS if k < lab):
        score, top = lab_score(tree, earlier, tmp_path)
        assert score == top, f"lab {earlier} scores {score}/{top} on the lab {lab} handout"
    score, top = lab_score(tree, lab, tmp_path, first_failure=True)
    assert score < top, f"lab {lab}'s grader gives its own handout full marks: it cannot fail"
