"""The `herald` command line, run in this process through click's runner or found as the
installed console script."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from api.cli import main


def run_herald(*args: str, stdin: str | None = None) -> Result:
    """Run `herald ARGS` in this process, with `stdin` as its standard input."""
    return CliRunner().invoke(main, list(args), input=stdin)


def herald_script() -> str:
    """The installed `herald` console script of this virtualenv."""
    beside = Path(sys.executable).parent / "herald"
    found = str(beside) if beside.exists() else shutil.which("herald")
    if found is None:
        pytest.fail("the `herald` console script is not installed; run pip install -e .")
    return found
