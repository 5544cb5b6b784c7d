"""Every ``--help`` renders what was written; ``--version``; bare groups; did-you-mean."""

import re

import pytest
import typer

from noisyhw import __version__
from noisyhw.cli import _register_once, app, main
from noisyhw.errors import ParameterError, did_you_mean


def _commands():
    """(argv path, click command) of every command and group of the ``noisyhw`` app."""
    _register_once()
    root = typer.main.get_command(app)
    out, todo = [], [((), root)]
    while todo:
        path, cmd = todo.pop()
        out.append((path, cmd))
        for name, sub in getattr(cmd, "commands", {}).items():
            todo.append(((*path, name), sub))
    return sorted(out, key=lambda pc: pc[0])


COMMANDS = _commands()


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) or "noisyhw" for p, _ in COMMANDS])
def test_every_help_renders_what_was_written(path, cmd, capsys):
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    # plain text: no emoji (":b:" used to become one), no box drawing, 80 columns
    assert all(ord(c) < 0x2500 for c in out), [c for c in out if ord(c) >= 0x2500]
    assert max(map(len, out.splitlines())) <= 80
    flat = _squash(out)
    texts = [cmd.help or ""] + [getattr(p, "help", None) or "" for p in cmd.params]
    for text in texts:
        text = text.split("\f")[0]
        # every bracketed or colon-joined token as written: "[ray]", "a:b:step", "HOST:PORT"
        for token in re.findall(r"\S*[\[:]\S*", text):
            assert _squash(token) in flat, (token, out)


def test_help_keeps_brackets_and_colons():
    """The two manglings of the issue, in the rendered text of `sweep bpsk --help`."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "noisyhw", "sweep", "bpsk", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "a:b:step" in out and "'noisyhw[ray]'" in out
    assert "\N{NEGATIVE SQUARED LATIN CAPITAL LETTER B}" not in out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"noisyhw {__version__}"


@pytest.mark.parametrize(
    "group", [p for p, c in COMMANDS if len(p) == 1 and hasattr(c, "commands")]
)
def test_bare_group_prints_help_and_exits_0(group, capsys):
    assert main(list(group)) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"Usage: noisyhw {group[0]} ")
    assert "error" not in captured.err


def test_bare_noisyhw_prints_help_and_exits_0(capsys):
    assert main([]) == 0
    assert "Commands:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "got,choices,want",
    [
        ("fashion_mnist", ["fashion-mnist", "mnist", "digits"], "fashion-mnist"),
        ("Fashion-MNIST", ["fashion-mnist", "mnist"], "fashion-mnist"),
        ("scll", ["sc", "scl", "cascl", "ascl"], "scl"),
        ("qwerty", ["sc", "scl", "cascl"], None),
        ("scl", ["sc", "scl"], None),  # an exact choice is no near miss
    ],
)
def test_did_you_mean(got, choices, want):
    assert did_you_mean(got, choices) == want


def test_bad_choice_on_the_command_line_suggests_the_near_miss(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "fashion_mnist", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].endswith("did you mean 'fashion-mnist'?"), err
    assert not out.exists()


def test_parameter_error_suggests_only_for_a_list_of_choices():
    assert "did you mean" not in str(ParameterError("--n", "must be an integer >= 1", "l"))
    msg = str(
        ParameterError("--model", "must be one of mlp, small_cnn or torchvision:<name>", "mpl")
    )
    assert msg.endswith("did you mean 'mlp'?")
