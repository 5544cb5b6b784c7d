"""Demo section of the foundation: train a small CNN, learning curve and confusion matrix."""

from __future__ import annotations

from typing import Any

from ..train import TrainConfig
from .classify import ClassifierJob, report_training, train_classifier


def demo_section(ctx: Any) -> list[dict[str, Any]]:
    fashion = ctx.dataset in ("fashion-mnist", "mnist")
    n_train = (4000 if ctx.fast else 12000) if fashion else None
    epochs = 2 if ctx.fast else 3
    job = ClassifierJob(
        ctx.dataset,
        "small_cnn",
        n_train=n_train,
        n_test=2000 if fashion else None,
        config=TrainConfig(
            epochs=epochs, batch_size=128, lr=2e-3, seed=ctx.seed, device=ctx.device
        ),
    )
    _, history, ev = train_classifier(job, None, description="demo: small CNN")
    ctx.section.title = f"Small CNN on {ctx.dataset}"
    if hasattr(ctx, "image_fallback"):
        ctx.image_fallback()
    ctx.section.text(
        f"A 2-convolution CNN (421k parameters) trained for {epochs} epochs on {ev['n_train']} "
        f"{ctx.dataset} images (Adam, lr 2e-3, batch 128, seed {ctx.seed}); test accuracy "
        f"{ev['accuracy']:.4f} on {ev['n_test']} held-out images."
    )
    report_training(ctx.section, ctx.run, history, ev, prefix="classifier_")
    return [
        {
            "model": "small_cnn",
            "dataset": ctx.dataset,
            "epochs": epochs,
            "n_train": ev["n_train"],
            "test_accuracy": round(ev["accuracy"], 4),
        }
    ]
