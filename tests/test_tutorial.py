"""docs/tutorial.md cannot rot: its bash blocks run, verbatim and in order, in one shell.

Only the worlds are made small: a shell function in front of ``distillsim`` appends a short
horizon, a thinned legitimate population and a trimmed grid to ``run``, ``sweep`` and ``study``
(later overrides win), and the install step is skipped (the suite runs in the installed venv).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
SMALL = ["world.days=12", "world.legit_sample_share=0.005", "output.progress=off"]
EXTRA = {
    "run": SMALL,
    "sweep": [*SMALL, "'replicate=range(0,1)'", "detection.budget_usd_per_day=0,100000"],
    "study": [
        *SMALL,
        "study.samples=2",
        "'study.budgets=[0,100000]'",
        "study.baseline_replicates=1",
    ],
}


def wrapper() -> str:
    """A bash function ``distillsim`` that drops the user's value of each key it sets (a study
    refuses a key given twice) and appends the small world's."""
    cases = []
    for command, extra in EXTRA.items():
        keys = "|".join(e.strip("'").split("=")[0] + "=*" for e in extra)
        cases.append(
            f'    {command}) local a=(); for x in "$@"; do case $x in {keys}) ;; '
            f'*) a+=("$x") ;; esac; done; command distillsim "${{a[@]}}" {" ".join(extra)} ;;'
        )
    return (
        'distillsim() {\n  case "$1" in\n'
        + "\n".join(cases)
        + ('\n    *) command distillsim "$@" ;;\n  esac\n}\n')
    )


def blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_the_tutorial_runs_as_written(tmp_path):
    steps = blocks(TUTORIAL.read_text())
    assert len(steps) >= 6, "the tutorial lost its command blocks"
    install, *rest = steps
    assert "make" in install  # the install step; the suite already runs in the installed venv
    bindir = Path(sys.executable).parent
    script = "\n".join(
        ["set -euo pipefail", f'export PATH="{bindir}:$PATH"', wrapper(), *rest, "echo TUTORIAL-OK"]
    )
    out = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0 and "TUTORIAL-OK" in out.stdout, out.stderr[-3000:]
    # The figures it shows exist where it says (full-scale versions, refreshed by hand).
    for image in re.findall(r"\]\((figures/[^)]+)\)", TUTORIAL.read_text()):
        assert (TUTORIAL.parent / image).is_file(), image
