"""Each command's ``--help`` lists what applies to it, and nothing else."""

from __future__ import annotations

import re

import pytest

from tengrai_async.cli import main

# Every command takes these: where the API is, and how requests are made.
COMMON = {"-h", "--help", "--base-url", "--timeout", "--max-retries", "-v", "--verbose", "--demo"}
OWN = {
    "export": {
        "-o", "--output", "--format", "--rejects", "--resume", "--force", "-q", "--quiet",
        "--type", "--status", "--since", "--scan-all", "--until", "--page-size", "--prefetch",
        "--max-items",
    },
    "archive": {"--no-images", "--since", "--prefetch", "--downloads", "-q", "--quiet"},
    "list": {"--offset", "--limit", "--json"},
}  # fmt: skip
# Words of one command's help that would be out of place in another's.
FOREIGN = {
    "export": ["DIR", "images"],
    "archive": ["rejects", "checkpoint", "--resume", "JSONL", "(list | head)", "(export | head)"],
    "list": ["rejects", "checkpoint", "--resume", "a local file", "DIR", "(export | head)"],
}


def help_of(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([command, "--help"]) == 0
    return capsys.readouterr().out


def options(text: str) -> set[str]:
    """The options the help text describes: those at the start of an option line."""
    found: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"  (-[-\w]+(?: [^\s,]+)?(?:, -[-\w]+(?: [^\s,]+)?)*)", line)
        if match:
            found.update(re.findall(r"(?<![\w-])(--?[a-z][-a-z]*)", match.group(1)))
    return found


@pytest.mark.parametrize("command", sorted(OWN))
def test_help_lists_the_options_of_the_command_and_no_other(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(command, capsys)
    assert options(text) == COMMON | OWN[command]
    usage = text.split("\n\n", 1)[0]
    assert set(re.findall(r"(?<![\w-])(--?[a-z][-a-z]*)", usage)) <= COMMON | OWN[command]
    for word in FOREIGN[command]:
        assert word not in text
    assert "--demo-latency" not in text  # hidden: for tests and demonstrations
    assert "TENGRAI_API_KEY" in text


def test_each_command_lists_its_own_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    codes = {
        command: re.findall(r"^  (\d+) ", help_of(command, capsys), re.MULTILINE) for command in OWN
    }
    assert codes == {
        "export": ["0", "1", "2", "3", "4", "130", "141", "143"],
        "archive": ["0", "1", "2", "3", "4", "130", "143"],
        "list": ["0", "1", "2", "3", "130", "141", "143"],
    }


def test_the_top_level_help_names_every_command_and_defers_to_theirs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for command in OWN:
        assert f"\n    {command} " in text
    assert "each COMMAND --help says more" in text
    assert "rejects file" not in text


def test_the_top_level_description_names_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    commands = ["export", "archive", "list", "create", "get", "wait", "browse", "search"]
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    description = text.split("\n\n")[1]
    for command in commands:
        assert f"\n    {command} " in text  # listed under COMMAND
        assert re.search(rf"\b{command}\b", description), command
