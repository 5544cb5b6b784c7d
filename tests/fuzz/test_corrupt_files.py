"""Corrupt checkpoints and model files: each one gives one clear error, never a traceback."""

import pytest
import torch

from noisyhw.errors import DataError
from noisyhw.experiments.classify import load_model
from noisyhw.io import DIGEST_KEY, load_checkpoint, save_checkpoint
from noisyhw.models import create


def _model_file(path, **changes):
    model = create("mlp", (1, 4, 4), 3)
    state = {
        "model_name": "mlp",
        "model_kwargs": {},
        "input_shape": [1, 4, 4],
        "num_classes": 3,
        "dataset": "digits",
        "sequence": False,
        "state_dict": model.state_dict(),
    }
    state.update(changes)
    for key in [k for k, v in changes.items() if v is _DROP]:
        del state[key]
    save_checkpoint(path, state)
    return model


_DROP = object()


def test_checkpoint_round_trip_and_digest_is_stripped(tmp_path):
    model = _model_file(tmp_path / "m.pt")
    raw = torch.load(tmp_path / "m.pt", weights_only=True)  # plain torch.load still works
    assert DIGEST_KEY in raw
    state = load_checkpoint(tmp_path / "m.pt")
    assert DIGEST_KEY not in state
    loaded, meta = load_model(tmp_path / "m.pt")
    for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert meta["dataset"] == "digits"


def _tensor_data_offset(path, tensor):
    """Where a tensor's bytes sit inside the saved zip (found by searching them)."""
    data = path.read_bytes()
    needle = tensor.numpy().tobytes()[:64]
    at = data.find(needle)
    assert at > 0
    return at


@pytest.mark.parametrize("nbytes", [1, 256])
def test_flipped_bytes_in_the_weights_are_refused(tmp_path, nbytes):
    path = tmp_path / "m.pt"
    model = _model_file(path)
    at = _tensor_data_offset(path, model.state_dict()["1.weight"])
    data = bytearray(path.read_bytes())
    for i in range(at, at + nbytes):
        data[i] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"damaged .*SHA-256|not a readable"):
        load_checkpoint(path)
    with pytest.raises(DataError):
        load_model(path)


def test_old_checkpoints_without_a_digest_still_load(tmp_path):
    torch.save({"state_dict": {"w": torch.ones(2)}}, tmp_path / "old.pt")
    assert torch.equal(load_checkpoint(tmp_path / "old.pt")["state_dict"]["w"], torch.ones(2))


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"input_shape": _DROP}, "has no 'input_shape'"),
        ({"state_dict": {}}, "state_dict must be a non-empty dict"),
        ({"num_classes": -5}, "num_classes must be an integer"),
        ({"model_kwargs": {"bogus": 1}}, "cannot build mlp"),
        ({"model_kwargs": [1, 2]}, "model_kwargs must be a dict"),
        ({"input_shape": [1, 100000, 100000]}, "exceeds"),
        ({"input_shape": [1, -4, 4]}, "input_shape must be"),
        ({"input_shape": "1x4x4"}, "input_shape must be"),
        ({"model_name": "nope"}, "model_name must be one of"),
        ({"num_classes": 4}, "weights do not fit"),
        ({"input_shape": [1, 5, 5]}, "weights do not fit"),
        ({"dataset": 7}, "dataset must be a name"),
    ],
)
def test_model_file_structure_is_checked_before_building(tmp_path, changes, needle):
    path = tmp_path / "m.pt"
    _model_file(path, **changes)
    with pytest.raises(DataError, match=needle) as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_a_bare_tensor_is_not_a_model_file(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "t.pt")
    with pytest.raises(DataError, match="holds a Tensor"):
        load_model(tmp_path / "t.pt")
