"""Peak resident memory of the current process, for the benchmarks' measuring subprocesses.

Two witnesses: :class:`PeakPoller` samples the RSS every few milliseconds on a thread, and the
kernel's high-water mark (VmHWM), which :func:`reset_peak` resets to the current RSS so that
only what follows counts.
"""

from __future__ import annotations

import contextlib
import resource
import sys
import threading
from pathlib import Path

import psutil

POLL_SECONDS = 0.005


class PeakPoller:
    """Samples the RSS every few milliseconds on a thread (ru_maxrss is the other witness)."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def reset_peak() -> bool:
    """Reset the kernel's RSS high-water mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
        return True
    return False


def kernel_peak() -> int:
    """The RSS high-water mark: VmHWM where there is one, else ru_maxrss.

    ru_maxrss alone would not do on Linux: it survives execve, so a child started by a big
    parent reports the parent's peak.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
