"""The fake server's create routes: ``POST /v2/artworks/<kind>`` for the ten documented kinds.

A body is checked against the kind's request rules (400 with the API's body when one breaks),
then becomes a new ``starting`` job at the front of the listing, run by the server's job
machinery on its clock. Faults refuse a POST before the job exists, or answer badly after.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Literal, cast, get_args

import attrs
import orjson

from .._codegen import camel_case
from .._converter import converter
from .._create import CREATE_KINDS, CreateKind, build_body, parameter_fields
from .._errors import ResponseValidationError, ValidationError
from .._fields import NESTED

if TYPE_CHECKING:
    from .._clock import Clock

__all__ = [
    "CREATE_FAULTS",
    "CreateFault",
    "CreateOptions",
    "CreateRoutes",
    "Decision",
    "echo_parameters",
]

#: A fault the create routes can give one POST (:meth:`FakeTengrAI.queue_create_faults`).
#: ``"429"`` and ``"503"`` (with ``Retry-After``), ``"500"``, ``"502"`` and ``"504"`` answer
#: that status before any job exists; ``"drop"`` closes the connection halfway through the
#: answer and ``"timeout"`` holds the request unanswered, both before any job exists. The
#: ``"accept-..."`` faults make the job first (it is listed, and runs), then answer 500, 502
#: or 504, drop the connection, or stall past the client's timeout.
CreateFault = Literal[
    "429",
    "503",
    "500",
    "502",
    "504",
    "drop",
    "timeout",
    "accept-500",
    "accept-502",
    "accept-504",
    "accept-drop",
    "accept-timeout",
]
#: Every :data:`CreateFault`.
CREATE_FAULTS: Final[tuple[CreateFault, ...]] = get_args(CreateFault)
_OUTCOMES: Final = ("succeeded", "failed", "canceled")
_MESSAGES: Final[Mapping[str, str]] = {
    "429": "rate limit exceeded",
    "500": "internal server error",
    "502": "bad gateway",
    "503": "service unavailable",
    "504": "gateway timeout",
}


@attrs.frozen(kw_only=True)
class CreateOptions:
    """How the jobs that POSTs create run (the ``create=`` of :class:`FakeTengrAI`).

    Attributes:
        outcome: How each job ends: ``"succeeded"`` (with result URLs on the server's image
            host), ``"failed"`` or ``"canceled"``.
        polls: How many GETs by id see each of ``starting`` and ``processing`` (>= 1).
        seconds: How long each job takes on the server's clock instead (> 0), or ``None``.
        images: How many result URLs a succeeded job has (1 or 2).
    """

    outcome: str = attrs.field(default="succeeded", validator=attrs.validators.in_(_OUTCOMES))
    polls: int = attrs.field(default=2, validator=attrs.validators.ge(1))
    seconds: float | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.gt(0))
    )
    images: int = attrs.field(default=1, validator=[attrs.validators.ge(1), attrs.validators.le(2)])


@attrs.frozen
class Decision:
    """What a create route answers: a status and JSON, or a fault; and the job, if made.

    Attributes:
        status: The status to answer (0 for a ``"timeout"``, which answers nothing).
        body: The JSON body.
        fault: ``"drop"``, ``"timeout"``, a status fault, or ``None``.
        headers: Extra headers (``Retry-After``).
        job: The artwork made, to be added as a job, or ``None``.
    """

    status: int
    body: bytes
    fault: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict[str, str])
    job: dict[str, Any] | None = None


def echo_parameters(kind: CreateKind[Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The ``parameters`` a new artwork echoes: the body plus the defaults the spec documents.

    Keys in the kind's wire order, then the body's unknown keys as sent.
    """
    echoed: dict[str, Any] = {}
    for field in parameter_fields(kind):
        wire = camel_case(field.name)
        if wire in body:
            echoed[wire] = body[wire]
        elif field.default is not None and field.default is not attrs.NOTHING:
            default = field.default
            echoed[wire] = getattr(default, "value", default)
    for key, value in body.items():
        echoed.setdefault(key, value)
    return echoed


