"""The CLI reference (``docs/cli.md``), generated from the click group in :mod:`twofold.cli`.

Every command of the group gets a section: its usage line, its help text, its
arguments and its options with their defaults, as ``twofold COMMAND --help``
shows them (click's own help records, so the page cannot disagree with the
CLI). ``python -m twofold.clidoc`` prints the Markdown;
``python -m twofold.clidoc -o docs/cli.md`` rewrites the page, and
``tests/test_docs.py`` fails when the committed page is stale.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import click

from twofold.cli import EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL, cli

REGENERATE = "python -m twofold.clidoc -o docs/cli.md"
WIDTH = 100  # fixed, so the text does not depend on the terminal it is generated in


def _help_text(command: click.Command) -> str:
    """The command's help as Markdown paragraphs (click's ``\\f`` cut and ``\\b`` markers honoured)."""
    text = inspect.cleandoc(command.help or "").split("\f")[0]
    return "\n".join(line for line in text.splitlines() if line.strip() != "\b").strip()


def _argument(argument: click.Argument) -> str:
    """``- `TOKENS...` (optional, any number)``: an argument's metavar and arity."""
    name = argument.human_readable_name
    if argument.nargs == -1:
        arity = "any number" + ("" if argument.required else ", optional")
        return f"- `{name}...` ({arity})"
    return f"- `{name}`" + (" (required)" if argument.required else " (optional)")


def _option(option: click.Option, ctx: click.Context) -> str | None:
    """``- `--seed INTEGER RANGE` — help [default: 0; range]``: click's help record as a list item (None if hidden)."""
    record = option.get_help_record(ctx)
    if record is None:
        return None
    declaration, help_text = record
    return f"- `{declaration}`" + (f" — {' '.join(help_text.split())}" if help_text else "")


def _section(name: str, command: click.Command, parent: click.Context) -> str:
    ctx = command.make_context(name, [], parent=parent, resilient_parsing=True, terminal_width=WIDTH)
    usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
    params = command.get_params(ctx)
    arguments = [_argument(p) for p in params if isinstance(p, click.Argument)]
    options = [
        line
        for p in params
        if isinstance(p, click.Option) and not set(p.opts) & set(ctx.help_option_names) and (line := _option(p, ctx))
    ]
    parts = [f"## {ctx.command_path}", f"```text\n{usage}\n```", _help_text(command)]
    if arguments:
        parts.append("**Arguments**\n\n" + "\n".join(arguments))
    if options:
        parts.append("**Options**\n\n" + "\n".join(options))
    if isinstance(command, click.Group):  # a group's subcommands follow it, each a section of its own
        parts.extend(_section(sub_name, sub, ctx) for sub_name, sub in command.commands.items())
    return "\n\n".join(part for part in parts if part)


def render(group: click.Group = cli, name: str = "twofold") -> str:
    """The whole reference: the group's help, then one section per command in definition order."""
    ctx = group.make_context(name, [], resilient_parsing=True, terminal_width=WIDTH)
    help_names = ", ".join(f"`{opt}`" for opt in ctx.help_option_names)
    header = [
        f"<!-- generated from twofold/cli.py by `{REGENERATE}`; do not edit by hand -->",
        "# CLI reference",
        _help_text(group),
        f"```text\n{' '.join([name, *group.collect_usage_pieces(ctx)])}\n```",
        (
            f"`python -m twofold` is the same program; `twofold` alone prints this help and "
            f"`twofold --version` the version. Every command also accepts {help_names}. "
            f"Exit codes: 0 success, {EXIT_FAILED} a claim failed (or a step is not valid), "
            f"{EXIT_INPUT} bad input (a one-line message, never a traceback), {EXIT_INTERNAL} internal error."
        ),
    ]
    sections = [_section(command_name, command, ctx) for command_name, command in group.commands.items()]
    return "\n\n".join(header + sections) + "\n"


@click.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="write the page here instead of printing it")
def main(output: Path | None) -> None:
    """Print (or write) the Markdown CLI reference of twofold."""
    text = render()
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None


if __name__ == "__main__":
    main()
