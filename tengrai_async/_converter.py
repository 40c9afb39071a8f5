"""The package's own cattrs converter: JSON artworks to validated models and back.

A hook factory registered on the models builds each class's structure and unstructure function
with the code generator (``_codegen``); the models, their kinds and their enums are discovered
from the classes, never listed here. Structuring is strict (no coercion, a JSON path on every
failure); unstructuring an artwork that came from the API gives back exactly its JSON.
"""

from __future__ import annotations

import collections.abc
import enum
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar, cast, get_args, get_origin, overload

import attrs
import cattrs

from . import _rules
from ._codegen import (
    MISSING,
    Invalid,
    camel_case,
    generate_items,
    generate_parser,
    generate_structure,
    generate_unstructure,
    is_model,
    slot_setter,
)
from ._errors import ResponseValidationError, ValidationError
from ._fields import NESTED, RULE, register_canonical
from ._json import decode_json
from ._models import KINDS, Artwork, ArtworkPage, KnownArtwork, UnknownArtwork
from ._readonly import FrozenDict, freeze, thaw

__all__ = ["TengrAIConverter", "camel_case", "converter", "make_converter", "wire_object"]

T = TypeVar("T")

_structure_cache: dict[tuple[type, bool], Callable[[Any], Any]] = {}
_unstructure_cache: dict[type, Callable[[Any], dict[str, Any]]] = {}


def _structure_fn(cls: type, *, copy: bool = False) -> Callable[[Any], Any]:
    """The generated structure function of *cls*: keeping its input, or a read-only copy."""
    fn = _structure_cache.get((cls, copy))
    if fn is None:
        fn = _structure_cache[cls, copy] = generate_structure(cls, copy=copy)
    return fn


def _unstructure_fn(cls: type) -> Callable[[Any], dict[str, Any]]:
    fn = _unstructure_cache.get(cls)
    if fn is None:
        fn = _unstructure_cache[cls] = generate_unstructure(cls, _unstructure_fn)
    return fn


# --- the unknown kind, read leniently ---------------------------------------------------------


def _lenient(rule: _rules.Rule) -> Callable[[Any], Any]:
    parse = generate_parser(rule)

    def read(value: Any) -> Any:
        try:
            return parse(value)
        except Invalid:
            return None

    return read


_COMMON_RULES: Final = {
    field.name: field.metadata[RULE]
    for field in attrs.fields(KnownArtwork)
    if RULE in field.metadata
}
#: (wire key, field name, lenient reader) of each shared field that has a rule.
_READERS: Final = tuple(
    (camel_case(name), name, _lenient(rule)) for name, rule in _COMMON_RULES.items()
)
_set_unknown: Final = {
    field.name: slot_setter(UnknownArtwork, field.name) for field in attrs.fields(UnknownArtwork)
}


def _structure_unknown(obj: dict[str, Any], artwork_type: str) -> UnknownArtwork:
    """An unknown kind: each shared field where it has the shared shape, else ``None``.

    Its JSON is frozen at once (its ``parameters`` are part of it): a rare kind, so the copy
    costs the page path nothing.
    """
    try:
        raw: FrozenDict = freeze(obj)
    except ValidationError as exc:
        raise Invalid("", exc.value, exc.expected) from None
    artwork = object.__new__(UnknownArtwork)
    for key, name, read in _READERS:
        _set_unknown[name](artwork, read(raw.get(key)))
    _set_unknown["artwork_type"](artwork, artwork_type)
    parameters = raw.get("parameters")
    _set_unknown["parameters"](artwork, parameters if type(parameters) is FrozenDict else None)
    _set_unknown["_raw"](artwork, raw)
    return artwork


def _dispatch(obj: Any, *, copy: bool) -> Artwork:
    """Dispatch one JSON item on ``artworkType``; raise :class:`Invalid` with a relative path."""
    if type(obj) is not dict and type(obj) is not FrozenDict:
        raise Invalid("", obj, "a JSON object")
    item = cast("dict[str, Any]", obj)
    kind: object = item.get("artworkType", MISSING)
    if type(kind) is not str:
        raise Invalid(".artworkType", kind, "a string naming the artwork type")
    fn = (_COPYING if copy else _KEEPING).get(kind)
    if fn is None:
        return _structure_unknown(item, kind)
    result: Artwork = fn(item)
    return result


