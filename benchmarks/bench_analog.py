"""Analog noise speed: noisy vs clean forward of a ResNet-20, batched K-vote vs K forwards.

Targets (issue 3): noisy forward <= 1.3x the clean forward on the same batch; K-vote <= 1.1x
K clean forwards and faster than a Python loop of K noisy passes. All in one run, timed in
shuffled rounds (CPU time, ``_timing.rounds``): a ratio is the median over rounds of the two
times measured in the same round, with its quartiles in the note (this VM's speed moves by up
to 25% between minutes, and a min of each side can pair a fast spell with a slow one).
One thread (CPU time), and the ResNet-20 ratios again with two (torch's default here; wall time,
as CPU time would also count the threads' spin-waiting).
"""

from __future__ import annotations

import time

import torch
from _timing import median, paired_ratio, rounds  # benchmarks/ is on sys.path (run_all)

from noisyhw.analog import NoiseSpec, calibrate, inject_noise, vote
from noisyhw.channels import awgn_
from noisyhw.models import create


def _q(times: dict[str, list[float]], a: str, b: str) -> tuple[float, str]:
    med, q1, q3 = paired_ratio(times, a, b)
    return med, f"median of {len(times[a])} paired rounds, quartiles {q1:.2f}-{q3:.2f}"


def _resnet(batch: int, threads: int, n_rounds: int) -> dict[str, list[float]]:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    clean = create("resnet20", (3, 32, 32), 10).eval()
    x = torch.rand(batch, 3, 32, 32)
    rel = inject_noise(clean, NoiseSpec(10.0), seed=0)
    fixed = inject_noise(clean, NoiseSpec(10.0, mode="fixed"), seed=0)
    calibrate(fixed, x)
    return rounds(
        {"clean": lambda: clean(x), "rel": lambda: rel(x), "fixed": lambda: fixed(x)},
        n_rounds,
        clock=time.process_time if threads == 1 else time.perf_counter,
    )


def _votes(
    name: str, shape: tuple[int, ...], batch: int, k: int, n_rounds: int, plain: bool = True
) -> dict[str, list[float]]:
    """CPU times of a K-vote of a model (noise at 0 dB) vs K clean forwards (a loop), one clean
    forward of the K-times replicated batch, a loop of K noisy passes and (``plain``) the vote
    with the first layer computed per vote."""
    torch.manual_seed(0)
    clean = create(name, shape, 10).eval()
    x = torch.rand(batch, *shape)
    xk = x.repeat(k, *([1] * len(shape)))
    noisy = inject_noise(clean, NoiseSpec(0.0), seed=0)
    fns = {
        "clean": lambda: [clean(x) for _ in range(k)],
        "batched": lambda: clean(xk),
        "vote": lambda: vote(noisy, x, k, "mean", seed=0),
        "loop": lambda: [noisy(x).softmax(-1) for _ in range(k)],
    }
    if plain:
        fns["plain"] = lambda: vote(noisy, x, k, "mean", seed=0, share_prefix=False)
    return rounds(fns, n_rounds)


