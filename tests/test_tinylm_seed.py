"""Seed-level match of TinyLM with the torch reference (issue 14), to add after issue 10 (torch-exact
random streams) is merged: minembed.manual_seed(123) must give the same initial model as
torch.manual_seed(123) gives the torch one, so a whole training run matches from the seed alone.

TinyLM builds its layers in the torch reference's order (token table N(0,1), position table N(0,1),
LayerNorm (no randomness), head Linear(d, V, bias=False) kaiming-uniform), passing no generator, so each
layer draws from minembed's default stream. If issue 10's modules take `generator=` rather than falling
back to the global stream when rng is None, TinyLM.__init__ needs the same one-line change.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import minembed
from minembed.models import TinyLM
from minembed.nn import CrossEntropyLoss
from minembed.optim import AdamW
from reference import torch_tinylm


@pytest.mark.parametrize("tie_weights", [True, False])
def test_same_seed_same_initial_model(tie_weights):
    minembed.manual_seed(123)
    model = TinyLM(64, 16, 8, tie_weights=tie_weights)
    torch.manual_seed(123)
    reference = torch_tinylm.TorchTinyLM(64, 16, 8, tie_weights=tie_weights)
    theirs = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    ours = model.state_dict()
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)


def test_whole_run_matches_from_the_seed_alone():
    minembed.manual_seed(123)
    model = TinyLM(64, 16, 8)
    torch.manual_seed(123)
    reference = torch_tinylm.TorchTinyLM(64, 16, 8)
    state = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(20):
        seq = rng.integers(0, 64, size=(4, 17))
        batches.append((seq[:, :-1].copy(), seq[:, 1:].copy()))
    t_losses, _ = torch_tinylm.train(state, model.config, batches)
    opt, criterion, losses = AdamW(model.parameters(), lr=1e-2, weight_decay=0.0), CrossEntropyLoss(), []
    for x, y in batches:
        model.zero_grad()
        losses.append(criterion(model(x), y))
        model.backward(criterion.backward())
        opt.step()
    np.testing.assert_allclose(losses, t_losses, rtol=1e-4)
