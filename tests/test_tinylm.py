"""TinyLM against the same model in torch (reference/torch_tinylm.py), from identical weights and batches."""

from __future__ import annotations

import numpy as np
import pytest

from minembed.models import TinyLM
from minembed.models import tinylm as tinylm_module
from minembed.nn import CrossEntropyLoss
from minembed.optim import AdamW, SparseAdam
from reference import torch_tinylm

# Losses of 100 Adam steps: the matrix products sum in different orders (BLAS vs torch's), so the
# weights drift apart by float32 rounding, step by step; the relative gap stays below this.
LOSS_RTOL = 1e-4


def make(tie_weights=True, sparse=False, seed=0, vocab=48, context=12, d=16):
    return TinyLM(vocab, context, d, tie_weights=tie_weights, sparse=sparse, rng=np.random.default_rng(seed))


def batches(n, vocab, context, batch=4, seed=1, only_rows=None):
    """Windows of a learnable stream: mostly each token is followed by a fixed successor."""
    rng = np.random.default_rng(seed)
    pool = np.arange(vocab) if only_rows is None else np.asarray(only_rows)
    successor = dict(zip(pool.tolist(), rng.permutation(pool).tolist()))
    out = []
    for _ in range(n):
        seq = np.empty((batch, context + 1), np.int64)
        seq[:, 0] = rng.choice(pool, size=batch)
        for t in range(context):
            follow = np.array([successor[int(v)] for v in seq[:, t]])
            seq[:, t + 1] = np.where(rng.random(batch) < 0.8, follow, rng.choice(pool, size=batch))
        out.append((seq[:, :-1].copy(), seq[:, 1:].copy()))
    return out


def train_minembed(model, data, lr=1e-2, fused=False):
    token = model.embedding.token_embedding
    params = model.parameters()
    if model.sparse:
        optimizers = [
            SparseAdam([p for p in params if p.data is token.weight], lr=lr),
            AdamW([p for p in params if p.data is not token.weight], lr=lr, weight_decay=0.0),
        ]
    else:
        optimizers = [AdamW(params, lr=lr, weight_decay=0.0)]
    criterion = CrossEntropyLoss()
    losses = []
    for x, y in data:
        model.zero_grad()
        if fused:
            loss = model.loss_and_backward(x, y)
        else:
            loss = criterion(model(x), y)
            model.backward(criterion.backward())
        for opt in optimizers:
            opt.step()
        losses.append(loss)
    return losses


