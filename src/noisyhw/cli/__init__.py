"""The ``noisyhw`` command: a thin layer that parses, validates and calls the library.

Each area has its own sub-command module exposing ``app = typer.Typer(...)``; they are listed in
:data:`SUBCOMMANDS` (name, module). Errors noisyhw raises on purpose become one line on stderr
and exit code 2. Help texts are plain text (rich markup off: ``[ray]`` and ``a:b:step`` print as
written); a bare group (``noisyhw polar``) prints its help and exits 0.
"""

from __future__ import annotations

import contextlib
import importlib
import sys

import typer

from .. import __version__
from ..errors import NoisyhwError, ParameterError, renamed

__all__ = ["SUBCOMMANDS", "app", "main"]

#: (sub-command name, module path with ``app``) — add a line per area.
SUBCOMMANDS: list[tuple[str, str]] = [
    ("data", "noisyhw.cli.data"),
    ("pcm", "noisyhw.cli.pcm"),
    ("prune", "noisyhw.cli.prune"),
    ("storage", "noisyhw.cli.storage"),
    ("sweep", "noisyhw.cli.sweep"),
    ("polar", "noisyhw.cli.polar"),
    ("noise", "noisyhw.cli.analog"),
    ("freq", "noisyhw.cli.freq"),
    ("nvm", "noisyhw.cli.nvm"),
    ("stack", "noisyhw.cli.stack"),
]

#: top-level commands: (module path, function name)
COMMANDS: list[tuple[str, str]] = [
    ("noisyhw.cli.train", "train"),
    ("noisyhw.cli.train", "evaluate"),
    ("noisyhw.cli.demo", "demo"),
    ("noisyhw.cli.compare", "compare"),
    ("noisyhw.cli.export", "export"),
]

app = typer.Typer(
    name="noisyhw",
    help="Neural networks and data on imperfect hardware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"noisyhw {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Neural networks and data on imperfect hardware."""


def _register() -> None:
    for module, func in COMMANDS:
        app.command()(getattr(importlib.import_module(module), func))
    for name, module in SUBCOMMANDS:
        sub = importlib.import_module(module).app
        # help renders what was written (no rich markup, no :emoji:); a bare group shows its help
        sub.rich_markup_mode = None
        sub.info.no_args_is_help = True
        app.add_typer(sub, name=name)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``noisyhw`` script; returns the exit code."""
    from .common import reset_output

    reset_output()  # the --format of an earlier call in this process does not carry over
    try:
        _register_once()
        # without standalone mode typer *returns* the code of an Exit (also the 130 it makes of
        # Ctrl-C) instead of raising it; anything else it returns is a command's return value
        code = app(args=argv, prog_name="noisyhw", standalone_mode=False)
        if isinstance(code, int) and not isinstance(code, bool) and code:
            if code == 130:
                print("interrupted: rerun the same command to resume", file=sys.stderr)
            return code
    except NoisyhwError as exc:
        _discard_unused_runs()
        if isinstance(exc, ParameterError):  # name the option typed, not the library field
            exc = renamed(exc)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except Exception as exc:  # click usage errors carry their own exit code (2)
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: its help, and success
            print(exc.ctx.get_help())
            return 0
        if isinstance(exc, _click_errors()):
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            print(f"error: {exc.format_message()}{hint}", file=sys.stderr)
            return exc.exit_code
        _discard_unused_runs()
        raise
    return 0


def _discard_unused_runs() -> None:
    """A refused command leaves no folder: remove run folders it created and stored nothing in."""
    run = sys.modules.get("noisyhw.sweep.run")
    if run is not None:
        run.Run.discard_unused()


def _click_errors() -> tuple[type[Exception], ...]:
    """Usage-error classes of click and of the copy of click that typer >= 0.20 bundles."""
    kinds = []
    for module in ("click.exceptions", "typer._click.exceptions"):
        with contextlib.suppress(ImportError, AttributeError):
            kinds.append(importlib.import_module(module).ClickException)
    return tuple(kinds)


_REGISTERED = False


def _register_once() -> None:
    global _REGISTERED
    if not _REGISTERED:
        _register()
        _REGISTERED = True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
