"""Running `finops` as a user would, and reading what it printed."""

from __future__ import annotations

import re

from click.testing import CliRunner, Result

from finops_platform.cli import main

# `finops run`'s progress lines and `finops demo-data`'s "writing ..." lines on stderr.
PROGRESS = re.compile(r"^(\[(\d+(-\d+)?/\d+|cross-org \d+)\] |writing )")


def finops(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def messages(stderr: str) -> list[str]:
    """What stderr says besides progress."""
    return [line for line in stderr.splitlines() if not PROGRESS.match(line)]


def one_error(result: Result, *words: str, code: int = 2) -> str:
    """Assert the command failed with `code` and exactly one line on stderr holding `words`."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    (line,) = messages(result.stderr)
    for word in words:
        assert word in line, (word, line)
    return line
