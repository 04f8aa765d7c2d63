"""Without Chromium, make test still passes but says, as its last line, that the browser
tests were skipped and how to install Chromium."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_browser_tests(chromium: str, *options: str) -> str:
    environment = {**os.environ, "CHROMIUM": chromium, "DJANGO_ENV_FILE": "/nonexistent"}
    for name in ("REQUIRE_BROWSER", "REQUIRE_POSTGRES", "DATABASE_URL", "REDIS_URL"):
        environment.pop(name, None)
    finished = subprocess.run(  # noqa: S603 (this interpreter, this project's tests)
        [sys.executable, "-m", "pytest", "tests/browser/test_sign_in.py", "-q", *options],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return finished.stdout


def test_a_run_without_chromium_ends_saying_what_was_skipped_and_how_to_install_it():
    output = run_browser_tests("/nonexistent/chromium")

    last_line = output.strip().splitlines()[-1]
    assert last_line.startswith(
        "3 browser tests were skipped: there is no Chromium at /nonexistent"
    )
    assert "apt-get install chromium" in last_line


def test_a_run_with_chromium_says_nothing_of_the_kind(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)

    output = run_browser_tests(str(fake), "--collect-only")

    assert "skipped" not in output
