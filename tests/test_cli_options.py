"""The ``handrail`` command's own options and help, as a new user first meets them."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from bot.cli import main


@pytest.mark.parametrize("workers", ["0", "-2", "two"])
def test_serve_refuses_fewer_than_one_worker(
    workers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``serve --workers 0`` (or negative, or not a number) is refused on one line."""
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--workers", workers])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("handrail serve: argument --workers:")
    assert "give 1 or more" in line


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    """``handrail --version`` prints the installed distribution's version and exits 0."""
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"handrail {version('handrail')}\n"