def _structure_artwork(obj: Any) -> Artwork:
    """One item of a page: the model keeps *obj* itself as its raw JSON (frozen when read)."""
    return _dispatch(obj, copy=False)


def _structure_artwork_copy(obj: Any) -> Artwork:
    """One caller's object: the model keeps a read-only copy, made while it is read."""
    return _dispatch(obj, copy=True)


#: Each documented kind's generated function, by ``artworkType``: keeping or copying its input.
_KEEPING: Final = {kind: _structure_fn(cls) for kind, cls in KINDS.items()}
_COPYING: Final = {kind: _structure_fn(cls, copy=True) for kind, cls in KINDS.items()}


#: The page loop: every documented kind inline, in the enum's order (selena, the commonest,
#: first); anything else goes through the dispatcher above.
_structure_items: Final = generate_items(KINDS.items(), _structure_artwork)


def wire_object(artwork: Artwork) -> dict[str, Any]:
    """The artwork's JSON object, for writing it out.

    The API's own object, not a copy, when the artwork came from the API (callers must not
    change it); else the canonical JSON.
    """
    # The converter is the models' other half: it may read their private slot.
    raw: dict[str, Any] | None = artwork._raw  # noqa: SLF001  # pyright: ignore[reportPrivateUsage]
    return raw if raw is not None else _unstructure_artwork(artwork)


def _unstructure_artwork(obj: Artwork) -> dict[str, Any]:
    if type(obj) is UnknownArtwork:
        copy: dict[str, Any] = thaw(obj._raw)  # noqa: SLF001 - the models' other half
        return copy
    return _unstructure_fn(type(obj))(obj)


