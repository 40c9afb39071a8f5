"""The fake server's jobs: artworks that move from starting through processing to an outcome.

They move as they are polled or as the clock runs, or at once (finish, set_status); every status
is computed when it is read, so nothing runs in the background.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

__all__ = ["JOB_OUTCOMES", "Job", "Jobs", "check_job", "new_job", "with_status"]

#: How a job can end (see :meth:`FakeTengrAI.start_job`).
JOB_OUTCOMES: Final = ("succeeded", "failed", "canceled")


def check_job(kind: str, outcome: str, polls: int, seconds: float | None) -> None:
    """Refuse a job that cannot run (``ValueError``), before anything is added."""
    if not kind:
        msg = f"kind must be a non-empty string, got {kind!r}"
        raise ValueError(msg)
    if outcome not in JOB_OUTCOMES:
        msg = f"outcome must be one of {', '.join(JOB_OUTCOMES)}, got {outcome!r}"
        raise ValueError(msg)
    if polls < 1:
        msg = f"polls must be an integer >= 1, got {polls!r}"
        raise ValueError(msg)
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        msg = f"seconds must be a positive number of seconds or None, got {seconds!r}"
        raise ValueError(msg)


@attrs.define
class Job:
    """An artwork that moves from ``starting`` through ``processing`` to its ``outcome``.

    It moves after every ``polls`` clean answers by id, or, with ``seconds``, as the clock
    passes ``started + seconds / 2`` and ``started + seconds``. Times are the server clock's
    ``monotonic()``.
    """

    artwork: dict[str, Any]
    outcome: str
    polls: int
    seconds: float | None
    started: float
    duration: float
    results: list[str]
    #: How many clean GETs by id saw it.
    served: int = 0
    #: When it was moved to its outcome at once, or polled into it; ``None`` before.
    finished_at: float | None = None

    @property
    def ends_at(self) -> float | None:
        """When it shows its outcome from; ``None`` while a job run by polls still runs."""
        timed = None if self.seconds is None else self.started + self.seconds
        if self.finished_at is None:
            return timed
        return self.finished_at if timed is None else min(timed, self.finished_at)

    def status(self, now: float) -> str:
        """What it shows at *now*: ``starting``, ``processing`` or its outcome."""
        if self.finished_at is not None:
            return self.outcome
        if self.seconds is None:
            step = self.served // self.polls
        else:
            elapsed = now - self.started
            step = 0 if elapsed < self.seconds / 2 else 1 if elapsed < self.seconds else 2
        return ("starting", "processing", self.outcome)[min(step, 2)]

    def snapshot(self, now: float) -> dict[str, Any]:
        """The artwork as it is served at *now*."""
        status = self.status(now)
        final = status == self.outcome
        # Updating existing keys keeps them where make_artwork put them.
        return {
            **self.artwork,
            "status": status,
            "duration": self.duration if final else 0,
            "results": list(self.results) if final and status == "succeeded" else [],
        }


def new_job(
    artwork: dict[str, Any],
    *,
    seed: int,
    index: int,
    outcome: str,
    polls: int,
    seconds: float | None,
    started: float,
    results: list[str] | None = None,
) -> Job:
    """A job for *artwork* at listing *index*: its duration (and, if not given, its results).

    Without *results* it has one or two on ``https://cdn.tengr.ai``.
    """
    # The outcome's details come from their own stream, so they do not depend on how
    # make_artwork draws.
    rng = random.Random(f"job:{seed}:{index}")
    if results is None:
        images = rng.randint(1, 2)
        results = [f"https://cdn.tengr.ai/artworks/{artwork['id']}/{n}.webp" for n in range(images)]
    return Job(
        artwork=artwork,
        outcome=outcome,
        polls=polls,
        seconds=seconds,
        started=started,
        duration=round(rng.uniform(0.5, 60.0), 3),
        results=results,
    )


class Jobs:
    """The jobs of one server and the statuses :meth:`FakeTengrAI.set_status` set, by index.

    A job reaches its outcome either as the clock passes its :attr:`Job.ends_at`, or through
    :meth:`finish` (its last poll, :meth:`finish_all` and :meth:`set_status` all go there).
    Callers hold the server's lock. *on_finish* hears of every :meth:`finish` (the webhook
    sender looks again at that job); it must not take the lock.
    """

    def __init__(self, on_finish: Callable[[int], None] | None = None) -> None:
        self._on_finish = on_finish
        self._jobs: dict[int, Job] = {}
        # set_status() overrides, by index.
        self._statuses: dict[int, str] = {}

    def __contains__(self, index: int) -> bool:
        return index in self._jobs

    def add(self, index: int, job: Job) -> None:
        """Run *job* as the artwork at listing *index*."""
        self._jobs[index] = job

    def get(self, index: int) -> Job | None:
        """The job at listing *index*, or ``None``."""
        return self._jobs.get(index)

    def override(self, index: int) -> str | None:
        """The status :meth:`set_status` set on the artwork at *index*, or ``None``."""
        return self._statuses.get(index)

    def polled(self, index: int, now: float) -> None:
        """Count a clean GET by id of the artwork at *index* (the client saw its state)."""
        job = self._jobs.get(index)
        if job is None:
            return
        job.served += 1
        if job.seconds is None and job.served >= 2 * job.polls:
            self.finish(index, now)

    def finish(self, index: int, now: float, outcome: str | None = None) -> bool:
        """Show the outcome of the job at *index* (*outcome* instead, if given) from *now* on.

        Returns whether the job did not show it yet.
        """
        job = self._jobs[index]
        shown = job.status(now)
        if outcome is not None:
            job.outcome = outcome
        if job.finished_at is None:
            job.finished_at = now
        if self._on_finish is not None:
            self._on_finish(index)
        return shown != job.outcome

    def finish_all(self, now: float) -> list[str]:
        """Move every job to its outcome; the ids of those that did not show it, oldest first.

        A status set on a job is undone: it shows its outcome too.
        """
        moved: list[str] = []
        for index in sorted(self._jobs, reverse=True):  # -1 is the oldest job
            overridden = self._statuses.pop(index, None) is not None
            if self.finish(index, now) or overridden:
                moved.append(str(self._jobs[index].artwork["id"]))
        return moved

    def set_status(self, index: int, status: str, now: float) -> None:
        """Serve the artwork at *index* with *status*: a job's outcome finishes the job."""
        if index in self._jobs and status in JOB_OUTCOMES:
            self._statuses.pop(index, None)
            self.finish(index, now, status)
        else:
            self._statuses[index] = status


def with_status(
    artwork: Mapping[str, Any], status: str, result_urls: Callable[[str, int], list[str]] | None
) -> dict[str, Any]:
    """*artwork* served with a status set on it (see :meth:`FakeTengrAI.set_status`).

    *result_urls* gives the results of an artwork that succeeds without any: ``(id, count)``
    to URLs, or ``None`` to leave them empty.
    """
    item = {**artwork, "status": status}
    rng = random.Random(f"status:{item.get('id')}")
    if status != "succeeded":
        if item.get("results"):
            item["results"] = []
    elif not item.get("results") and result_urls is not None:
        item["results"] = result_urls(str(item.get("id")), rng.randint(1, 2))
    if "duration" in item:
        if status == "starting":
            item["duration"] = 0
        elif not item["duration"]:
            item["duration"] = round(rng.uniform(0.5, 60.0), 3)
    return item
