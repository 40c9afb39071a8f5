"""``tengrai-async create KIND``: one subcommand per kind, its options read from the rule table.

Each kind's parameters become kebab-case options (``--aspect-ratio 16:9``, ``--nsfw/--no-nsfw``)
whose types, allowed values and server defaults come from the kind's ``<Kind>Parameters``; an
option left out is not sent. Every rule is checked before anything is sent (exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import textwrap
from typing import Any, Final, TextIO

import attrs
import orjson

from .. import _rules
from .._codegen import camel_case
from .._converter import converter
from .._create import CREATE_KINDS, CreateKind, build_body, parameter_fields
from .._errors import InvalidParameterError, ResponseValidationError, TengrAIError
from .._fields import NESTED, RULE
from ._arguments import PROG, Commands, UsageError
from ._exits import EXIT_OK
from ._jobs import (
    JOB_EXIT_NOTE,
    job_client,
    job_options,
    make_directory,
    print_artwork,
    wait_and_save,
)

__all__ = ["add_create_parser", "run_create"]

_ATTRIBUTE: Final = re.compile(r"^ {8}(?P<name>[a-z0-9_]+): (?P<text>.*)$")


def option_name(field_name: str) -> str:
    """The option of a parameter: ``aspect_ratio`` is ``--aspect-ratio``."""
    return "--" + field_name.replace("_", "-")


def _descriptions(kind: CreateKind[Any]) -> dict[str, str]:
    """Each field's words, from the ``Attributes:`` section of its parameters class."""
    found: dict[str, str] = {}
    current = None
    for line in (kind.parameters.__doc__ or "").splitlines():
        match = _ATTRIBUTE.match(line)
        if match:
            current = match["name"]
            found[current] = match["text"]
        elif current is not None and line.startswith(" " * 12):
            found[current] += " " + line.strip()
        else:
            current = None
    return found


def _parse_with(rule: _rules.Rule, convert: Any) -> Any:
    def parse(text: str) -> Any:
        value = convert(text)
        if not rule.accepts(value):
            raise argparse.ArgumentTypeError(f"expected {rule.expected}, got {text!r}")
        return value

    return parse


