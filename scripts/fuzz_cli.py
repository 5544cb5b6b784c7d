#!/usr/bin/env python
"""Bad-input harness for the ``noisyhw`` CLI: every subcommand x a table of bad values.

Every case runs ``noisyhw <argv>`` in its own child process (forked from a parent that has
imported noisyhw once, or a fresh interpreter with ``--spawn``), in an empty working folder,
with a timeout. A case passes when the command

- exits with code 2,
- prints exactly one line on stderr, starting with ``error:``, and no traceback,
- writes nothing (its working folder stays empty: no ``runs/...``), and
- leaves every fixture (an occupied ``--out``, a damaged run folder, model files) unchanged.

Outcomes: ``ok``, ``traceback`` (another exit code or a traceback), ``hang`` (timeout),
``accepted`` (exit 0: an invalid input was accepted), ``message`` (exit 2 but not one
``error:`` line), ``left`` (refused but wrote something or changed a fixture), ``other-reason``
(refused, but the message does not name the option given the bad value: the refusal may come
from elsewhere, e.g. a base command line that is itself invalid).

The table is built from the commands themselves (typer introspection): each option gets the bad
values of its kind (integer, number, number list, name, file, data root, run folder), on top of
a small valid base command line. ``--fast`` keeps a subset that runs in well under a minute
(``make test``); the whole table is ``make fuzz``.

    python scripts/fuzz_cli.py                # the whole table, 2 at a time
    python scripts/fuzz_cli.py --fast -j 2    # the subset tests/fuzz runs
    python scripts/fuzz_cli.py -k "sweep bpsk" --show   # one command, print every case
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OUTCOMES = ("ok", "traceback", "hang", "accepted", "message", "left", "other-reason")


# --------------------------------------------------------------------------- the table
@dataclasses.dataclass(frozen=True)
class Case:
    """One command line that must be refused."""

    command: str  # e.g. "sweep bpsk"
    option: str  # the option (or argument) given a bad value
    label: str  # what the bad value is (for the report)
    argv: tuple[str, ...]  # with {FIX} standing for the fixtures folder

    @property
    def id(self) -> str:
        return f"{self.command} {self.option} {self.label}"


#: a valid, small command line per command (a bad value replaces or adds one option)
BASE: dict[str, list[str]] = {
    "train": ["--dataset", "digits", "--model", "mlp", "--epochs", "1", "--n-train", "64"],
    "evaluate": ["--checkpoint", "{FIX}/model.pt", "--dataset", "digits"],
    "demo": ["--fast", "--only", "classifier", "--dataset", "digits"],
    "data list": [],
    "data info": ["digits"],
    "data download": ["digits"],
    "pcm bound": ["--alpha", "2", "--beta", "2", "--p", "1", "--n", "4"],
    "pcm table": ["--max", "2"],
    "pcm simulate": ["--alpha", "2", "--beta", "2", "--p", "1", "--n", "8", "--writes", "10"],
    "prune sweep": ["--dataset", "digits", "--model", "mlp", "--epochs", "1", "--n-train", "64"],
    "storage campaign": ["--trials", "1", "--bers", "1e-3"],
    "storage distortion": ["--n", "2,3"],
    "sweep status": ["{FIX}/run"],
    "sweep ls": ["{FIX}"],
    "sweep bpsk": ["--ebn0", "1", "--max-frames", "1000", "--chunk-size", "500"],
    "polar simulate": ["--n", "64", "--k", "32", "--ebn0", "2", "--max-frames", "100"],
    "polar text": ["--ebn0", "2", "--schemes", "scl", "--streams", "2", "--blocks", "1"],
    "noise sweep": ["--dataset", "digits", "--model", "mlp", "--epochs", "1", "--n-train", "64"],
    "noise train": ["--dataset", "digits", "--model", "mlp", "--epochs", "1", "--n-train", "64"],
    "noise attack": ["--dataset", "digits", "--model", "mlp", "--epochs", "1", "--n-train", "64"],
    "freq stats": ["--dataset", "digits", "--size", "16", "--n", "64"],
    "freq train": [
        "--dataset",
        "fashion-mnist",
        "--epochs",
        "1",
        "--n-train",
        "64",
        "--n-test",
        "32",
    ],
    "freq select": ["--preset", "24"],
    "nvm train": ["--epochs", "1", "--n-train", "64", "--n-test", "32", "--hidden", "8"],
    "nvm sweep": ["--epochs", "1", "--n-train", "64", "--n-test", "32", "--repeats", "1"],
    "nvm energy": ["--hidden", "8"],
}

INT_BAD = {
    "empty": "",
    "word": "abc",
    "fraction": "1.5",
    "nan": "nan",
    "1e12": "1e12",
    "negative": "-1",
    "huge": "99999999999999999999",
    "-huge": "-99999999999999999999",
}
FLOAT_BAD = {
    "empty": "",
    "word": "abc",
    "nan": "nan",
    "inf": "inf",
    "-inf": "-inf",
    "1e308": "1e308",
    "-1e308": "-1e308",
}
LIST_BAD = {
    "empty": "",
    "comma": ",",
    "word": "abc",
    "nan": "nan",
    "1e30": "1e30",
    "-1e30": "-1e30",
    "range-1e12": "0:1e12:1",
    "range-nan": "0:nan:1",
    "list-nan": "1,nan",
}
NAME_BAD = {"empty": "", "bogus": "bogus-xyz", "spaces": "  "}
FILE_BAD = {
    "missing": "{FIX}/missing/none.pt",
    "folder": "{FIX}/empty_dir",
    "garbage": "{FIX}/garbage.bin",
    "empty-file": "{FIX}/empty.bin",
    "bare-tensor": "{FIX}/tensor.pt",
    "flipped": "{FIX}/flipped.pt",
}
ROOT_BAD = {"missing": "{FIX}/missing", "file": "{FIX}/garbage.bin", "empty-dir": "{FIX}/empty_dir"}
OUT_BAD = {
    "empty": "",
    "file": "{FIX}/garbage.bin",
    "occupied": "{FIX}/occupied",
    "damaged-run": "{FIX}/damaged_run",
    "other-run": "{FIX}/run",
}
DEVICE_BAD = {"empty": "", "bogus": "bogus", "cuda-99": "cuda:99"}

#: options whose values are names from a fixed set, paths of a kind, or runtime-only
PATH_KINDS = {
    "--checkpoint": FILE_BAD,
    "--model-file": FILE_BAD,
    "--heat": FILE_BAD,
    "--params": FILE_BAD,
    "--root": ROOT_BAD,
    "--out": OUT_BAD,
    "--corpus": {"missing": "{FIX}/missing/corpus.txt", "folder": "{FIX}/empty_dir", "empty": ""},
}
#: bad values that are valid for one option (with why), left out of the table
VALID_FOR = {
    ("--test-snrs", "inf"): "a noiseless test point",
    ("--on-off", "inf"): "an ideal device (any ratio > 1 is valid)",
    ("--on-off", "1e308"): "an ideal device (any ratio > 1 is valid)",
    ("--prog-noise", "empty"): "documented: '' = no programming-noise sweep",
    ("--read-noise", "empty"): "documented: '' = no read-noise sweep",
    ("--adc-noise", "empty"): "documented: '' = no ADC-noise sweep",
}
#: (command, option) pairs left out: ``data download --root`` is a destination (a new folder
#: is valid) and needs the network
SKIP = {("data download", "--root")}
#: extra cases from issue 25 that the generic table does not produce
EXTRA: list[tuple[str, str, list[str]]] = [
    ("evaluate", "text-dataset", ["--dataset", "fortunes"]),
    ("storage campaign", "text-dataset", ["--dataset", "fortunes", "--model", "mlp"]),
    ("noise attack", "lm-substitute", ["--substitute", "char_lstm"]),
    ("nvm energy", "hidden-65536", ["--hidden", "65536"]),
    ("nvm energy", "sweep-bits-17", ["--sweep-bits", "17"]),
    ("nvm sweep", "base-bits-0", ["--base-bits", "0"]),
    ("nvm sweep", "base-bits-17", ["--base-bits", "17"]),
    ("nvm sweep", "fixed-bits--1", ["--fixed-bits", "-1"]),
    ("nvm train", "charlm-missing-corpus", ["--task", "charlm", "--corpus", "/nonexistent"]),
    ("nvm train", "charlm-folder-corpus", ["--task", "charlm", "--corpus", "{FIX}/empty_dir"]),
    ("nvm train", "fmnist-missing-corpus", ["--corpus", "/nonexistent"]),
    ("nvm train", "seq-len-1e12", ["--task", "charlm", "--seq-len", "1000000000000"]),
    ("pcm table", "workers-0", ["--workers", "0"]),
    ("polar text", "crc-unused", ["--crc", "bogus"]),
    ("polar text", "streams-1e12", ["--streams", "1000000000000"]),
    ("polar text", "chunks-1e12", ["--chunks", "1000000000000"]),
    ("noise train", "votes-1e12", ["--votes", "1000000000000"]),
    ("noise sweep", "votes-1e12", ["--votes", "1000000000000"]),
    ("noise attack", "votes-1e12", ["--votes", "1000000000000"]),
    ("storage campaign", "per-decade-0-unused", ["--per-decade", "0"]),
    ("freq stats", "size-0", ["--size", "0"]),
    ("demo", "only-empty", ["--only", ""]),
    ("demo", "dataset-bogus", ["--dataset", "bogus"]),
    ("sweep ls", "empty", ["__REPLACE__", ""]),
    ("data list", "unknown-option", ["--bogus", "1"]),
    ("sweep bpsk", "ebn0-inf", ["--ebn0", "inf"]),
    ("sweep status", "damaged", ["__REPLACE__", "{FIX}/damaged_run"]),
    ("sweep status", "chunks-damaged", ["__REPLACE__", "{FIX}/damaged_chunks"]),
    ("train", "corrupt-idx-root", ["--dataset", "fashion-mnist", "--root", "{FIX}/bad_idx"]),
    ("data info", "corrupt-idx-root", ["__REPLACE__", "fashion-mnist", "--root", "{FIX}/bad_idx"]),
]


def _commands() -> Iterator[tuple[str, list[Any]]]:
    import typer

    from noisyhw.cli import _register_once, app

    _register_once()

    def walk(c: Any, path: list[str]) -> Iterator[tuple[str, list[Any]]]:
        subs = getattr(c, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), list(c.params)

    yield from walk(typer.main.get_command(app), [])


def _kind(param: Any) -> str:
    if getattr(param, "is_flag", False):
        return "flag"
    t = param.type_descriptor.annotation
    name = getattr(t, "__name__", str(t))
    for k in ("bool", "int", "float", "Path", "str"):
        if k in name:
            return {"Path": "path"}.get(k, k)
    return "str"


def _is_numeric_list(default: Any) -> bool:
    if not isinstance(default, str) or not default:
        return False
    text = default.replace(":", ",").replace("inf", "1")
    try:
        [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        return False
    return True


def _with(base: list[str], opt: str, value: str) -> list[str]:
    """``base`` with ``opt`` set to ``value`` (replacing a value there)."""
    argv = list(base)
    if opt in argv:
        i = argv.index(opt)
        argv[i + 1] = value
        return argv
    return [*argv, opt, value]


def build_table() -> list[Case]:
    """Every command x every option x the bad values of the option's kind, plus :data:`EXTRA`."""
    cases: list[Case] = []
    for command, params in _commands():
        base = BASE.get(command)
        if base is None:
            continue
        cmd = command.split()
        positional = [p for p in params if p.param_type_name == "argument"]
        for p in params:
            kind = _kind(p)
            if kind in ("flag", "bool"):
                continue
            if p.param_type_name == "argument":
                values = ROOT_BAD if kind == "path" else NAME_BAD
                rest = base[len(positional) :]
                for label, v in values.items():
                    cases.append(Case(command, p.name.upper(), label, (*cmd, v, *rest)))
                continue
            opt = p.opts[0]
            if (command, opt) in SKIP:
                continue
            if opt in PATH_KINDS:
                values = PATH_KINDS[opt]
            elif opt == "--device":
                values = DEVICE_BAD
            elif kind == "int":
                values = INT_BAD
            elif kind == "float":
                values = FLOAT_BAD
            elif kind == "path":
                values = FILE_BAD
            elif _is_numeric_list(p.default):
                values = LIST_BAD
            else:
                values = NAME_BAD
            for label, v in values.items():
                if (opt, label) in VALID_FOR:
                    continue
                cases.append(Case(command, opt, label, (*cmd, *_with(base, opt, v))))
    for command, label, extra in EXTRA:
        cmd = command.split()
        if extra[0] == "__REPLACE__":
            argv = (*cmd, *extra[1:])
        else:
            argv = tuple(cmd)
            base = BASE[command]
            for i in range(0, len(extra), 2):
                base = _with(base, extra[i], extra[i + 1])
            argv = (*cmd, *base)
        cases.append(Case(command, "extra", label, argv))
    return cases


