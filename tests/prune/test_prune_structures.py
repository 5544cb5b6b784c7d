"""Each structure's groups partition the weight exactly, checked element by element."""

import itertools

import pytest
import torch

from noisyhw.compress.prune import STRUCTURES, group_index, learn_patterns
from noisyhw.errors import ParameterError


def _key(structure: str, idx: tuple[int, ...], shape: tuple[int, ...], b: int):
    """The group an element belongs to, from the definition (independent of the code)."""
    o, i = idx[0], idx[1]
    pos = idx[2:]
    if structure == "irregular":
        return idx
    if structure == "filter":
        return (o,)
    if structure == "channel":
        return (i,)
    if structure == "column":
        return (i, *pos)
    if structure == "kernel":
        return (o, i)
    if structure == "block":
        k = 1
        for s in shape[2:]:
            k *= s
        col = i * k
        if pos:
            col += pos[0] * shape[3] + pos[1]
        return (o // b, col // b)
    raise AssertionError(structure)


SHAPES = {
    "conv": (6, 4, 3, 3),
    "linear": (7, 10),
    "recurrent": (4 * 5, 5),  # an LSTM weight_hh (4 gates x hidden 5, hidden 5)
}


@pytest.mark.parametrize("kind", list(SHAPES))
@pytest.mark.parametrize("structure", [s for s in STRUCTURES if s != "pattern"])
def test_groups_partition_exactly(structure, kind):
    shape = SHAPES[kind]
    if structure == "kernel" and kind != "conv":
        with pytest.raises(ParameterError):
            group_index(torch.randn(shape), structure, kind)
        return
    w = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    g = group_index(w, structure, kind, block=3)
    assert g.gid.shape == w.shape and g.gid.dtype == torch.int64
    assert int(g.gid.min()) >= 0 and int(g.gid.max()) < g.num
    assert int(g.sizes.min()) >= 1 and int(g.sizes.sum()) == w.numel()
    # the partition is the one the definition gives: gid <-> definition key is a bijection
    pairs = {}
    for idx in itertools.product(*[range(s) for s in shape]):
        pairs.setdefault(_key(structure, idx, shape, 3), set()).add(int(g.gid[idx]))
    assert all(len(v) == 1 for v in pairs.values())
    assert len({next(iter(v)) for v in pairs.values()}) == len(pairs) == g.num


@pytest.mark.parametrize("structure", [s for s in STRUCTURES if s != "pattern"])
def test_fast_group_sums_match_index_add(structure):
    w = torch.randn(6, 4, 3, 3, requires_grad=True)
    g = group_index(w.detach(), structure, "conv", block=4)
    ref = torch.zeros(g.num).index_add(0, g.gid.reshape(-1), (w * w).reshape(-1))
    assert torch.allclose(g.sq_norms(w), ref, atol=1e-6)


def test_group_norms_match_direct_sums():
    w = torch.randn(5, 3, 3, 3)
    g = group_index(w, "filter", "conv")
    assert torch.allclose(g.norms(w), w.reshape(5, -1).norm(dim=1), atol=1e-6)
    g = group_index(w, "channel", "conv")
    assert torch.allclose(g.norms(w), w.transpose(0, 1).reshape(3, -1).norm(dim=1), atol=1e-6)


def test_pattern_groups():
    w = torch.randn(8, 6, 3, 3, generator=torch.Generator().manual_seed(1))
    g = group_index(w, "pattern", "conv", patterns=4)
    assert g.num == 2 * 8 * 6
    sizes = g.sizes.reshape(-1, 2)
    assert torch.all(sizes[:, 0] == 4) and torch.all(sizes[:, 1] == 5)
    assert g.forced is not None and torch.equal(g.forced, torch.tensor([False, True] * 48))
    pats = learn_patterns(w, 4)
    assert pats.shape == (4, 9) and torch.all(pats.sum(1) == 4)
    # every kernel's kept slots are one of the learned patterns, the best-energy one
    slots = (g.gid.reshape(48, 9) % 2 == 0).long()
    for k in range(48):
        assert any(torch.equal(slots[k], p) for p in pats)
        e = (w.reshape(48, 9)[k] ** 2 * pats).sum(1)
        assert torch.isclose((w.reshape(48, 9)[k] ** 2 * slots[k]).sum(), e.max())


def test_pattern_learning_picks_the_common_pattern():
    w = torch.full((10, 4, 3, 3), 0.01)
    common = [0, 1, 3, 4]  # top-left 2x2
    w.reshape(40, 9)[:, common] = 1.0
    pats = learn_patterns(w, 2)
    assert pats[0].nonzero().flatten().tolist() == common


def test_structures_that_do_not_fit():
    with pytest.raises(ParameterError, match="3x3"):
        group_index(torch.randn(4, 2, 5, 5), "pattern", "conv")
    with pytest.raises(ParameterError, match="convolution"):
        group_index(torch.randn(4, 2), "pattern", "linear")
    with pytest.raises(ParameterError, match="structure"):
        group_index(torch.randn(4, 2), "rows", "linear")
    with pytest.raises(ParameterError):
        group_index(torch.randn(4, 2, 3), "filter", "conv")
