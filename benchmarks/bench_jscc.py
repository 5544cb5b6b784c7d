"""Joint source-channel decoding cost vs plain SCL of the same list size, on one core.

Frames: fortunes test text (a27, 5 bits per character) in (256, 120) 5G polar codewords, BPSK-AWGN
at Eb/N0 = 2 dB, list size 8, in-domain dictionary (words of the training split). Times are CPU
seconds of this process (``time.process_time``); every decoder decodes the same frames after a
warm-up call (numba compilation excluded).

* ``scl``: plain SCL-8 as the library runs it (Rate-0 / REP / Rate-1 / SPC node shortcuts),
* ``scl_bitwise``: SCL-8 on the leaf-by-leaf schedule (no node shortcuts),
* ``scl_hook``: SCL with an allow-all one-state source model (node shortcuts, source costs
  evaluated per node candidate), isolating the hook's bookkeeping,
* ``joint``: SCL with the dictionary trie (penalty mode, Rate-1 / SPC nodes inside the text bits:
  the library default), ``joint_prune``: pruning mode (same schedule),
* ``joint_bitwise``: penalty mode deciding the text bits one by one (exact bitwise joint SCL).

    PYTHONPATH=src python benchmarks/bench_jscc.py
"""

from __future__ import annotations

import time

import numpy as np

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.jscc import trie_source
from noisyhw.codes.polar import PolarCode, SCLDecoder, SourceModel
from noisyhw.codes.text import ALPHABETS


def _time(fn, reps: int = 3) -> float:
    best = np.inf
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def run(quick: bool = False) -> dict:
    from noisyhw.experiments.jscc import build_dictionary, load_text

    frames = 500 if quick else 2000
    L = 8
    train, test = load_text("fortunes", "train"), load_text("fortunes", "test")
    trie = build_dictionary("in-domain", train)
    code = PolarCode(256, 120, construction="5g")
    bits = ALPHABETS["a27"].text_to_bits(test)[: frames * 120].reshape(frames, 120)
    llr = bpsk_awgn(code.encode(bits), 2.0, code.rate, rng=0)
    allow = SourceModel.from_symbols(np.zeros((1, 32), np.int32), 5)
    pen, prn = trie_source(trie, "penalty"), trie_source(trie, "prune")
    decs = {
        "scl": SCLDecoder(code, L),
        "scl_bitwise": SCLDecoder(code, L, shortcuts=False),
        "scl_hook": SCLDecoder(code, L, source=allow, source_nodes=True),
        "joint": SCLDecoder(code, L, source=pen, source_nodes=True),
        "joint_prune": SCLDecoder(code, L, source=prn, source_nodes=True),
        "joint_bitwise": SCLDecoder(code, L, source=pen, source_nodes=False),
    }
    oov = trie.n_nodes  # streams of this benchmark may start mid-word
    calls = {}
    for name, dec in decs.items():
        s0 = 0 if dec.source is None or name == "scl_hook" else oov

        def call(dec=dec, s0=s0):
            return dec.decode_list(llr, state0=None if dec.source is None else s0)

        call()  # warm-up (compilation)
        calls[name] = call
    # interleaved rounds, best of 5: every decoder sees the same machine load
    secs = dict.fromkeys(calls, np.inf)
    for _ in range(5):
        for name, call in calls.items():
            secs[name] = min(secs[name], _time(call, 1))
    out = {f"{k}_kbps": round(frames * 120 / v / 1e3, 1) for k, v in secs.items()}
    out.update(
        {
            "joint_over_scl": round(secs["joint"] / secs["scl"], 3),
            "joint_prune_over_scl": round(secs["joint_prune"] / secs["scl"], 3),
            "joint_bitwise_over_scl": round(secs["joint_bitwise"] / secs["scl"], 3),
            "joint_bitwise_over_scl_bitwise": round(secs["joint_bitwise"] / secs["scl_bitwise"], 3),
            "scl_hook_over_scl": round(secs["scl_hook"] / secs["scl"], 3),
            "frames": frames,
            "list_size": L,
            "dictionary_words": trie.num_words,
            "trie_nodes": trie.n_nodes,
            "target_joint_over_scl": 1.5,
        }
    )
    return out


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k}: {v}")
