"""What every example shares: parse ``--quick`` / ``--out`` and run noisyhw commands in order.

An example lists the ``noisyhw`` command lines that reproduce one README figure; ``--quick``
swaps in tiny sizes that finish in seconds (a check that the example still runs: its numbers
mean nothing). Each command prints its own table and writes ``OUT/<name>/report.html``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence

Commands = Callable[[bool, str], Sequence[tuple[str, list[str]]]]


def run(doc: str, commands: Commands, default_out: str, argv: list[str] | None = None) -> int:
    """Parse the example's options, then run ``commands(quick, out)``: (name, noisyhw argv)
    pairs (``--only`` picks some), each into ``out/name``; stop at the first failure and
    return its exit code."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: seconds, no figures")
    parser.add_argument("--out", default=default_out, help=f"folder (default {default_out})")
    parser.add_argument("--only", help="comma list of the parts to run (default: all)")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from noisyhw.cli import main

    parts = list(commands(args.quick, args.out))
    only = args.only.split(",") if args.only else [name for name, _ in parts]
    unknown = set(only) - {name for name, _ in parts}
    if unknown:
        parser.error(f"--only: parts are {', '.join(n for n, _ in parts)}")
    for name, cmd in parts:
        if name not in only:
            continue
        full = [*cmd, "--out", os.path.join(args.out, name)]
        print(f"\n$ noisyhw {shlex.join(full)}", flush=True)
        t0 = time.perf_counter()
        code = main(full)
        print(f"({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
        if code:
            return code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run one of the example scripts beside this file")