#: the subset ``make test`` runs: the issue-25 extras, and per command one out-of-range count
#: (or, where it has none, an occupied --out)
FAST_LABELS = ("huge", "occupied")


def fast_subset(cases: list[Case]) -> list[Case]:
    out = [c for c in cases if c.option == "extra"]
    for label in FAST_LABELS:
        covered = {c.command for c in out if c.option != "extra"}
        seen: set[str] = set()
        for c in cases:
            if c.label == label and c.command not in covered and c.command not in seen:
                seen.add(c.command)
                out.append(c)
    return out


# --------------------------------------------------------------------------- fixtures
def make_fixtures(fix: Path) -> None:
    """The files bad values point at: garbage, a model file, occupied and damaged folders."""
    import torch

    from noisyhw.cli import main
    from noisyhw.data import write_idx
    from noisyhw.experiments.classify import ClassifierJob, save_model
    from noisyhw.io import save_checkpoint
    from noisyhw.models import create
    from noisyhw.sweep import Run, StopRule
    from noisyhw.sweep.montecarlo import bpsk_chunk

    fix.mkdir(parents=True, exist_ok=True)
    (fix / "empty_dir").mkdir()
    (fix / "garbage.bin").write_bytes(b"\x00\xffnot anything" * 64)
    (fix / "empty.bin").write_bytes(b"")
    torch.save(torch.zeros(3), fix / "tensor.pt")
    model = create("mlp", (1, 8, 8), 10)
    job = ClassifierJob(dataset="digits", model="mlp")
    save_model(fix / "model.pt", model, job, (1, 8, 8), 10)
    data = bytearray((fix / "model.pt").read_bytes())
    weights = model.state_dict()["1.weight"].numpy().tobytes()[:64]
    at = data.find(weights)
    data[at + 10] ^= 0x40
    (fix / "flipped.pt").write_bytes(bytes(data))
    (fix / "occupied").mkdir()
    (fix / "occupied" / "notes.txt").write_text("someone's files")
    rule = StopRule(chunk_size=50, min_errors=None, max_frames=100)
    for name in ("run", "damaged_run", "damaged_chunks"):
        run = Run("toy", {}, out=fix / name)
        run.montecarlo(bpsk_chunk, [{"ebn0_db": float(e)} for e in range(30)], rule=rule)
        run.finish()
    for name, db in (("damaged_run", "trials.sqlite"), ("damaged_chunks", "mc_chunks.sqlite")):
        raw = bytearray((fix / name / db).read_bytes())
        raw[4096:8192] = bytes(b ^ 0xFF for b in raw[4096:8192])
        (fix / name / db).write_bytes(bytes(raw))
    bad = fix / "bad_idx" / "fashion-mnist"
    bad.mkdir(parents=True)
    import numpy as np

    for split, n in (("train", 60000), ("t10k", 10000)):
        write_idx(bad / f"{split}-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
        header = b"\x00\x00\x08\x03" + (2**31).to_bytes(4, "big") * 2 + (4).to_bytes(4, "big")
        (bad / f"{split}-labels-idx1-ubyte").write_bytes(header)
        del n
    _ = (main, save_checkpoint)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> SHA-256), and every folder."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