class TengrAIConverter(cattrs.Converter):
    """The package's converter: strict, camelCase, path-reporting; also structures pages.

    ``structure(obj, Artwork)`` dispatches on ``artworkType``; ``unstructure(model)`` returns
    the camelCase JSON object. Every failure is a :class:`ResponseValidationError`.

    For type checkers, ``structure(obj, SelenaArtwork)`` returns a ``SelenaArtwork``, and
    ``structure(obj, Artwork)`` (or any other union or special form) returns ``Any``: no
    annotation can single out one union among all. :meth:`structure_artwork` is typed
    ``Artwork``.
    """

    #: ``structure(obj, Artwork)`` without cattrs' dispatch, which hashes the 13-member Union
    #: on every call (about 0.8 µs, a tenth of the work): set by :func:`make_converter` once
    #: every hook is in, and dropped when any structure hook is registered afterwards, so
    #: that a hook of the caller's is found by cattrs as usual.
    _artwork_hook: Callable[[Any], Any] | None = None

    # cattrs types ``cl`` as ``type[T]``, which a Union is not.
    @overload
    def structure(self, obj: Any, cl: type[T]) -> T: ...
    @overload
    def structure(self, obj: Any, cl: Any) -> Any: ...
    def structure(self, obj: Any, cl: Any) -> Any:
        """Structure *obj* as *cl* (cattrs' ``structure``; ``Artwork`` by the fast way)."""
        hook = self._artwork_hook
        if hook is not None and cl is Artwork:
            return hook(obj)
        return super().structure(obj, cl)

    def register_structure_hook(self, *args: Any, **kwargs: Any) -> Any:
        """As cattrs' own; ``structure(obj, Artwork)`` then goes through cattrs' dispatch."""
        self._artwork_hook = None
        result: Any = super().register_structure_hook(*args, **kwargs)
        return result

    def register_structure_hook_func(self, *args: Any, **kwargs: Any) -> Any:
        """As cattrs' own (see :meth:`register_structure_hook`)."""
        self._artwork_hook = None
        result: Any = super().register_structure_hook_func(*args, **kwargs)
        return result

    def register_structure_hook_factory(self, *args: Any, **kwargs: Any) -> Any:
        """As cattrs' own (see :meth:`register_structure_hook`)."""
        self._artwork_hook = None
        register: Callable[..., Any] = super().register_structure_hook_factory
        return register(*args, **kwargs)

    def structure_artwork(self, obj: Any) -> Artwork:
        """Structure one JSON artwork: ``structure(obj, Artwork)``, typed ``Artwork``.

        Raises:
            ResponseValidationError: The object breaks a rule, with its JSON path.
        """
        hook = self._artwork_hook
        result: Artwork = hook(obj) if hook is not None else self.structure(obj, Artwork)
        return result

    def structure_page(
        self,
        data: Any,
        *,
        offset: int = 0,
        limit: int | None = None,
        skip_invalid: bool = False,
    ) -> ArtworkPage:
        """Structure one decoded response body (a JSON array) into an :class:`ArtworkPage`.

        The page keeps the objects of *data* as its artworks' raw JSON (no copy, for speed):
        do not change them afterwards. :meth:`loads_page` decodes bytes of its own.

        Args:
            data: The decoded body.
            offset: The requested offset: errors report each item's absolute offset.
            limit: The requested limit (defaults to the number of items).
            skip_invalid: Record invalid items in ``page.invalid`` instead of raising.

        Raises:
            ResponseValidationError: The body is not an array, or an item breaks a rule (unless
                *skip_invalid*), with the path ``$[i]...`` and the item's absolute offset.
        """
        if type(data) is not list:
            raise ResponseValidationError(
                "$", data, "a JSON array of artworks", raw=data, offset=offset
            )
        data_list = cast("list[object]", data)
        items: list[Artwork] = []
        invalid: list[ResponseValidationError] = []
        index = 0
        count = len(data_list)
        while index < count:
            try:
                _structure_items(data_list, index, items)
                break
            except Invalid as exc:
                # The generated loop appends in order, so the failing item is the next index.
                index = len(items) + len(invalid)
                obj = data_list[index]
                error = ResponseValidationError(
                    f"$[{index}]{exc.path}",
                    exc.value,
                    exc.expected,
                    raw=obj,
                    offset=offset + index,
                )
                if not skip_invalid:
                    raise error from None
                invalid.append(error)
                index += 1
        return ArtworkPage(
            items=tuple(items),
            offset=offset,
            limit=count if limit is None else limit,
            count=count,
            invalid=tuple(invalid),
        )

    def loads_page(
        self,
        body: bytes | str,
        *,
        offset: int = 0,
        limit: int | None = None,
        skip_invalid: bool = False,
    ) -> ArtworkPage:
        """Decode a JSON response body and structure it with :meth:`structure_page`.

        Raises:
            MalformedResponseError: The body is not JSON at all (path ``$``).
            ResponseValidationError: As for :meth:`structure_page`.
        """
        data = self.decode_body(body, offset=offset)
        return self.structure_page(data, offset=offset, limit=limit, skip_invalid=skip_invalid)

    @staticmethod
    def decode_body(body: bytes | str, *, offset: int = 0) -> Any:
        """Decode a JSON response body (without structuring it).

        Raises:
            MalformedResponseError: The body is not JSON at all (path ``$``).
        """
        return decode_json(body, offset=offset)


