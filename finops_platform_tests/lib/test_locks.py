"""The lock a `finops run` holds for its life, as other processes judge it (`is_held`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from finops_platform.lib.locks import file_lock, is_held

NOBODY = 65534


def test_a_lock_is_held_while_its_context_lasts(tmp_path: Path) -> None:
    path = tmp_path / "run.lock"
    assert not is_held(path)  # missing
    with file_lock(path):
        assert is_held(path)
    assert not is_held(path)  # released, file still there


def test_another_users_lock_counts_as_held_rather_than_crashing(tmp_path: Path) -> None:
    """A lock file this user cannot open (another user's `finops run`) cannot be judged: it
    counts as held, so its runs are not reported failed and the sensor tick goes on (before:
    PermissionError from opening it for writing)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to act as another user")
    as_nobody = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if subprocess.run([*as_nobody, sys.executable, "-c", "import finops_platform"]).returncode:
        pytest.skip("this checkout is not readable by user nobody")
    path = tmp_path / "run.lock"
    path.touch(mode=0o600)
    code = (
        "from pathlib import Path; from finops_platform.lib.locks import is_held; "
        f"print(is_held(Path({str(path)!r})))"
    )
    answer = subprocess.run(
        [*as_nobody, sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "True"
