"""NVM crossbar speed: quantized (4-bit weights/DAC/ADC) LSTM forward vs the float nn.LSTM, both
measured in this run; noisy (programming + read + ADC noise) forward; a QAT training step; and
a QAT training step of the row-LSTM and of the character LM (both vs their float step); the
read-noise shortcut (output-domain draw) vs drawing a noisy weight matrix per input."""

from __future__ import annotations

import torch
from _timing import best_of  # benchmarks/ is on sys.path (run_all)
from torch import nn

from noisyhw.analog.nvm import QuantSpec, calibrate, quantize


def run() -> dict:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    n, t, f, h = 256, 28, 28, 128
    lstm = nn.LSTM(f, h, batch_first=True)
    x = torch.randn(n, t, f)
    q4 = quantize(lstm, QuantSpec(weight_bits=4, dac_bits=4, adc_bits=4)).eval()
    calibrate(q4, x)
    qf = quantize(lstm, QuantSpec.float()).eval()
    noisy = quantize(lstm, QuantSpec(prog_noise=0.05, read_noise=0.05, adc_noise=1.0)).eval()
    calibrate(noisy, x)
    with torch.no_grad():
        t_float = best_of(lambda: lstm(x))
        t_xbar_float = best_of(lambda: qf(x))
        t_q4 = best_of(lambda: q4(x))
        t_noisy = best_of(lambda: noisy(x))

    def step(m):
        m.train()
        out, _ = m(x)
        out.sum().backward()

    t_train_float = best_of(lambda: step(lstm), 3)
    t_train_q4 = best_of(lambda: step(q4), 3)

    # the character LM of the study (embed 32, LSTM 128, 96 symbols, 64 steps): a training step
    from noisyhw.models import create

    lm = create("char_lstm", (64,), 96, embed=32, hidden=128, layers=1)
    tokens = torch.randint(0, 96, (128, 64))
    lm_q = quantize(lm, QuantSpec(weight_bits=4, dac_bits=4, adc_bits=4))
    calibrate(lm_q, tokens)

    def lm_step(m):
        m.train()
        logits = m(tokens)
        nn.functional.cross_entropy(logits.reshape(-1, 96), tokens.reshape(-1)).backward()

    t_lm_float = best_of(lambda: lm_step(lm), 3)
    t_lm_q4 = best_of(lambda: lm_step(lm_q), 3)

    # read noise: output-domain draw vs a fresh noisy weight matrix per input vector
    xb = q4.xbar_hh[0]
    w = q4.weight_hh_l0.detach()
    v = torch.randn(n, h)
    p = noisy.xbar_hh[0].prepare(w, noisy=True)
    with torch.no_grad():
        t_out = best_of(
            lambda: xb.read_noise_std(v, p.w_q, p.w_fs, p.read_var_t) * torch.randn(n, 4 * h)
        )
        g = torch.randn(n, 4 * h, h)
        t_per_vec = best_of(
            lambda: torch.einsum("nh,noh->no", v, p.w_q + 0.05 * g * p.w_q.abs()), 3
        )
    vectors = n * t
    return {
        "lstm_float_forward_s": t_float,
        "crossbar_float_forward_s": t_xbar_float,
        "crossbar_4bit_forward_s": t_q4,
        "crossbar_4bit_noisy_forward_s": t_noisy,
        "ratio_4bit_vs_float_forward": t_q4 / t_float,
        "ratio_crossbar_float_vs_nn_lstm": t_xbar_float / t_float,
        "ratio_noisy_vs_4bit_forward": t_noisy / t_q4,
        "crossbar_4bit_vectors_per_s": vectors / t_q4,
        "train_step_float_s": t_train_float,
        "train_step_4bit_qat_s": t_train_q4,
        "ratio_qat_vs_float_train_step": t_train_q4 / t_train_float,
        "charlm_train_step_float_s": t_lm_float,
        "charlm_train_step_4bit_qat_s": t_lm_q4,
        "ratio_charlm_qat_vs_float_train_step": t_lm_q4 / t_lm_float,
        "read_noise_output_draw_s": t_out,
        "read_noise_per_vector_weights_s": t_per_vec,
        "speedup_read_noise_output_draw": t_per_vec / t_out,
    }


if __name__ == "__main__":
    for k, v in run().items():
        print(f"{k:36s} {v:.4g}")
