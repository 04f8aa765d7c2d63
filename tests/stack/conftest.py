"""The production stack, started once for these tests (``ops/stack.py``). They run only with
``STACK_TESTS=1`` (CI runs them once, after the suite); otherwise they are skipped."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from ops.stack import Stack
from tests.stack.client import Browser

HERE = Path(__file__).parent
ENABLED = os.environ.get("STACK_TESTS") == "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).parents and not ENABLED:
            item.add_marker(pytest.mark.skip(reason="the running stack: set STACK_TESTS=1"))


@pytest.fixture(scope="session")
def stack():
    folder = Path(tempfile.mkdtemp(prefix="portal-stack-"))
    running = Stack(
        folder=folder,
        web=int(os.environ.get("STACK_PORT", "8700")),
        redis_port=int(os.environ.get("STACK_REDIS_PORT", "6390")),
        pg_port=int(os.environ.get("STACK_POSTGRES_PORT", "5440")),
        database_url=os.environ.get("STACK_DATABASE_URL", ""),
    )
    attach = os.environ.get("STACK_ATTACH")  # a stack already up (ops.stack up), to develop
    if attach:
        running.folder = Path(attach)
        running.seed = json.loads((Path(attach) / "seed.json").read_text())
        yield running
        return
    running.start()
    try:
        running.seed = json.loads(running.django((HERE / "seed.py").read_text()).splitlines()[-1])
        yield running
    finally:
        running.stop()
        if os.environ.get("STACK_KEEP") != "1":
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def visitor(stack):
    return Browser(stack.url)
