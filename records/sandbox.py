"""Drawing previews in a child process held to hard limits.

A file that slipped past the checks at upload (or a decoder's own fault) must not take the
worker down: the work runs in a forked child whose address space and CPU time are capped
(``RECORDS_RENDER_MEMORY_BYTES`` more than it starts with, ``RECORDS_RENDER_CPU_SECONDS``)
and which is killed when it runs past its wall-clock time. Pillow's pixel limit is set to
the upload limit there too. The child hands its result back through a temporary file.
"""

import contextlib
import faulthandler
import os
import pickle
import resource
import tempfile
import time

from django.conf import settings
from PIL import Image


class RenderFailed(Exception):
    """The child ran out of memory or time, crashed, or raised."""


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(function, args, out_path: str) -> None:
    faulthandler.disable()  # a decoder's crash is reported by the parent, with the status
    memory = _address_space() + settings.RECORDS_RENDER_MEMORY_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = settings.RECORDS_RENDER_CPU_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    Image.MAX_IMAGE_PIXELS = settings.RECORDS_MAX_IMAGE_PIXELS
    result = function(*args)
    with open(out_path, "wb") as out:
        pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)


def run_limited(function, *args):
    """``function(*args)`` run in a limited child process; its (picklable) result, or
    ``RenderFailed``."""
    wall = settings.RECORDS_RENDER_CPU_SECONDS * 2
    with tempfile.TemporaryDirectory(prefix="render-") as folder:
        out_path = os.path.join(folder, "result")
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            code = 1
            try:
                _child(function, args, out_path)
                code = 0
            except BaseException:  # noqa: S110 (the exit code says it failed)
                pass
            finally:
                os._exit(code)
        status = _wait(pid, deadline=time.monotonic() + wall)
        if status != 0 or not os.path.exists(out_path):
            raise RenderFailed(f"the child ended with status {status}")
        with open(out_path, "rb") as result:
            return pickle.load(result)  # noqa: S301 (written by our own child, just now)


def _wait(pid: int, *, deadline: float) -> int:
    """The child's exit status; it is killed at ``deadline``."""
    pause = 0.01
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
            os.waitpid(pid, 0)
            return -9
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