@torch.no_grad()
def run(batch: int = 128, votes: int = 8, vote_batch: int = 64) -> dict:
    threads = torch.get_num_threads()
    try:
        t_res2 = _resnet(batch, 2, 15)
        t_res = _resnet(batch, 1, 21)

        torch.set_num_threads(1)
        # K-vote on the small CNN of the studies (Fashion-MNIST shape)
        t_cnn = _votes("small_cnn", (1, 28, 28), vote_batch, votes, 9)
        # the digits MLP (small layers: per-call overhead, where stacking replicas pays)
        k_mlp = 31
        t_mlp = _votes("mlp", (1, 8, 8), 32, k_mlp, 41, plain=False)
        # an MLP whose first layer dominates (Fashion-MNIST shape, 784-128-128-10): with the
        # first layer's clean product shared, voting costs less than K clean forwards
        k_f = 16
        t_f = _votes("mlp", (1, 28, 28), 256, k_f, 15)

        # the channel itself: in-place compiled Gaussian vs torch's CPU normal_ + add
        buf = torch.zeros(batch * 16 * 32 * 32)  # one ResNet-20 stage-1 activation
        gen = torch.Generator().manual_seed(0)
        t_ch = rounds(
            {
                "awgn_": lambda: awgn_(buf, 0.1, gen),
                "torch": lambda: buf.add_(torch.empty_like(buf).normal_(generator=gen), alpha=0.1),
            },
            15,
        )
    finally:
        torch.set_num_threads(threads)
    r_rel, n_rel = _q(t_res, "rel", "clean")
    r_fix, n_fix = _q(t_res, "fixed", "clean")
    r_rel2, n_rel2 = _q(t_res2, "rel", "clean")
    r_fix2, n_fix2 = _q(t_res2, "fixed", "clean")
    c_clean, c_note = _q(t_cnn, "vote", "clean")
    c_batched, c_bnote = _q(t_cnn, "vote", "batched")
    c_loop, c_lnote = _q(t_cnn, "vote", "loop")
    c_share, c_snote = _q(t_cnn, "vote", "plain")
    m_clean, m_note = _q(t_mlp, "vote", "clean")
    m_batched, m_bnote = _q(t_mlp, "vote", "batched")
    m_loop, m_lnote = _q(t_mlp, "vote", "loop")
    f_clean, f_note = _q(t_f, "vote", "clean")
    f_batched, f_bnote = _q(t_f, "vote", "batched")
    f_loop, f_lnote = _q(t_f, "vote", "loop")
    f_plain = paired_ratio(t_f, "plain", "clean")[0]
    ch, ch_note = _q(t_ch, "awgn_", "torch")
    t_vote, t_mvote, t_fvote = (median(t, "vote") for t in (t_cnn, t_mlp, t_f))
    n_buf = buf.numel()

    def fig(name, value, unit, baseline, ratio, target, note):
        return dict(
            name=name,
            value=value,
            unit=unit,
            baseline=baseline,
            ratio=ratio,
            target=target,
            note=note,
        )

    resnet = []
    for mode, key in (("relative", "rel"), ("fixed", "fixed")):
        for th, times, (r, note) in (
            (1, t_res, (r_rel, n_rel) if key == "rel" else (r_fix, n_fix)),
            (2, t_res2, (r_rel2, n_rel2) if key == "rel" else (r_fix2, n_fix2)),
        ):
            resnet.append(
                fig(
                    f"noisy forward, ResNet-20, batch {batch} ({mode} SNR, {th} thread{'s' * (th > 1)})",
                    batch / median(times, key),
                    "images/s",
                    batch / median(times, "clean"),
                    r,
                    "<= 1.3",
                    f"time ratio noisy / clean forward ({'CPU' if th == 1 else 'wall'} time); {note}",
                )
            )
    votes_figs = [
        fig(
            f"{votes}-vote / {votes} clean forwards, small CNN, batch {vote_batch}",
            vote_batch / t_vote,
            "images/s",
            vote_batch / median(t_cnn, "clean"),
            c_clean,
            "<= 1.1",
            f"time ratio vote / {votes} separate clean forwards; {c_note}",
        ),
        fig(
            f"{votes}-vote / one clean forward of the {votes}x batch, small CNN",
            vote_batch / t_vote,
            "images/s",
            vote_batch / median(t_cnn, "batched"),
            c_batched,
            "<= 1.1",
            f"time ratio vote / clean forward of the replicated batch; {c_bnote}",
        ),
        fig(
            f"{votes}-vote / Python loop of {votes} noisy passes, small CNN",
            t_vote * 1e3,
            "ms",
            median(t_cnn, "loop") * 1e3,
            c_loop,
            "< 1",
            f"time ratio vote / loop; {c_lnote}",
        ),
        fig(
            f"{votes}-vote, first layer shared / computed per vote, small CNN",
            t_vote * 1e3,
            "ms",
            median(t_cnn, "plain") * 1e3,
            c_share,
            "< 1",
            f"time ratio vote (share_prefix default) / share_prefix=False; {c_snote}",
        ),
        fig(
            f"{k_mlp}-vote / {k_mlp} clean forwards, digits MLP, batch 32",
            32 / t_mvote,
            "images/s",
            32 / median(t_mlp, "clean"),
            m_clean,
            "<= 1.1",
            f"time ratio vote / {k_mlp} separate clean forwards; {m_note}",
        ),
        fig(
            f"{k_mlp}-vote / one clean forward of the {k_mlp}x batch, digits MLP",
            32 / t_mvote,
            "images/s",
            32 / median(t_mlp, "batched"),
            m_batched,
            "<= 1.1",
            f"time ratio vote / clean forward of the replicated batch; {m_bnote}",
        ),
        fig(
            f"{k_mlp}-vote / Python loop, digits MLP, batch 32",
            t_mvote * 1e3,
            "ms",
            median(t_mlp, "loop") * 1e3,
            m_loop,
            "< 1",
            f"time ratio vote / loop of noisy passes; {m_lnote}",
        ),
        fig(
            f"{k_f}-vote / {k_f} clean forwards, Fashion-MNIST MLP 784-128-128, batch 256",
            256 / t_fvote,
            "images/s",
            256 / median(t_f, "clean"),
            f_clean,
            "<= 1.1",
            f"time ratio vote / {k_f} separate clean forwards (first layer shared; without "
            f"sharing {f_plain:.2f}); {f_note}",
        ),
        fig(
            f"{k_f}-vote / one clean forward of the {k_f}x batch, Fashion-MNIST MLP",
            256 / t_fvote,
            "images/s",
            256 / median(t_f, "batched"),
            f_batched,
            "<= 1.1",
            f"time ratio vote / clean forward of the replicated batch; {f_bnote}",
        ),
        fig(
            f"{k_f}-vote / Python loop, Fashion-MNIST MLP, batch 256",
            t_fvote * 1e3,
            "ms",
            median(t_f, "loop") * 1e3,
            f_loop,
            "< 1",
            f"time ratio vote / loop of noisy passes; {f_lnote}",
        ),
        fig(
            "in-place AWGN (channels.awgn_) / torch normal_ + add, 2M floats",
            n_buf / median(t_ch, "awgn_") / 1e6,
            "Msamples/s",
            n_buf / median(t_ch, "torch") / 1e6,
            ch,
            "< 1",
            f"time ratio compiled ziggurat (1024 layers, Philox4x32-10 bits) in place / torch "
            f"CPU Gaussian + add; {ch_note}; {median(t_ch, 'awgn_') / n_buf * 1e9:.2f} ns "
            "per element",
        ),
    ]
    return {"figures": [*resnet, *votes_figs]}


if __name__ == "__main__":
    for fig in run()["figures"]:
        print(
            f"{fig['name']}: {fig['value']:.1f} {fig['unit']} (baseline {fig['baseline']:.1f}), "
            f"ratio {fig['ratio']:.3f} target {fig['target']}"
        )