@pytest.mark.parametrize("tie_weights", [True, False])
def test_forward_and_gradients_match_torch(tie_weights):
    model = make(tie_weights)
    ((x, y),) = batches(1, model.vocab_size, model.context_length)
    criterion = CrossEntropyLoss()
    logits = model(x)
    loss = criterion(logits, y)
    model.backward(criterion.backward())
    t_logits, t_loss, t_grads = torch_tinylm.forward_backward(model.state_dict(), model.config, x, y)
    np.testing.assert_allclose(logits, t_logits, rtol=1e-5, atol=1e-5)
    assert loss == pytest.approx(t_loss, rel=1e-6)
    for name, param in model.named_parameters():
        np.testing.assert_allclose(param.grad, t_grads[name], rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize(("tie_weights", "steps", "fused"), [(True, 100, False), (False, 40, False), (True, 100, True)])
def test_100_adamw_steps_follow_torchs_loss_curve(tie_weights, steps, fused, monkeypatch):
    if fused:  # blocks of 5 rows: 48 rows per batch end in a partial block
        monkeypatch.setattr(tinylm_module, "_HEAD_BLOCK_BYTES", 5 * 48 * 4)
    model = make(tie_weights)
    data = batches(steps, model.vocab_size, model.context_length)
    state, config = model.state_dict(), model.config
    losses = train_minembed(model, data, fused=fused)
    t_losses, t_state = torch_tinylm.train(state, config, data)
    np.testing.assert_allclose(losses, t_losses, rtol=LOSS_RTOL)
    assert losses[-1] < 0.9 * losses[0]  # it learned something
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(value, t_state[name], rtol=1e-3, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("fused", [False, True])
def test_sparse_adam_leaves_unseen_token_rows_unchanged_in_both(fused):
    model = make(tie_weights=False, sparse=True)
    seen = np.arange(0, model.vocab_size, 3)  # a third of the vocabulary ever appears in a batch
    data = batches(100, model.vocab_size, model.context_length, only_rows=seen)
    state, config = model.state_dict(), model.config
    losses = train_minembed(model, data, fused=fused)
    t_losses, t_state = torch_tinylm.train(state, config, data)
    np.testing.assert_allclose(losses, t_losses, rtol=LOSS_RTOL)
    name = "embedding.token_embedding.weight"
    unseen = np.setdiff1d(np.arange(model.vocab_size), seen)
    np.testing.assert_array_equal(model.state_dict()[name][unseen], state[name][unseen])
    np.testing.assert_array_equal(t_state[name][unseen], state[name][unseen])
    assert not np.array_equal(model.state_dict()[name][seen], state[name][seen])


def test_generate_greedy_and_seeded_sampling():
    model = make()
    prompt = np.array([1, 2, 3])
    greedy = model.generate(prompt, 20)
    assert greedy.shape == (23,) and np.array_equal(greedy[:3], prompt)
    assert np.array_equal(greedy, model.generate(prompt, 20))
    # greedy: each new token is the argmax of the logits of the window that ends before it
    for t in range(3, 23):
        window = greedy[max(0, t - model.context_length) : t]
        assert greedy[t] == int(np.argmax(model(window)[-1]))
    a = model.generate(prompt, 30, temperature=1.0, seed=5)
    b = model.generate(prompt, 30, temperature=1.0, seed=5)
    c = model.generate(prompt, 30, temperature=1.0, seed=6)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0 and a.max() < model.vocab_size
    top1 = model.generate(prompt, 10, temperature=1.0, top_k=1, seed=0)
    assert np.array_equal(top1, model.generate(prompt, 10))  # top_k=1 sampling is greedy


@pytest.mark.parametrize("tie_weights", [True, False])
def test_save_load_npz_and_safetensors_read_by_torch(tmp_path, tie_weights):
    model = make(tie_weights)
    ids = np.array([[3, 4, 5, 6]])
    expected = model(ids)
    for suffix in (".npz", ".safetensors"):
        path = tmp_path / f"model{suffix}"
        model.save(path)
        loaded = TinyLM.load(path)
        assert loaded.config == model.config
        np.testing.assert_array_equal(loaded(ids), expected)
    torch_model, tensors = torch_tinylm.load_safetensors_into_torch(str(tmp_path / "model.safetensors"), model.config)
    assert sorted(tensors) == sorted(name for name, _ in model.named_parameters())
    np.testing.assert_allclose(torch_tinylm.logits(torch_model, ids), expected, rtol=1e-5, atol=1e-5)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


@pytest.mark.parametrize("tie_weights", [True, False])
@pytest.mark.parametrize(("ignore_index", "label_smoothing"), [(-100, 0.0), (7, 0.1)])
@pytest.mark.parametrize("block_rows", [1, 5, 48, 1000])
def test_loss_and_backward_equals_the_three_calls(tie_weights, ignore_index, label_smoothing, block_rows, monkeypatch):
    monkeypatch.setattr(tinylm_module, "_HEAD_BLOCK_BYTES", block_rows * 48 * 4)
    ((x, y),) = batches(1, 48, 12, seed=3)
    y[0, :3] = 7  # some targets are ignore_index when it is 7
    three, fused = make(tie_weights, seed=2), make(tie_weights, seed=2)
    criterion = CrossEntropyLoss(ignore_index=ignore_index, label_smoothing=label_smoothing)
    loss = criterion(three(x), y)
    three.backward(criterion.backward())
    fused_loss = fused.loss_and_backward(x, y, ignore_index=ignore_index, label_smoothing=label_smoothing)
    # BLAS may sum a block's logits in another order than the whole product's: float32 rounding apart
    assert fused_loss == pytest.approx(loss, rel=1e-6)
    for (name, param), (_, fused_param) in zip(three.named_parameters(), fused.named_parameters()):
        np.testing.assert_allclose(fused_param.grad, param.grad, rtol=1e-5, atol=1e-7, err_msg=name)
    with pytest.raises(RuntimeError, match="forward"):
        fused.backward(np.zeros((4, 12, 48), np.float32))  # no logits were kept for it


@pytest.mark.parametrize("tie_weights", [True, False])
def test_loss_and_backward_keeps_its_buffers_out_of_the_gradients(tie_weights, monkeypatch):
    """The block buffers are reused by the next call: a gradient handed out must never be one of them."""
    monkeypatch.setattr(tinylm_module, "_HEAD_BLOCK_BYTES", 5 * 48 * 4)  # several blocks of 5 rows
    monkeypatch.setattr(tinylm_module, "_HEAD_SUMS_BYTES", 3 * 48 * 16 * 4)  # in three groups of several blocks
    (x1, y1), (x2, y2) = batches(2, 48, 12, seed=4)
    model, fresh = make(tie_weights, seed=5), make(tie_weights, seed=5)
    model.loss_and_backward(x1, y1)
    first = {name: param.grad for name, param in model.named_parameters()}
    kept = {name: grad.copy() for name, grad in first.items()}
    model.zero_grad()
    model.loss_and_backward(x2, y2)  # fills the same buffers with another batch's blocks
    for name, grad in first.items():
        np.testing.assert_array_equal(grad, kept[name], err_msg=name)
    fresh.loss_and_backward(x2, y2)
    for (name, param), (_, expected) in zip(model.named_parameters(), fresh.named_parameters()):
        np.testing.assert_array_equal(param.grad, expected.grad, err_msg=name)


def test_loss_and_backward_refuses_bad_targets_before_touching_gradients():
    model = make()
    x, y = batches(1, 48, 12)[0]
    with pytest.raises(ValueError, match="targets must have the shape"):
        model.loss_and_backward(x, y[:, :-1])
    y[1, 2] = 48
    with pytest.raises(IndexError, match="class 48"):
        model.loss_and_backward(x, y)
    assert all(param.grad is None for _, param in model.named_parameters())


def test_bad_input_is_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="tie_weights=False"):
        TinyLM(10, 4, 2, sparse=True)
    model = make()
    with pytest.raises(ValueError, match="context_length"):
        model(np.zeros((1, 13), np.int64))
    with pytest.raises(RuntimeError, match="forward"):
        make().backward(np.zeros((1, 48), np.float32))
    with pytest.raises(ValueError, match=".npz or .safetensors"):
        model.save(tmp_path / "model.bin")
    assert not (tmp_path / "model.bin").exists()


def _two_steps(dtype, x, y, x2, y2, options) -> tuple[list[float], dict]:
    """The losses of two loss_and_backward calls on a fresh model, and the gradients they left."""
    model = TinyLM(512, 32, 16, dtype=dtype, rng=np.random.default_rng(7))
    losses = [model.loss_and_backward(x, y, **options), model.loss_and_backward(x2, y2, **options)]
    return losses, {name: param.grad.copy() for name, param in model.named_parameters()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_and_backward_on_two_threads_gives_the_bits_of_one_thread(dtype, monkeypatch):
    """256 rows of 512 logits in blocks of 48 rows (six blocks, the last partial) in four groups (at
    most four (512, 16) sums fit in the budget; the first two take two blocks): the same bits on one
    thread, on two, and whichever thread takes which group (each worker alone takes every group in
    turn); with ignored targets and label smoothing."""
    itemsize = np.dtype(dtype).itemsize
    monkeypatch.setattr(tinylm_module, "_HEAD_BLOCK_BYTES", 48 * 512 * itemsize)
    monkeypatch.setattr(tinylm_module, "_HEAD_SUMS_BYTES", 4 * 512 * 16 * itemsize)
    threads = {"n": 1}  # as TinyLM sees it: the helper thread exists whatever the machine's cores
    monkeypatch.setattr(tinylm_module._threads, "numba_threads", lambda: threads["n"])
    (x, y), (x2, y2) = batches(2, 512, 32, batch=8, seed=6)
    y[0, :5] = 7
    options = {"ignore_index": 7, "label_smoothing": 0.1}
    losses_one, grads_one = _two_steps(dtype, x, y, x2, y2, options)

    real_on_both = tinylm_module._threads.on_both
    schedules = {
        "both threads": real_on_both,
        "the helper's buffers only": lambda work: (work(0), work(1)),
        "the caller's buffers only": lambda work: (work(1), work(0)),
    }
    threads["n"] = 2
    for label, on_both in schedules.items():
        calls = []
        monkeypatch.setattr(
            tinylm_module._threads,
            "on_both",
            lambda work, on_both=on_both, calls=calls: (calls.append(1), on_both(work)),
        )
        losses, grads = _two_steps(dtype, x, y, x2, y2, options)
        assert len(calls) == 2, label  # both steps split
        assert losses == losses_one, label
        for name, grad in grads_one.items():
            np.testing.assert_array_equal(grads[name], grad, err_msg=f"{label}: {name}")
    three = TinyLM(512, 32, 16, dtype=dtype, rng=np.random.default_rng(7))
    criterion = CrossEntropyLoss(**options)
    assert criterion(three(x), y) == pytest.approx(losses_one[0], rel=1e-6)
    three.backward(criterion.backward())
    criterion(three(x2), y2)
    three.backward(criterion.backward())
    for name, param in three.named_parameters():
        np.testing.assert_allclose(grads_one[name], param.grad, rtol=1e-5, atol=1e-7, err_msg=name)


def test_a_batch_of_one_block_still_splits(monkeypatch):
    """Rows that would fit one block are cut into two, so that both threads work (and the bits do not
    depend on the thread count, since the cut does not)."""
    monkeypatch.setattr(tinylm_module._threads, "numba_threads", lambda: 2)
    calls = []
    real_on_both = tinylm_module._threads.on_both
    monkeypatch.setattr(tinylm_module._threads, "on_both", lambda work: (calls.append(1), real_on_both(work)))
    (x, y) = batches(1, 512, 32, batch=8, seed=6)[0]  # 256 rows, far below the 4096 of one block at V=512
    model = TinyLM(512, 32, 16, rng=np.random.default_rng(7))
    loss = model.loss_and_backward(x, y)
    assert calls == [1]
    monkeypatch.setattr(tinylm_module._threads, "numba_threads", lambda: 1)
    alone = TinyLM(512, 32, 16, rng=np.random.default_rng(7))
    assert alone.loss_and_backward(x, y) == loss
    assert calls == [1]  # no split on one thread
    for (name, param), (_, alone_param) in zip(model.named_parameters(), alone.named_parameters()):
        np.testing.assert_array_equal(param.grad, alone_param.grad, err_msg=name)
    three = TinyLM(512, 32, 16, rng=np.random.default_rng(7))
    criterion = CrossEntropyLoss()
    assert criterion(three(x), y) == pytest.approx(loss, rel=1e-6)


@pytest.mark.parametrize("shape", [(0, 8), (1, 0)])
def test_loss_and_backward_of_an_empty_batch_is_nan_with_zero_gradients(shape):
    """No targets: the mean loss is nan, as torch's, and every gradient is zero, as the three calls give."""
    ids = np.zeros(shape, np.int64)
    fused, three = make(seed=8), make(seed=8)
    assert np.isnan(fused.loss_and_backward(ids, ids))
    criterion = CrossEntropyLoss()
    assert np.isnan(criterion(three(ids), ids))
    three.backward(criterion.backward())
    for (name, param), (_, expected) in zip(fused.named_parameters(), three.named_parameters()):
        np.testing.assert_array_equal(param.grad, expected.grad, err_msg=name)
        assert not param.grad.any(), name
