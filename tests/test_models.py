"""Adapters, loading, the eager-attention switch and token checks (induction_heads.models).

The adapter's weights are checked *functionally*: by running the model and reading what its
modules actually compute, not by repeating the adapter's slicing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from _tiny import (
    D_HEAD,
    D_MODEL,
    FAMILIES,
    GQA_FAMILIES,
    N_CTX,
    N_HEADS,
    N_KV_GQA,
    N_LAYERS,
    VOCAB,
    attn_by_name,
    attn_norm_by_name,
    final_norm_by_name,
    logits_of,
    out_proj_by_name,
    random_tokens,
    tiny_model,
    tiny_tokenizer,
)

from induction_heads.models import check_tokens, eager_attention, get_adapter, load_model

# --------------------------------------------------------------------------------------
# Adapters
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_adapter_sizes(family):
    model = tiny_model(family)
    a = get_adapter(model)
    assert (a.n_layers, a.n_heads, a.d_head, a.d_model, a.n_ctx) == (N_LAYERS, N_HEADS, D_HEAD, D_MODEL, N_CTX)
    assert a.n_kv_heads == (N_KV_GQA if family in GQA_FAMILIES else N_HEADS)
    assert len(a.layers) == N_LAYERS
    assert a.heads() == [(l, h) for l in range(N_LAYERS) for h in range(N_HEADS)]


def test_kv_head_mapping_under_gqa():
    a = get_adapter(tiny_model("llama"))
    # 4 query heads share 2 key/value heads in consecutive groups (transformers' repeat_kv).
    assert [a.kv_head(h) for h in range(4)] == [0, 0, 1, 1]
    assert [get_adapter(tiny_model("gpt2")).kv_head(h) for h in range(4)] == [0, 1, 2, 3]


def _capture(model, tokens):
    """Run the model; return per layer the attention module's input, the output projection's
    input, the final norm's output and the logits."""
    store = {"attn_in": {}, "z": {}}
    handles = []
    for layer in range(N_LAYERS):
        def attn_hook(module, args, kwargs, layer=layer):
            store["attn_in"][layer] = kwargs.get("hidden_states", args[0] if args else None)

        def z_hook(module, args, layer=layer):
            store["z"][layer] = args[0]

        handles.append(attn_by_name(model, layer).register_forward_pre_hook(attn_hook, with_kwargs=True))
        handles.append(out_proj_by_name(model, layer).register_forward_pre_hook(z_hook))
    fn = final_norm_by_name(model)
    if fn is not None:
        handles.append(fn.register_forward_hook(lambda m, a, o: store.__setitem__("final", o)))
    try:
        store["logits"] = logits_of(model, tokens)
    finally:
        for h in handles:
            h.remove()
    return store


