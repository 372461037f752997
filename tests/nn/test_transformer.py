"""Transformer oracles: torch's encoder layer (Pre-LN and Post-LN), HF GPT-2 logits with
copied weights, causality, padding, positions, and KV-cache generation."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seqlab.data.batching import Batch
from seqlab.models.lm import LanguageModel, LanguageModelConfig
from seqlab.nn.encoders import build_encoder
from seqlab.nn.transformer import TransformerConfig, TransformerEncoder

E, HEADS, FFN = 16, 4, 24


def _config(**changes: object) -> TransformerConfig:
    values = {"hidden_size": E, "num_heads": HEADS, "feedforward_size": FFN, "num_layers": 2}
    return TransformerConfig(**{**values, **changes})


@pytest.mark.parametrize("norm", ["pre", "post"])
def test_blocks_equal_torch_transformer_encoder_layers(norm: str) -> None:
    """norm = pre / post is torch's norm_first = True / False (GELU, copied weights)."""
    torch.manual_seed(0)
    ours = TransformerEncoder(_config(norm=norm, positions="none", final_norm=False), E).eval()
    layer = nn.TransformerEncoderLayer(
        E, HEADS, FFN, 0.0, activation="gelu", batch_first=True, norm_first=norm == "pre"
    )
    twin = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    with torch.no_grad():
        for block, theirs in zip(ours.blocks, twin.layers, strict=True):
            theirs.self_attn.in_proj_weight.copy_(block.attention.qkv.weight)
            theirs.self_attn.in_proj_bias.copy_(block.attention.qkv.bias)
            theirs.self_attn.out_proj.load_state_dict(block.attention.output.state_dict())
            theirs.linear1.load_state_dict(block.feedforward.up.state_dict())
            theirs.linear2.load_state_dict(block.feedforward.down.state_dict())
            theirs.norm1.load_state_dict(block.attention_norm.state_dict())
            theirs.norm2.load_state_dict(block.feedforward_norm.state_dict())
    x = torch.randn(3, 6, E)
    lengths = torch.tensor([6, 3, 5])
    valid = torch.arange(6)[None, :] < lengths[:, None]
    out, state = ours(x, lengths)
    expected = twin(x, src_key_padding_mask=~valid) * valid[..., None]
    assert state is None
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


