"""Parsing and drawing untrusted files in a child process held to hard limits.

Uploaded files are judged (``records.filetypes.inspect``, in the web process) and drawn
(previews, in the worker) by libraries written in C, C++ and Rust. A file built to make one of
them loop, allocate gigabytes or crash must cost no more than its limits, and must not take
the web process or the worker down: the work runs in a forked child whose address space
(``memory`` bytes more than it starts with) and CPU time are capped, and which is killed
when it runs past its wall-clock deadline. Pillow's pixel limit is set to the upload limit
there too.

The child hands back only JSON (a compromised child cannot hand the parent an object to
unpickle) and files it writes into a folder the caller gave it.
"""

import contextlib
import faulthandler
import json
import os
import resource
import time

from django.conf import settings
from PIL import Image


class ChildFailed(Exception):
    """The child ran out of memory or time, crashed, or raised."""


class ChildBusy(ChildFailed):
    """The child was stopped at its wall-clock deadline with CPU time it had not used: the
    machine was too busy to finish the work in time, which says nothing of the file."""


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(function, args, out_path: str, memory: int, cpu_seconds: int) -> None:
    faulthandler.disable()  # a crash is reported by the parent, with the status
    limit = _address_space() + memory
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 2))
    Image.MAX_IMAGE_PIXELS = settings.RECORDS_MAX_IMAGE_PIXELS
    result = function(*args)
    with open(out_path, "w") as out:
        json.dump(result, out)


def run_limited(function, folder: str, *args, memory: int, cpu_seconds: float):
    """``function(folder, *args)`` run in a limited child; its JSON-able result, or
    ``ChildFailed``. Files the child writes into ``folder`` are the caller's to read."""
    cpu = max(1, int(cpu_seconds))  # whole seconds: the limit the kernel keeps
    out_path = os.path.join(folder, "result.json")
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        code = 1
        try:
            _child(function, (folder, *args), out_path, memory, cpu)
            code = 0
        except BaseException:  # noqa: S110 (the exit code says it failed)
            pass
        finally:
            os._exit(code)
    status = _wait(pid, cpu_seconds=cpu)
    if status == BUSY:
        raise ChildBusy("the machine was too busy for the child to finish in time")
    if status != 0 or not os.path.exists(out_path):
        raise ChildFailed(f"the child ended with status {status}")
    with open(out_path) as result:
        return json.load(result)


def render_limits() -> dict:
    """The limits of the worker's preview drawing, from the settings."""
    return {
        "memory": settings.RECORDS_RENDER_MEMORY_BYTES,
        "cpu_seconds": settings.RECORDS_RENDER_CPU_SECONDS,
    }


GRACE_SECONDS = 5
BUSY = -1000  # not an exit status: the child was stopped at its deadline with CPU time left
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_used(pid: int) -> float:
    """Seconds of CPU the (running) child has used so far, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _wait(pid: int, *, cpu_seconds: int) -> int:
    """The child's exit status. Its CPU time is capped by the kernel; the wall clock is
    watched here: at ``3 * cpu + 5`` seconds a child that has used its CPU allowance is
    killed (-9), while one that has not (it was waiting for a busy CPU) is given up to
    ``RECORDS_CHECK_BUSY_WAIT_SECONDS`` more, then killed and reported ``BUSY``."""
    started = time.monotonic()
    deadline = started + 3 * cpu_seconds + GRACE_SECONDS
    last = deadline + settings.RECORDS_CHECK_BUSY_WAIT_SECONDS
    pause = 0.002
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        now = time.monotonic()
        if now > deadline:
            busy = _cpu_used(pid) < 0.9 * cpu_seconds
            if not busy or now > last:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
                os.waitpid(pid, 0)
                return BUSY if busy else -9
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