@pytest.mark.parametrize("family", FAMILIES)
def test_adapter_W_V_is_what_each_head_reads(family):
    """At position 0 a head can only attend to itself, so its output z_h is its value vector:
    z_h = a @ W_V + b for the attention input a. Differences between sequences cancel b."""
    model = tiny_model(family)
    adapter = get_adapter(model)
    tokens = torch.arange(VOCAB)[:, None]  # every token alone: 64 sequences of length 1
    got = _capture(model, tokens)
    for layer in range(N_LAYERS):
        a = got["attn_in"][layer][:, 0].double()
        z = got["z"][layer][:, 0].double()
        da, dz = a[1:] - a[0], z[1:] - z[0]
        assert torch.linalg.matrix_rank(da) == D_MODEL  # the check covers the whole input space
        for head in range(N_HEADS):
            W_V = adapter.W_V(layer, head).detach().double()
            assert W_V.shape == (D_MODEL, D_HEAD)
            torch.testing.assert_close(da @ W_V, dz[:, head * D_HEAD:(head + 1) * D_HEAD], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_adapter_W_O_is_the_heads_share_of_the_output_projection(family):
    model = tiny_model(family)
    adapter = get_adapter(model)
    gen = torch.Generator().manual_seed(3)
    for layer in range(N_LAYERS):
        proj = out_proj_by_name(model, layer)
        assert adapter.out_proj(layer) is proj
        for head in range(N_HEADS):
            u = torch.randn(5, D_HEAD, generator=gen)
            z = torch.zeros(5, D_MODEL)
            z[:, head * D_HEAD:(head + 1) * D_HEAD] = u
            with torch.no_grad():
                expected = proj(z) - proj(torch.zeros(5, D_MODEL))
            W_O = adapter.W_O(layer, head).detach()
            assert W_O.shape == (D_HEAD, D_MODEL)
            torch.testing.assert_close(u @ W_O, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_adapter_W_E_W_U_and_norms(family):
    model = tiny_model(family)
    adapter = get_adapter(model)
    tokens = random_tokens((3, 9), seed=1)
    got = _capture(model, tokens)
    # W_E: two sequences that differ only in their first token differ at the first block's
    # input by W_E[t1] - W_E[t2] (position terms cancel).
    first = {}
    handle = adapter.layers[0].register_forward_pre_hook(
        lambda m, args, kwargs: first.__setitem__("x", kwargs.get("hidden_states", args[0] if args else None)),
        with_kwargs=True,
    )
    try:
        logits_of(model, torch.tensor([[5, 9, 9], [17, 9, 9]]))
    finally:
        handle.remove()
    W_E = adapter.W_E.detach()
    assert W_E.shape == (VOCAB, D_MODEL)
    torch.testing.assert_close(first["x"][0, 0] - first["x"][1, 0], W_E[5] - W_E[17], rtol=1e-5, atol=1e-6)
    # W_U: logits are the final norm's output times W_U (no bias in these heads).
    W_U = adapter.W_U.detach()
    assert W_U.shape == (D_MODEL, VOCAB)
    assert adapter.final_norm is final_norm_by_name(model)
    torch.testing.assert_close(got["final"] @ W_U, got["logits"], rtol=1e-4, atol=1e-5)
    # unembed(residual after the last block) gives the model's logits.
    last = {}
    handle = final_norm_by_name(model).register_forward_pre_hook(lambda m, args: last.__setitem__("x", args[0]))
    try:
        logits = logits_of(model, tokens)
    finally:
        handle.remove()
    with torch.no_grad():
        torch.testing.assert_close(adapter.unembed(last["x"]), logits, rtol=1e-5, atol=1e-5)
    # attn_norm(l) is the module whose output the attention reads.
    for layer in range(N_LAYERS):
        assert adapter.attn(layer) is attn_by_name(model, layer)
        assert adapter.attn_norm(layer) is attn_norm_by_name(model, layer)
        norm_out = {}
        handle = adapter.attn_norm(layer).register_forward_hook(lambda m, a, o: norm_out.__setitem__("y", o))
        try:
            got = _capture(model, tokens)
        finally:
            handle.remove()
        torch.testing.assert_close(norm_out["y"], got["attn_in"][layer])


def test_opt_post_norm_has_no_attention_norm():
    model = tiny_model("opt", do_layer_norm_before=False)
    adapter = get_adapter(model)
    assert adapter.attn_norm(0) is None and adapter.final_norm is None
    tokens = random_tokens((2, 7))
    with torch.no_grad():
        last = {}
        handle = adapter.layers[-1].register_forward_hook(lambda m, a, o: last.__setitem__("x", o[0] if isinstance(o, tuple) else o))
        try:
            logits = logits_of(model, tokens)
        finally:
            handle.remove()
        torch.testing.assert_close(adapter.unembed(last["x"]), logits, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------------------
# Models the library refuses
# --------------------------------------------------------------------------------------


def _bare_gpt2():
    from transformers import GPT2Config, GPT2Model

    return GPT2Model(GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16, n_positions=8, bos_token_id=0, eos_token_id=0))


def _gpt2_classifier():
    from transformers import GPT2Config, GPT2ForSequenceClassification

    return GPT2ForSequenceClassification(
        GPT2Config(n_layer=1, n_head=2, n_embd=8, vocab_size=16, n_positions=8, bos_token_id=0, eos_token_id=0, pad_token_id=0)
    )


def _bert_mlm():
    from transformers import BertConfig, BertForMaskedLM

    return BertForMaskedLM(BertConfig(num_hidden_layers=1, num_attention_heads=2, hidden_size=8, intermediate_size=16, vocab_size=16))


def _t5():
    from transformers import T5Config, T5ForConditionalGeneration

    return T5ForConditionalGeneration(
        T5Config(num_layers=1, num_decoder_layers=1, num_heads=2, d_model=8, d_kv=4, d_ff=16, vocab_size=16)
    )


@pytest.mark.parametrize(
    "build, message",
    [
        (_bare_gpt2, "no language-model head"),
        (_gpt2_classifier, "no language-model head"),
        (_bert_mlm, "not a supported causal LM"),
        (_t5, "encoder-decoder"),
    ],
)
def test_get_adapter_rejects_models_that_are_not_causal_lms(build, message):
    with pytest.raises(ValueError, match=message):
        get_adapter(build())


@pytest.mark.parametrize("thing", [torch.nn.Linear(2, 2), "gpt2", None])
def test_get_adapter_rejects_non_models(thing):
    with pytest.raises(TypeError, match="transformers model"):
        get_adapter(thing)


def test_non_causal_lm_is_refused_by_every_entry_point():
    from induction_heads.ablation import ablate_heads, ablation_sweep
    from induction_heads.metrics import per_token_loss
    from induction_heads.scores import copying_scores, prefix_matching_scores

    model = _bare_gpt2()
    tokens = torch.tensor([[1, 2, 1, 2]])
    for call in (
        lambda: prefix_matching_scores(model, tokens),
        lambda: copying_scores(model),
        lambda: per_token_loss(model, tokens),
        lambda: ablation_sweep(model, tokens, progress=False),
        lambda: ablate_heads(model, [(0, 0)]).__enter__(),
    ):
        with pytest.raises(ValueError, match="no language-model head"):
            call()


# --------------------------------------------------------------------------------------
# Token checks
# --------------------------------------------------------------------------------------


def test_check_tokens_accepts_and_normalises():
    model = tiny_model("gpt2")
    out = check_tokens(model, torch.tensor([1, 2, 3], dtype=torch.int32))
    assert out.dtype == torch.long and out.shape == (1, 3)


@pytest.mark.parametrize(
    "tokens, error, message",
    [
        (torch.zeros(1, N_CTX + 1, dtype=torch.long), ValueError, "longer than the model's context of 64"),
        (torch.zeros(1, 0, dtype=torch.long), ValueError, "empty"),
        (torch.zeros(0, 5, dtype=torch.long), ValueError, "empty"),
        (torch.zeros(2, 3), TypeError, "integer token ids"),
        (torch.zeros(2, 3, dtype=torch.bool), TypeError, "integer token ids"),
        (torch.zeros(2, 3, 4, dtype=torch.long), ValueError, r"shape \[batch, seq\]"),
        (torch.tensor([[1, VOCAB]]), ValueError, r"\[0, 63\]"),
        (torch.tensor([[-1, 2]]), ValueError, r"\[0, 63\]"),
        ([[1, 2, 3]], TypeError, "torch.LongTensor"),
    ],
)
def test_check_tokens_rejects_bad_input(tokens, error, message):
    with pytest.raises(error, match=message):
        check_tokens(tiny_model("gpt2"), tokens)


@pytest.mark.parametrize("family", FAMILIES)
def test_sequence_longer_than_positions_is_refused_for_every_family(family):
    with pytest.raises(ValueError, match="longer than the model's context"):
        check_tokens(tiny_model(family), torch.ones(1, N_CTX + 1, dtype=torch.long))
    check_tokens(tiny_model(family), torch.ones(1, N_CTX, dtype=torch.long))  # exactly the context is fine


# --------------------------------------------------------------------------------------
# The eager-attention switch
# --------------------------------------------------------------------------------------


def _implementations(model):
    """The attention implementation seen by the model and by every attention module."""
    a = get_adapter(model)
    return [model.config._attn_implementation] + [a.attn(l).config._attn_implementation for l in range(a.n_layers)]


@pytest.mark.parametrize("family", FAMILIES)
def test_eager_attention_switches_and_restores(family):
    model = tiny_model(family)
    assert _implementations(model) == ["sdpa"] * 3
    config_before = model.config.to_dict()
    with eager_attention(model):
        assert _implementations(model) == ["eager"] * 3
    assert _implementations(model) == ["sdpa"] * 3
    with pytest.raises(KeyError):
        with eager_attention(model):
            raise KeyError("boom")
    assert _implementations(model) == ["sdpa"] * 3
    assert model.config.to_dict() == config_before


def test_eager_attention_keeps_an_eager_model_eager():
    model = tiny_model("llama", attn_implementation="eager")
    with eager_attention(model):
        assert _implementations(model) == ["eager"] * 3
    assert _implementations(model) == ["eager"] * 3


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny GPT-2 and its tokenizer written with save_pretrained (an offline 'Hub' folder)."""
    path = tmp_path_factory.mktemp("tiny-gpt2")
    model = tiny_model("gpt2")
    tokenizer = tiny_tokenizer()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path, model, tokenizer


def test_load_model_from_a_local_folder(saved_model):
    path, original, tokenizer = saved_model
    for name in (str(path), Path(path)):
        model, tok = load_model(name)
        assert not model.training
        assert type(model).__name__ == "GPT2LMHeadModel"
        assert tok("w5 w7 w5")["input_ids"] == tokenizer("w5 w7 w5")["input_ids"]
        tokens = random_tokens((2, 10))
        assert torch.equal(logits_of(model, tokens), logits_of(original, tokens))


def test_load_model_passes_dtype_through(saved_model):
    path, original, _ = saved_model
    model, _ = load_model(str(path), dtype=torch.float64)
    assert model.dtype == torch.float64
    model, _ = load_model(str(path), device="cpu", dtype=torch.bfloat16)
    assert model.dtype == torch.bfloat16 and model.device.type == "cpu"


def test_load_model_passes_device_map_and_other_kwargs_through(saved_model, monkeypatch):
    """device_map needs the optional `accelerate`; check the keywords reach from_pretrained."""
    from transformers import AutoModelForCausalLM

    path, _, _ = saved_model
    seen = {}
    real = AutoModelForCausalLM.from_pretrained

    def spy(name, **kwargs):
        seen.update(kwargs, name=name)
        kwargs.pop("device_map")
        return real(name, **kwargs)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", spy)
    model, _ = load_model(str(path), device_map="cpu", dtype=torch.float64, revision="main")
    assert seen["device_map"] == "cpu" and seen["dtype"] == torch.float64 and seen["revision"] == "main"
    assert seen["name"] == str(path) and model.dtype == torch.float64


def test_load_model_refuses_device_with_device_map_before_loading(saved_model, monkeypatch):
    from transformers import AutoModelForCausalLM

    def must_not_load(*args, **kwargs):
        raise AssertionError("the model was loaded although the arguments were contradictory")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", must_not_load)
    with pytest.raises(ValueError, match="either device or device_map"):
        load_model(str(saved_model[0]), device="cpu", device_map="auto")


def test_load_model_refuses_a_model_that_is_not_a_supported_causal_lm(tmp_path):
    from transformers import BertConfig, BertLMHeadModel

    bert = BertLMHeadModel(
        BertConfig(num_hidden_layers=1, num_attention_heads=2, hidden_size=8, intermediate_size=16, vocab_size=64, is_decoder=True)
    )
    bert.save_pretrained(tmp_path)
    tiny_tokenizer().save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="not a supported causal LM"):
        load_model(str(tmp_path))


@pytest.mark.parametrize("name", [3, None, ["gpt2"]])
def test_load_model_rejects_names_that_are_not_strings(name):
    with pytest.raises(TypeError, match="string or a path"):
        load_model(name)