# --------------------------------------------------------------------------- running
@dataclasses.dataclass
class Result:
    case: Case
    outcome: str
    code: int | None
    stderr: str
    seconds: float
    left: list[str]


def _child(argv: list[str], cwd: Path) -> None:
    """In the forked child: run the CLI in ``cwd`` with stdout/stderr in files; never return."""
    code = 1
    try:
        os.chdir(cwd)
        out = os.open(cwd.parent / f"{cwd.name}.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(cwd.parent / f"{cwd.name}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        from noisyhw.cli import main

        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def _start(case: Case, work: Path, fix: Path, spawn: bool) -> tuple[int, Path, Any]:
    cwd = work / hashlib.sha1(case.id.encode()).hexdigest()[:12]
    cwd.mkdir()
    argv = [a.replace("{FIX}", str(fix)) for a in case.argv]
    if spawn:
        import subprocess

        proc = subprocess.Popen(
            [sys.executable, "-m", "noisyhw", *argv],
            cwd=cwd,
            stdout=open(cwd.parent / f"{cwd.name}.out", "w"),  # noqa: SIM115
            stderr=open(cwd.parent / f"{cwd.name}.err", "w"),  # noqa: SIM115
            start_new_session=True,
        )
        return proc.pid, cwd, proc
    pid = os.fork()
    if pid == 0:
        os.setsid()
        _child(argv, cwd)
    return pid, cwd, None


def _poll(pid: int, proc: Any) -> int | None:
    if proc is not None:
        return proc.poll()
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def _judge(case: Case, code: int | None, err: str, left: list[str]) -> str:
    if code is None:
        return "hang"
    if "Traceback" in err or code not in (0, 2):
        return "traceback"
    if code == 0:
        return "accepted"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if len(lines) != 1 or not lines[0].startswith("error:"):
        return "message"
    if left:
        return "left"
    if case.option.startswith("--") and case.option.lstrip("-") not in lines[0]:
        return "other-reason"
    return "ok"


def run_cases(
    cases: list[Case],
    *,
    jobs: int = 2,
    timeout: float = 60.0,
    spawn: bool = False,
    on_result: Any = None,
) -> list[Result]:
    """Run every case (``jobs`` at a time); each in a child process with ``timeout`` seconds."""
    os.environ.setdefault("NOISYHW_QUIET", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("COLUMNS", "100")
    from noisyhw.progress import set_quiet

    set_quiet(True)
    tmp = Path(tempfile.mkdtemp(prefix="noisyhw-fuzz-"))
    fix, work = tmp / "fixtures", tmp / "work"
    work.mkdir()
    try:
        make_fixtures(fix)
        if not spawn:
            _preload()
        before = snapshot(fix)
        results: list[Result] = []
        queue = list(cases)
        running: dict[int, tuple[Case, Path, Any, float]] = {}
        while queue or running:
            while queue and len(running) < jobs:
                case = queue.pop(0)
                pid, cwd, proc = _start(case, work, fix, spawn)
                running[pid] = (case, cwd, proc, time.monotonic())
            time.sleep(0.01)
            for pid, (case, cwd, proc, t0) in list(running.items()):
                code = _poll(pid, proc)
                elapsed = time.monotonic() - t0
                if code is None and elapsed < timeout:
                    continue
                if code is None:  # a hang: the whole session (workers too)
                    with_suppress(lambda p=pid: os.killpg(p, signal.SIGKILL))
                    with_suppress(lambda p=pid, pr=proc: pr.wait() if pr else os.waitpid(p, 0))
                del running[pid]
                err = (cwd.parent / f"{cwd.name}.err").read_text(errors="replace")
                left = sorted(snapshot(cwd))
                now = snapshot(fix)
                changed = sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))
                left += [f"fixtures/{k}" for k in changed]
                if changed:  # put the fixtures back for the next cases
                    shutil.rmtree(fix)
                    make_fixtures(fix)
                    before = snapshot(fix)
                outcome = _judge(case, code, err, left)
                result = Result(case, outcome, code, err.strip(), round(elapsed, 2), left)
                results.append(result)
                if on_result is not None:
                    on_result(result)
                shutil.rmtree(cwd, ignore_errors=True)
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def with_suppress(fn: Any) -> None:
    with contextlib.suppress(OSError, ChildProcessError, ImportError):
        fn()