def _integer(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _points(cls: type) -> Any:
    def parse(text: str) -> Any:
        try:
            return converter.structure(orjson.loads(text), cls)
        except (orjson.JSONDecodeError, ResponseValidationError) as exc:
            raise argparse.ArgumentTypeError(
                f'expected JSON such as {{"points": [[0.5, 0.5]], "labels": [1]}} ({exc})'
            ) from None

    return parse


def _add_option(
    group: argparse._ArgumentGroup, field: attrs.Attribute[Any], words: str, *, required: bool
) -> None:
    name = option_name(field.name)
    default = field.default if field.default is not attrs.NOTHING else None
    shown = getattr(default, "value", default)
    if isinstance(shown, bool):
        shown = str(shown).lower()
    server = "" if shown is None else f" (server default: {shown})"
    words = words.replace("``", "")
    nested = field.metadata.get(NESTED)
    options: dict[str, Any] = {"dest": field.name, "default": None}
    rule = field.metadata.get(RULE)
    if nested is not None:
        options.update(type=_points(nested), metavar="JSON")
    elif isinstance(rule, _rules.OneOf):
        options.update(choices=[str(m.value) for m in rule.allowed], metavar="VALUE")
        words = f"{words} One of: {', '.join(str(m.value) for m in rule.allowed)}."
    elif isinstance(rule, _rules.Boolean):
        options.update(action=argparse.BooleanOptionalAction)
    elif isinstance(rule, _rules.IntRange | _rules.Choice):
        options.update(type=_parse_with(rule, _integer), metavar="N")
        words = f"{words} ({rule.expected})"
    elif isinstance(rule, _rules.Number):
        options.update(type=_parse_with(rule, _number), metavar="X")
        words = f"{words} ({rule.expected})"
    else:
        options.update(metavar="URL" if isinstance(rule, _rules.Uri) else "TEXT")
    group.add_argument(
        name,
        required=required,
        help=(words + (" Required." if required else server)).replace("%", "%%"),
        **options,
    )


def add_create_parser(commands: Commands) -> None:
    """Register ``create KIND`` with one subcommand per kind that has a create path."""
    listing = "\n".join(
        f"  {segment:<18} {kind.artwork_type.value}: {kind.summary}"
        for segment, kind in CREATE_KINDS.items()
    )
    parser = commands.add_parser(
        "create",
        help="create an artwork (a billed job) of one kind; optionally wait and save it",
        description=textwrap.fill(
            "Create an artwork: POST /v2/artworks/KIND with exactly the options given (the "
            "server's defaults apply to the others). Prints the new artwork's id; --wait "
            "waits for the end, --save DIR downloads the results. A create that may have "
            "reached the server is never sent again before the listing was searched for it. "
            "selena and photo_pilot have no documented create path.",
            width=78,
        ),
        epilog=f"kinds (KIND --help lists its parameters):\n{listing}\n\n{JOB_EXIT_NOTE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for segment, kind in CREATE_KINDS.items():
        sub = kinds.add_parser(
            segment,
            parents=[job_options(waits=True)],
            help=kind.summary,
            description=textwrap.fill(
                f"Create a {kind.artwork_type.value} artwork ({kind.summary}): POST "
                f"{kind.path}. An option left out is not sent: the server's default applies.",
                width=78,
            ),
            epilog=JOB_EXIT_NOTE,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        group = sub.add_argument_group(f"{segment} parameters")
        words = _descriptions(kind)
        for field in parameter_fields(kind):
            text = words.get(field.name, camel_case(field.name))
            _add_option(group, field, text, required=field.name in kind.required)
        sub.add_argument(
            "--wait",
            action="store_true",
            help="wait for the job to end; print its status and result URLs (--save implies it)",
        )


def _body(kind: CreateKind[Any], args: argparse.Namespace) -> dict[str, Any]:
    """The arguments the options give, checked by every rule of the kind (exit 2 if not)."""
    given = {field.name: getattr(args, field.name) for field in parameter_fields(kind)}
    try:
        build_body(kind, given)
    except InvalidParameterError as exc:
        names = {camel_case(field.name): field.name for field in parameter_fields(kind)}
        option = option_name(names.get(exc.argument, exc.argument))
        raise UsageError(f"argument {option}: {exc}") from None
    return {name: value for name, value in given.items() if value is not None}


async def run_create(args: argparse.Namespace, stderr: TextIO) -> int:
    """``create KIND``: send it, print the id (or wait, print and save); the exit code."""
    kind = CREATE_KINDS[args.kind]
    arguments = _body(kind, args)
    if args.save is not None:
        make_directory(args.save)  # before the job is paid for, not after
    async with job_client(args) as client:
        create = getattr(client.artworks, kind.method)
        try:
            artwork = await create(**arguments)
        except TengrAIError as exc:
            if exc.job_may_exist:
                stderr.write(
                    f"{PROG}: the job may exist upstream all the same (sent at "
                    f"{exc.sent_at:%Y-%m-%d %H:%M:%S %Z}): look for it with `{PROG} list` "
                    "before creating it again\n"
                )
            raise
        except (asyncio.CancelledError, KeyboardInterrupt):
            stderr.write(
                f"{PROG}: interrupted while creating: the job may exist upstream "
                f"(`{PROG} list` shows the newest)\n"
            )
            raise
        if not args.wait and args.save is None:  # --save waits too
            print_artwork(artwork, as_json=args.json, final=False)
            return EXIT_OK
        if not args.quiet:
            stderr.write(f"{PROG}: created {artwork.id}; waiting for it\n")
        return await wait_and_save(client, artwork, args, stderr)