def _wrap_structure(fn: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def structure(obj: Any, _: Any) -> Any:
        try:
            # *fn* copies: the caller changing its own dict later cannot change a frozen model.
            return fn(obj)
        except Invalid as exc:
            raise ResponseValidationError(
                f"${exc.path}", exc.value, exc.expected, raw=obj
            ) from None

    return structure


def _structure_one(obj: Any, _cls: Any = None) -> Artwork:
    """``structure(obj, Artwork)``: the model keeps a read-only copy of *obj*.

    The documented kinds go straight to their generated function: this is the per-object
    path of webhook handlers and users' own loops, as hot as a page's.
    """
    try:
        if type(obj) is dict:
            kind: object = cast("dict[str, Any]", obj).get("artworkType")
            fn = _COPYING.get(kind) if type(kind) is str else None
            if fn is not None:
                result: Artwork = fn(obj)
                return result
        return _structure_artwork_copy(obj)
    except Invalid as exc:
        raise ResponseValidationError(f"${exc.path}", exc.value, exc.expected, raw=obj) from None


def _enum_hook(cls: type[enum.Enum]) -> Callable[[Any, Any], Any]:
    rule = _rules.OneOf(cls)
    table = rule.by_value

    def structure(obj: Any, _: Any) -> Any:
        try:
            return table[obj]
        except (KeyError, TypeError):
            raise ResponseValidationError("$", obj, rule.expected, raw=obj) from None

    return structure


def _is_artwork_sequence(cls: Any) -> bool:
    """``list[Artwork]``, ``tuple[Artwork, ...]`` and the abstract sequences of artworks."""
    origin = get_origin(cls)
    args = tuple(arg for arg in get_args(cls) if arg is not Ellipsis)
    return origin in (list, tuple, collections.abc.Sequence) and args == (Artwork,)


def _structure_artworks(obj: Any, cls: Any) -> Any:
    """A caller's list of artworks: each copied like ``structure(item, Artwork)``.

    Errors report ``$[i]...`` paths and the item's index as its offset, as the page path does
    (cattrs would wrap ours in an exception group).
    """
    if not isinstance(obj, list):
        raise ResponseValidationError("$", obj, "a JSON array of artworks", raw=obj, offset=0)
    given: list[Any] = obj  # pyright: ignore[reportUnknownVariableType] - checked above
    items: list[Artwork] = []
    for index, item in enumerate(given):
        try:
            items.append(_structure_artwork_copy(item))
        except Invalid as exc:
            raise ResponseValidationError(
                f"$[{index}]{exc.path}", exc.value, exc.expected, raw=item, offset=index
            ) from None
    return tuple(items) if get_origin(cls) is tuple else items


def _models(classes: collections.abc.Iterable[type]) -> Iterator[type]:
    """Every model reachable from *classes* through nested fields, each once."""
    seen: set[type] = set()
    stack = list(classes)
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        stack.extend(f.metadata[NESTED] for f in attrs.fields(cls) if NESTED in f.metadata)


def _enums(classes: collections.abc.Iterable[type]) -> dict[type[enum.Enum], None]:
    """Every enum a rule of these models names, in a stable order."""
    found: dict[type[enum.Enum], None] = {}
    for cls in classes:
        for field in attrs.fields(cls):
            rule: _rules.Rule | None = field.metadata.get(RULE)
            if isinstance(rule, _rules.OneOf):
                found[cast("_rules.OneOf[enum.Enum]", rule).enum] = None
    return found


def _model_structure_hook(cls: type) -> Callable[[Any, Any], Any]:
    return _wrap_structure(_structure_fn(cls, copy=True))


def make_converter() -> TengrAIConverter:
    """Build the package's converter with every hook registered."""
    conv = TengrAIConverter()
    conv.register_structure_hook_func(_is_artwork_sequence, _structure_artworks)
    conv.register_structure_hook_factory(is_model, _model_structure_hook)
    conv.register_unstructure_hook_factory(is_model, _unstructure_fn)
    conv.register_structure_hook(Artwork, _structure_one)
    conv.register_unstructure_hook(Artwork, _unstructure_artwork)
    conv.register_unstructure_hook(UnknownArtwork, _unstructure_artwork)
    for enum_cls in _enums(_models(KINDS.values())):
        # cattrs routes (str, Enum) classes to its str hook, so each gets its own strict hook.
        conv.register_structure_hook(enum_cls, _enum_hook(enum_cls))
        conv.register_unstructure_hook(enum_cls, lambda member: member.value)
    # Its own converter, every hook in: the fast way is safe from here on.
    conv._artwork_hook = _structure_one  # noqa: SLF001  # pyright: ignore[reportPrivateUsage]
    return conv


#: The package's one converter (re-exported as ``tengrai_async.converter``); every part of the
#: SDK structures and unstructures through it.
converter: Final = make_converter()
# Hand-built models unstructure through it for their ``raw``: handed down, not imported there.
register_canonical(converter.unstructure)