def _preload() -> None:
    """Import what the commands import, once, so each forked case starts in milliseconds."""
    import importlib
    import pkgutil

    import noisyhw.experiments

    for m in pkgutil.iter_modules(noisyhw.experiments.__path__):
        with_suppress(lambda n=m.name: importlib.import_module(f"noisyhw.experiments.{n}"))


def summarize(results: list[Result]) -> dict[str, int]:
    counts = Counter(r.outcome for r in results)
    return {"cases": len(results), **{k: counts.get(k, 0) for k in OUTCOMES}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast", action="store_true", help="the subset make test runs")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    ap.add_argument("-k", default="", help="only cases whose id contains this")
    ap.add_argument("--spawn", action="store_true", help="a fresh interpreter per case")
    ap.add_argument("--show", action="store_true", help="print every case, not only failures")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--json", type=Path, help="write every result here")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    cases = build_table()
    if args.fast:
        cases = fast_subset(cases)
    cases = [c for c in cases if args.k in c.id]
    if args.list:
        for c in cases:
            print(c.id, "|", " ".join(c.argv))
        print(f"{len(cases)} cases")
        return 0
    t0 = time.monotonic()

    def show(r: Result) -> None:
        if args.show or r.outcome != "ok":
            tail = r.stderr.splitlines()[-1] if r.stderr else ""
            print(f"{r.outcome:9s} {r.case.id} [{r.code}] {r.seconds}s :: {tail[:160]}")
            if r.left:
                print(f"          left: {r.left[:5]}")
            sys.stdout.flush()

    results = run_cases(
        cases, jobs=args.jobs, timeout=args.timeout, spawn=args.spawn, on_result=show
    )
    summary = summarize(results)
    summary["seconds"] = round(time.monotonic() - t0)
    print(json.dumps(summary))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "summary": summary,
                    "results": [
                        {
                            "id": r.case.id,
                            "argv": r.case.argv,
                            "outcome": r.outcome,
                            "code": r.code,
                            "stderr": r.stderr,
                            "seconds": r.seconds,
                            "left": r.left,
                        }
                        for r in results
                    ],
                },
                indent=1,
            )
        )
    return 0 if summary["ok"] == summary["cases"] else 1


if __name__ == "__main__":
    sys.exit(main())
