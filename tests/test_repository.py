"""The repository as a fresh clone sees it: what git ignores, and links that resolve."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

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


#: ``[text](target)`` and ``[text]: target``; the target up to a space, ``)`` or ``#``.
LINK = re.compile(r"\]\(\s*<?([^)\s>#]*)|^\s*\[[^\]]+\]:\s*<?([^\s>#]+)", re.MULTILINE)


def relative_links(document: Path) -> list[str]:
    """Every link of ``document`` that is not a URL, an e-mail address or an in-page anchor."""
    targets = [first or second for first, second in LINK.findall(document.read_text())]
    return [t for t in targets if t and not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_documents_are_found() -> None:
    """The README and the design and style pages in docs/ are all read by the link check."""
    names = {path.relative_to(ROOT).as_posix() for path in documents()}
    assert {"README.md", "docs/design.md", "docs/style.md"} <= names


@pytest.mark.parametrize("document", documents(), ids=lambda path: path.name)
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    """Each relative link of the README and docs/*.md names a file of this repository."""
    broken = []
    for target in relative_links(document):
        resolved = (document.parent / target).resolve()
        if not resolved.is_relative_to(ROOT.resolve()) or not resolved.exists():
            broken.append(target)
    assert broken == []