def _error(status: int, message: str | list[str], **attributes: Any) -> Decision:
    reason = {400: "Bad Request", 404: "Not Found"}.get(status, _MESSAGES.get(str(status), ""))
    body = {"message": message, "statusCode": status, "error": reason.title()}
    return Decision(status, orjson.dumps(body), **attributes)


class CreateRoutes:
    """The state of the create routes: the queued faults and the POST bodies received."""

    def __init__(self, options: CreateOptions, *, seed: int, retry_after: int) -> None:
        self.options = options
        self._seed = seed
        self._retry_after = retry_after
        self._faults: list[CreateFault] = []
        #: The JSON body of every POST to a create path, in order (``None`` if not JSON).
        self.bodies: list[Any] = []

    def queue(self, faults: tuple[str, ...]) -> None:
        """Give the next POSTs these faults, in order."""
        unknown = sorted(set(faults) - set(CREATE_FAULTS))
        if unknown:
            msg = f"unknown create faults {unknown}; they are {', '.join(CREATE_FAULTS)}"
            raise ValueError(msg)
        self._faults.extend(faults)  # type: ignore[arg-type] # checked just above

    def decide(self, segment: str, body: Any, *, index: int, clock: Clock) -> Decision:
        """The answer to a POST to ``/v2/artworks/<segment>`` whose key was accepted.

        *body* is the decoded JSON (``None`` if it was not JSON); *index* is the listing index
        the job would take (the next inserted one).
        """
        kind = CREATE_KINDS.get(segment)
        if kind is None:
            return _error(404, f"Cannot POST /v2/artworks/{segment}")
        self.bodies.append(body)
        fault = self._faults.pop(0) if self._faults else None
        if fault is not None and not fault.startswith("accept-"):
            return self._fault(fault)
        if not isinstance(body, dict):
            return _error(400, ["the body must be a JSON object"])
        body = cast("dict[str, Any]", body)
        problem = _problem(kind, body)
        if problem is not None:
            return _error(400, [problem])
        artwork = self._artwork(kind, body, index, clock)
        if fault is not None:
            refused = self._fault(fault.removeprefix("accept-"))
            return attrs.evolve(refused, job=artwork)
        return Decision(202, orjson.dumps(artwork), job=artwork)

    def _fault(self, fault: str) -> Decision:
        if fault in ("drop", "timeout"):
            # "drop" spoils a 202 halfway: the client sees the body end early.
            return Decision(202 if fault == "drop" else 0, b'{"id": "', fault=fault)
        headers = {"Retry-After": str(self._retry_after)} if fault in ("429", "503") else {}
        return _error(int(fault), _MESSAGES[fault], fault=fault, headers=headers)

    def _artwork(
        self, kind: CreateKind[Any], body: dict[str, Any], index: int, clock: Clock
    ) -> dict[str, Any]:
        # The id carries the listing index in its low 48 bits, as synthetic ids do, so the
        # server finds the job by id; the rest comes from its own stream.
        rng = random.Random(f"create:{self._seed}:{index}")
        bias = 1 << 47
        artwork_id = uuid.UUID(int=(rng.getrandbits(80) << 48) | (index + bias), version=4)
        created = clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "id": str(artwork_id),
            "artworkType": kind.artwork_type.value,
            "parameters": echo_parameters(kind, body),
            "duration": 0,
            "results": [],
            "status": "starting",
            "createdAt": created,
        }


def _problem(kind: CreateKind[Any], body: Mapping[str, Any]) -> str | None:
    """What breaks the kind's request rules in *body*, in the API's words; ``None`` if nothing.

    Unknown keys are kept, as the real server's are.
    """
    names = {camel_case(field.name): field for field in parameter_fields(kind)}
    given: dict[str, Any] = {}
    for key, sent in body.items():
        field = names.get(key)
        if field is None:
            continue
        value = sent
        nested = field.metadata.get(NESTED)
        if nested is not None and sent is not None:
            try:
                value = converter.structure(sent, nested)
            except ResponseValidationError as error:
                return f"{key}{error.path.removeprefix('$')}: expected {error.expected}"
        given[field.name] = value
    try:
        build_body(kind, given)
    except ValidationError as error:
        return str(error)
    return None
