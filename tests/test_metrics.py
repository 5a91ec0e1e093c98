"""Per-token loss and the in-context learning score (induction_heads.metrics)."""

from __future__ import annotations

import math

import pytest
import torch
from _tiny import FAMILIES, VOCAB, logits_of, random_tokens, tiny_model

from induction_heads.ablation import ablate_heads
from induction_heads.metrics import default_icl_positions, icl_score, loss_from_logits, per_token_loss


def _hand_loss(logits, tokens):
    """-log softmax(logits[t])[tokens[t+1]], one position at a time."""
    B, T = tokens.shape
    out = torch.zeros(B, T - 1, dtype=torch.float64)
    for b in range(B):
        for t in range(T - 1):
            row = logits[b, t].double()
            out[b, t] = torch.logsumexp(row, 0) - row[tokens[b, t + 1]]
    return out.float()


@pytest.mark.parametrize("family", FAMILIES)
def test_per_token_loss_against_a_hand_cross_entropy(family):
    model = tiny_model(family)
    tokens = random_tokens((3, 12), seed=21)
    got = per_token_loss(model, tokens)
    assert got.shape == (3, 11) and got.device.type == "cpu"
    torch.testing.assert_close(got, _hand_loss(logits_of(model, tokens), tokens), rtol=1e-5, atol=1e-5)


def test_loss_from_logits_hand_case():
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [1 / 3, 1 / 3, 1 / 3]]]))
    tokens = torch.tensor([[0, 1, 2]])  # predict 1 from position 0, 2 from position 1
    torch.testing.assert_close(loss_from_logits(logits, tokens), torch.tensor([[math.log(4), math.log(1.25)]]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_loss_from_logits_equals_torch_cross_entropy(dtype):
    gen = torch.Generator().manual_seed(0)
    logits = (3 * torch.randn(4, 9, 50, generator=gen)).to(dtype)
    tokens = torch.randint(0, 50, (4, 9), generator=gen)
    expected = torch.nn.functional.cross_entropy(
        logits[:, :-1].double().reshape(-1, 50), tokens[:, 1:].reshape(-1), reduction="none"
    ).view(4, 8)
    got = loss_from_logits(logits, tokens)
    assert got.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
    torch.testing.assert_close(got.double(), expected, rtol=1e-5, atol=1e-5)


def test_per_token_loss_runs_inside_an_ablation():
    model = tiny_model("gpt2")
    tokens = random_tokens((2, 9), seed=3)
    clean = per_token_loss(model, tokens)
    with ablate_heads(model, [(1, 1)]):
        ablated = per_token_loss(model, tokens)
        torch.testing.assert_close(ablated, _hand_loss(logits_of(model, tokens), tokens), rtol=1e-5, atol=1e-5)
    assert (ablated - clean).abs().max() > 1e-4


def _position_oracle(good_position: int, *, strength: float = 12.0):
    """A GPT-2 whose blocks do nothing and whose prediction depends only on the position:
    at ``good_position`` it predicts token 7 with high confidence, elsewhere it is uniform.
    So on a sequence of 7s the loss *on token* ``good_position + 1`` is small, every other
    token's loss is log(vocab)."""
    model = tiny_model("gpt2", tie_word_embeddings=False)
    d = model.config.n_embd
    with torch.no_grad():
        for p in model.transformer.h.parameters():
            p.zero_()
        model.transformer.wte.weight.zero_()
        model.transformer.wpe.weight.zero_()
        direction = torch.tensor([1.0, -1.0] * (d // 2))  # mean 0, survives the final LayerNorm
        model.transformer.wpe.weight[good_position] = direction
        model.transformer.ln_f.weight.fill_(1.0)
        model.transformer.ln_f.bias.zero_()
        model.lm_head.weight.zero_()
        model.lm_head.weight[7] = strength * direction / d
    return model


def test_icl_score_sign_and_positions():
    T = 21
    tokens = torch.full((2, T), 7)
    tokens[:, 0] = 0
    model = _position_oracle(good_position=15)
    losses = per_token_loss(model, tokens)
    uniform = math.log(VOCAB)
    assert losses[0, 15].item() < 0.01  # the loss on token 16
    torch.testing.assert_close(losses[:, :15], torch.full((2, 15), uniform))
    # "late" is a token index: the loss on token 16 is predicted at position 15
    assert icl_score(model, tokens, early=3, late=16) == pytest.approx(losses[0, 15].item() - uniform, abs=1e-5)
    assert icl_score(model, tokens, early=3, late=16) < -4  # learns from context: negative
    assert icl_score(model, tokens, early=3, late=15) == pytest.approx(0.0, abs=1e-5)  # off by one: nothing
    assert icl_score(model, tokens, early=3, late=17) == pytest.approx(0.0, abs=1e-5)
    assert icl_score(model, tokens, early=16, late=20) > 4  # early better than late: positive


def test_icl_score_defaults_follow_olssons_ratio():
    assert default_icl_positions(1024) == (102, 1023)
    assert default_icl_positions(101) == (10, 100)
    assert default_icl_positions(3) == (1, 2)
    T = 41  # late = 40, early = round(40 / 10) = 4
    tokens = torch.full((2, T), 7)
    for good, expected_sign in ((39, -1), (3, 1)):  # the loss on token 40 or on token 4 is small
        score = icl_score(_position_oracle(good), tokens)
        assert math.copysign(1, score) == expected_sign and abs(score) > 4


@pytest.mark.parametrize("family", ["gpt_neox", "qwen2"])
def test_icl_score_equals_the_difference_of_mean_losses(family):
    model = tiny_model(family)
    tokens = random_tokens((4, 30), seed=9)
    losses = _hand_loss(logits_of(model, tokens), tokens)
    assert icl_score(model, tokens, early=5, late=25) == pytest.approx(
        (losses[:, 24].mean() - losses[:, 4].mean()).item(), abs=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"early": 0}, ValueError, r"early=0 must be a token position in 1\.\.9"),
        ({"late": 10}, ValueError, r"late=10 must be a token position in 1\.\.9"),
        ({"early": 5, "late": 5}, ValueError, "early .5. must come before late .5."),
        ({"early": 7, "late": 3}, ValueError, "must come before"),
        ({"early": 2.0}, TypeError, "early must be an int"),
        ({"late": True}, TypeError, "late must be an int"),
    ],
)
def test_icl_score_bad_positions(kwargs, error, message):
    with pytest.raises(error, match=message):
        icl_score(tiny_model("gpt2"), random_tokens((2, 10)), **kwargs)


@pytest.mark.parametrize(
    "tokens, error, message",
    [
        (torch.ones(1, 1, dtype=torch.long), ValueError, "at least 2 tokens"),
        (torch.ones(1, 0, dtype=torch.long), ValueError, "empty"),
        (torch.ones(1, 65, dtype=torch.long), ValueError, "longer than the model's context"),
        (torch.ones(1, 5), TypeError, "integer token ids"),
    ],
)
def test_per_token_loss_bad_tokens(tokens, error, message):
    with pytest.raises(error, match=message):
        per_token_loss(tiny_model("gpt2"), tokens)


@pytest.mark.parametrize("T", [1, 2])
def test_icl_score_needs_three_tokens(T):
    with pytest.raises(ValueError, match="at least 3 tokens"):
        icl_score(tiny_model("gpt2"), torch.ones(1, T, dtype=torch.long))