def _gpt2_pair(vocab: int = 50, layers: int = 2, context: int = 32):
    """A random HF GPT-2 and a seqlab LM with its layout and copied weights."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(1)
    hf_config = transformers.GPT2Config(
        vocab_size=vocab,
        n_positions=context,
        n_embd=E,
        n_layer=layers,
        n_head=HEADS,
        n_inner=FFN,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    hf = transformers.GPT2LMHeadModel(hf_config).eval()
    encoder = _config(
        num_layers=layers,
        causal=True,
        positions="learned",
        activation="gelu_tanh",
        max_positions=context,
    )
    ours = LanguageModel(
        LanguageModelConfig(encoder=encoder, embedding_dim=E, vocab_size=vocab, init_range=None)
    ).eval()
    source = hf.transformer
    with torch.no_grad():
        ours.embedding.weight.copy_(source.wte.weight)
        ours.decoder.bias.zero_()  # GPT-2's lm_head has no bias
        ours.encoder.learned_positions.weight.copy_(source.wpe.weight)
        for block, theirs in zip(ours.encoder.blocks, source.h, strict=True):
            # HF's Conv1D stores (in, out): the transpose of nn.Linear's weight.
            block.attention.qkv.weight.copy_(theirs.attn.c_attn.weight.T)
            block.attention.qkv.bias.copy_(theirs.attn.c_attn.bias)
            block.attention.output.weight.copy_(theirs.attn.c_proj.weight.T)
            block.attention.output.bias.copy_(theirs.attn.c_proj.bias)
            block.feedforward.up.weight.copy_(theirs.mlp.c_fc.weight.T)
            block.feedforward.up.bias.copy_(theirs.mlp.c_fc.bias)
            block.feedforward.down.weight.copy_(theirs.mlp.c_proj.weight.T)
            block.feedforward.down.bias.copy_(theirs.mlp.c_proj.bias)
            block.attention_norm.load_state_dict(theirs.ln_1.state_dict())
            block.feedforward_norm.load_state_dict(theirs.ln_2.state_dict())
        ours.encoder.final_norm.load_state_dict(source.ln_f.state_dict())
    return hf, ours


def test_gpt_equals_hf_gpt2_logits() -> None:
    hf, ours = _gpt2_pair()
    tokens = torch.randint(0, 50, (2, 20))
    expected = hf(tokens).logits
    got = ours(Batch(tokens, torch.tensor([20, 20]))).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    # A padded row gives the logits of the row alone on its valid steps.
    short = ours(Batch(tokens[1:, :12], torch.tensor([12]))).logits
    padded = ours(Batch(tokens, torch.tensor([20, 12]))).logits
    torch.testing.assert_close(padded[1, :12], short[0], atol=1e-5, rtol=1e-5)


def test_kv_cache_generation_equals_hf_and_recomputation() -> None:
    hf, ours = _gpt2_pair()
    prompt = [3, 14, 15, 9, 2]
    cached = ours.generate(prompt, 20, temperature=0.0)
    recomputed = ours.generate(prompt, 20, temperature=0.0, use_cache=False)
    hf_ids = hf.generate(
        torch.tensor([prompt]), max_new_tokens=20, do_sample=False, pad_token_id=0
    )[0, len(prompt) :].tolist()
    assert cached == recomputed == hf_ids
    sampled = [ours.generate(prompt, 20, 1.0, top_k=10, seed=7, use_cache=c) for c in (1, 0)]
    assert sampled[0] == sampled[1]


def test_generation_past_the_context_crops_it() -> None:
    _, ours = _gpt2_pair(context=8)
    new = ours.generate([1, 2, 3], 12, temperature=0.0)  # 15 tokens > context 8
    assert len(new) == 12
    assert new == ours.generate([1, 2, 3], 12, temperature=0.0, use_cache=False)


@pytest.mark.parametrize("positions", ["sinusoidal", "learned", "rotary", "none"])
@pytest.mark.parametrize("norm", ["pre", "post"])
def test_causal_stack_never_reads_the_future(positions: str, norm: str) -> None:
    """Changing token t changes no output before t (gradients, every position kind)."""
    torch.manual_seed(2)
    encoder = build_encoder(_config(causal=True, positions=positions, norm=norm), E).eval()
    x = torch.randn(1, 9, E, requires_grad=True)
    out, _ = encoder(x, torch.tensor([9]))
    (out[0, 4] * torch.randn(E)).sum().backward()  # (a LayerNorm output's plain sum is constant)
    assert (x.grad[0, 5:] == 0).all()
    assert (x.grad[0, :5].abs().sum(-1) > 0).all()


@pytest.mark.parametrize("positions", ["sinusoidal", "learned", "rotary"])
def test_encoder_kv_cache_equals_full_pass(positions: str) -> None:
    torch.manual_seed(3)
    encoder = build_encoder(_config(causal=True, positions=positions), E).eval()
    x = torch.randn(1, 10, E)
    full, _ = encoder(x, torch.tensor([10]))
    state, pieces = encoder.new_state(), []
    for start, end in ((0, 4), (4, 5), (5, 10)):
        out, state = encoder(x[:, start:end], torch.tensor([end - start]), state)
        pieces.append(out)
    torch.testing.assert_close(torch.cat(pieces, 1), full, atol=1e-5, rtol=1e-5)


def test_positions_make_order_matter_and_none_does_not() -> None:
    torch.manual_seed(4)
    x = torch.randn(1, 5, E)
    flipped = x.flip(1)
    for positions, order_matters in (("sinusoidal", True), ("none", False)):
        encoder = build_encoder(_config(positions=positions), E).eval()
        a = encoder(x, torch.tensor([5]))[0].flip(1)
        b = encoder(flipped, torch.tensor([5]))[0]
        assert torch.allclose(a, b, atol=1e-5) is not order_matters


def test_initialisation_follows_gpt2() -> None:
    torch.manual_seed(5)
    encoder = TransformerEncoder(_config(hidden_size=256, num_layers=8, num_heads=8), 256)
    block = encoder.blocks[0]
    assert block.attention.qkv.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert block.feedforward.down.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)
    assert block.attention.output.weight.std().item() == pytest.approx(0.02 / 4, rel=0.05)
    assert block.attention.qkv.bias.abs().sum() == 0
    assert block.attention_norm.weight.eq(1).all()


def test_dropout_is_active_only_in_training() -> None:
    encoder = build_encoder(_config(dropout=0.5), E)
    x = torch.randn(2, 5, E)
    lengths = torch.tensor([5, 5])
    assert not torch.equal(encoder(x, lengths)[0], encoder(x, lengths)[0])
    encoder.eval()
    torch.testing.assert_close(encoder(x, lengths)[0], encoder(x, lengths)[0])
