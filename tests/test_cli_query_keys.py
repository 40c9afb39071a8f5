"""The export's query keys: one table, and the parser's options agree with it.

Each key of a checkpoint's query is named by one ``export`` option whose parsed ``dest`` is
the key itself: what the "given" check of a resume reads from the parsed arguments.
"""

from __future__ import annotations

import argparse

from tengrai_async.cli._app import build_parser
from tengrai_async.cli._checkpoint import QUERY_KEYS, QUERY_OPTIONS


def _export_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen: argparse.ArgumentParser = action.choices["export"]
            return chosen
    raise AssertionError("no export subparser")


def test_each_query_key_is_the_dest_of_its_export_option() -> None:
    options = {
        option: action.dest
        for action in _export_parser()._actions
        for option in action.option_strings
    }
    assert {key: options[option] for key, option in QUERY_OPTIONS.items()} == {
        key: key for key in QUERY_KEYS
    }


def test_the_query_keys_are_the_table_s_keys_in_its_order() -> None:
    assert tuple(QUERY_OPTIONS) == QUERY_KEYS


def test_the_parsed_arguments_give_only_the_options_typed() -> None:
    from tengrai_async.cli._export_command import _given  # noqa: PLC0415

    args = build_parser().parse_args(["export", "--type", "image", "--max-items", "0"])
    assert _given(args) == {"types", "max_items"}
