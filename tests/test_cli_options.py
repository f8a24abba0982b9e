"""The ``handrail`` command's own options and help, as a new user first meets them."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from importlib.metadata import version

import pytest

from bot.cli.main import _parser, main


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


def every_parser(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and each of its subcommands' parsers, at every depth."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from every_parser(sub)


def test_no_help_shows_docstring_markup() -> None:
    """No ``--help`` page, top or subcommand, shows reST markup such as double backticks."""
    markup = re.compile(r"``|:(class|func|meth|mod|attr|data|exc):`|^\s*\.\. ", re.MULTILINE)
    pages = {parser.prog: parser.format_help() for parser in every_parser(_parser())}
    assert len(pages) > 10
    assert {prog: page for prog, page in pages.items() if markup.search(page)} == {}
