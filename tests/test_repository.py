"""The repository as a fresh clone sees it: what git ignores, and links that resolve."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_workflows_file_make_run_creates_is_ignored_by_git() -> None:
    """``workflows.yml`` (copied from the example by ``make run``) never shows as a change."""
    git = shutil.which("git")
    assert git is not None, "git is needed to read .gitignore as git does"
    result = subprocess.run(
        [git, "check-ignore", "--no-index", "--quiet", "workflows.yml"],
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0
