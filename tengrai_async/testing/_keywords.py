"""How the keywords of :class:`FakeTengrAI` that are fields of an options group become that group.

A group is given whole, or field by field as keywords of the same names (a field left out keeps its
default); giving both for one group is a ``TypeError``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import attrs

__all__ = ["NOT_GIVEN", "options_of"]


class _NotGiven(enum.Enum):
    # The default of a keyword that is a field of a group: the field's own default.
    NOT_GIVEN = "not given"

    def __repr__(self) -> str:
        return "<the field's default>"


#: The default of every such keyword, so that a keyword given is told from one left out. Typed
#: ``Any`` so that each keyword keeps its field's own type in the signature (``count: int``).
NOT_GIVEN: Final[Any] = _NotGiven.NOT_GIVEN
_O = TypeVar("_O")


def options_of(cls: type[_O], name: str, keywords: Mapping[str, Any]) -> _O:
    """The group *name* among *keywords*, or a *cls* built from its fields among them.

    *keywords* are the constructor's, by name: the group's own keyword and one per field of
    *cls* (an attrs class). Raises ``TypeError`` for a group that is not a *cls*, or one given
    with some of its fields too; *cls* raises what its validators do.
    """
    group = keywords[name]
    given = {
        field: keywords[field]
        for field in attrs.fields_dict(cls)  # type: ignore[arg-type] # an attrs class
        if keywords[field] is not NOT_GIVEN
    }
    if group is None:
        return cls(**given)
    if not isinstance(group, cls):
        msg = f"{name} must be a {cls.__name__}, not {type(group).__name__}"
        raise TypeError(msg)
    if given:
        msg = f"give {', '.join(given)} in {name}= or as keywords, not both"
        raise TypeError(msg)
    return group
