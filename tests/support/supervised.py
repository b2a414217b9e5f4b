"""Functions the supervisor's tests run in real child processes (importable by name there)."""

from __future__ import annotations

import os
import time

from selflow_qt.core.cancel import Cancelled


def adds(channel, a: int, b: int) -> int:
    for step in range(3):
        channel.progress({"step": step})
    print("adding in the child", flush=True)
    return a + b


def fails(channel, secret: str) -> None:
    raise ValueError(f"no data for --password {secret}")


def sleeps(channel, seconds: float) -> None:
    channel.progress({"started": os.getpid()})
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if channel.should_stop():
            raise Cancelled("stopped")
        time.sleep(0.05)


def echoes(channel) -> None:
    while channel.poll(30):
        message = channel.recv()
        if message is None:
            return
        channel.send("echo", message)


def leaves_work_for_the_exit(channel, folder: str) -> int:
    """Returns with a non-daemon thread still writing, an exit handler and unflushed output."""
    import atexit
    import threading
    from pathlib import Path

    def late() -> None:
        time.sleep(0.3)
        Path(folder, "thread").write_text("done")

    threading.Thread(target=late).start()
    atexit.register(lambda: Path(folder, "atexit").write_text("ran"))
    print("printed last, not flushed")
    return 1
