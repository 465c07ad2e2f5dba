"""vision.nn.recurrent: shapes, stateful carry-over, truncated BPTT, attention, transformer, vanishing gradients."""

from __future__ import annotations

import pytest
import torch

from vision.errors import DTypeError, InputError, ShapeError
from vision.nn.recurrent import (
    Attention,
    RecurrentEncoder,
    TemporalTransformer,
    input_gradient_norm,
    tbptt_chunks,
    truncated_bptt,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("layers", "bi"), [(1, False), (2, True)])
def test_shapes(kind, layers, bi):
    enc = RecurrentEncoder(kind, input_size=5, hidden_size=7, num_layers=layers, bidirectional=bi)
    out, state = enc(torch.randn(3, 4, 5))
    dirs = 2 if bi else 1
    assert out.shape == (3, 4, 7 * dirs) and enc.output_size == 7 * dirs
    h = state[0] if kind == "lstm" else state
    assert h.shape == (layers * dirs, 3, 7)
    assert enc.last(out).shape == (3, 7 * dirs)
    if bi:  # the backward direction's summary is its output at t = 0, which has seen the whole sequence
        assert torch.equal(enc.last(out)[:, 7:], out[:, 0, 7:])


def test_stateless_resets_and_stateful_carries_until_reset():
    torch.manual_seed(0)
    stateless = RecurrentEncoder("lstm", 3, 4)
    stateful = RecurrentEncoder("lstm", 3, 4, stateful=True)
    stateful.load_state_dict(stateless.state_dict())
    a, b = torch.randn(2, 5, 3), torch.randn(2, 5, 3)
    assert torch.equal(stateless(a)[0], stateful(a)[0])  # both start from zeros
    assert stateful.state is not None and not stateful.state[0].requires_grad  # carried, detached
    assert torch.allclose(stateless(b)[0], stateless(b)[0])
    carried = stateful(b)[0]
    assert not torch.allclose(carried, stateless(b)[0])  # the first batch changed the starting state
    # the carried state equals running the concatenated sequence
    assert torch.allclose(carried, stateless(torch.cat([a, b], 1))[0][:, 5:], atol=1e-6)
    stateful.reset_state()
    assert stateful.state is None
    assert torch.allclose(stateful(b)[0], stateless(b)[0])
    with pytest.raises(ShapeError, match="carried state is for batch size 2; got a batch of 3"):
        stateful(torch.randn(3, 5, 3))


def test_bad_inputs_are_typed_errors():
    enc = RecurrentEncoder("gru", 3, 4)
    with pytest.raises(ShapeError, match=r"expected a B×T×3 tensor .* got shape \(5, 3\)"):
        enc(torch.randn(5, 3))
    with pytest.raises(ShapeError, match=r"got \(2, 5, 4\)"):
        enc(torch.randn(2, 5, 4))
    with pytest.raises(DTypeError, match="torch.int64"):
        enc(torch.zeros(2, 5, 3, dtype=torch.long))
    with pytest.raises(InputError, match="kind must be one of"):
        RecurrentEncoder("transformer", 3, 4)
    with pytest.raises(InputError, match="forget_bias"):
        RecurrentEncoder("gru", 3, 4, forget_bias=1.0)


def test_forget_bias_sets_the_lstm_forget_gate():
    enc = RecurrentEncoder("lstm", 3, 4, forget_bias=1.0)
    assert torch.all(enc.rnn.bias_ih_l0[4:8] == 1) and torch.all(enc.rnn.bias_hh_l0[4:8] == 0)


def test_tbptt_chunks_round_trip_and_errors():
    x = torch.arange(2 * 10).reshape(2, 10)
    chunks = tbptt_chunks(x, 4)
    assert [c.shape[1] for c in chunks] == [4, 4, 2]
    assert torch.equal(torch.cat(chunks, 1), x)
    with pytest.raises(InputError, match="k must be an integer ≥ 1; got 0"):
        tbptt_chunks(x, 0)


def test_truncated_bptt_learns_a_running_sum_sign():
    torch.manual_seed(0)
    x = torch.randn(8, 60, 1)
    y = (torch.cumsum(x, 1) > 0).float()  # needs memory longer than one window
    enc = RecurrentEncoder("lstm", 1, 16)
    head = torch.nn.Linear(16, 1)
    opt = torch.optim.Adam([*enc.parameters(), *head.parameters()], lr=0.02)
    loss = torch.nn.BCEWithLogitsLoss()
    losses = [truncated_bptt(enc, head, x, y, k=10, optimizer=opt, loss_fn=loss, grad_clip_norm=1.0)
              for _ in range(40)]
    assert losses[-1] < 0.6 * losses[0]  # measured 0.65 → 0.34
    with pytest.raises(ShapeError, match="targets must share"):
        truncated_bptt(enc, head, x, y[:, :5], k=10, optimizer=opt, loss_fn=loss)


def test_attention_weights_and_mask():
    torch.manual_seed(0)
    att = Attention(6, query_size=3)
    states = torch.randn(2, 5, 6)
    ctx, w = att(states, torch.randn(2, 3))
    assert ctx.shape == (2, 6) and w.shape == (2, 5)
    assert torch.allclose(w.sum(1), torch.ones(2))
    assert torch.allclose(ctx, (w[:, :, None] * states).sum(1), atol=1e-6)
    mask = torch.tensor([[True, True, False, False, False], [True] * 5])
    _, w = att(states, torch.randn(2, 3), mask=mask)
    assert torch.all(w[0, 2:] == 0)
    assert Attention(6)(states)[0].shape == (2, 6)  # learned query
    with pytest.raises(ShapeError, match=r"expected a query of shape \(2, 3\); got \(2, 6\)"):
        att(states, torch.randn(2, 6))


def test_temporal_transformer_shapes_and_order_sensitivity():
    torch.manual_seed(0)
    tr = TemporalTransformer(5, d_model=16, nhead=4, num_layers=1, dropout=0.0, max_len=10).eval()
    x = torch.randn(2, 6, 5)
    out = tr(x)
    assert out.shape == (2, 6, 16)
    # position embeddings make the pooled output depend on frame order
    assert not torch.allclose(out.mean(1), tr(x.flip(1)).mean(1))
    with pytest.raises(ShapeError, match="got 11 steps; expected at most max_len=10"):
        tr(torch.randn(1, 11, 5))


def test_vanishing_gradient_rnn_vs_lstm():
    rnn = input_gradient_norm("rnn", steps=100, seed=0)
    lstm = input_gradient_norm("lstm", steps=100, seed=0)
    lstm_fb = input_gradient_norm("lstm", steps=100, seed=0, forget_bias=1.0)
    print(f"‖∂h_100/∂x_0‖: rnn {rnn:.3g}, lstm {lstm:.3g}, lstm(forget_bias=1) {lstm_fb:.3g}")
    assert 0 < rnn < 1e-20  # measured ≈ 1.9e-27
    assert lstm > 1e3 * rnn  # measured ≈ 1.1e-20
    assert lstm_fb > 1e6 * lstm  # measured ≈ 1.9e-9
