"""Oracle tests for seqlab.nn.lora.

Linear adapters against peft 0.21.2 (outputs, gradients, input dropout); recurrent adapters
against a plain model whose weights are W + alpha/r · B A computed here, on all three paths
of ``Recurrent`` (fused kernel, fast path, reference loop). Letters: B batch, T time steps,
I input size, H hidden size, L layers.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_model, save_file, save_model
from torch import Tensor, nn

from seqlab.data.batching import Batch
from seqlab.errors import UserError
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.nn.cells import CELLS, FUSED_KINDS
from seqlab.nn.encoders import RecurrentConfig
from seqlab.nn.lora import (
    LoRAConfig,
    LoRALinear,
    apply_lora,
    load_adapters,
    lora_parameters,
    lora_state_dict,
    mark_only_lora_trainable,
    merge_lora,
    save_adapters,
    strip_lora,
    unmerge_lora,
)
from seqlab.nn.recurrent import Recurrent

I, H, L = 3, 4, 2
LENGTHS = torch.tensor([5, 2, 7, 1])  # unsorted, one full (T = 7), one of length 1


def _randomize_adapters(model: nn.Module) -> None:
    """B is zero at init (the adapted model equals the base): make every A and B random."""
    with torch.no_grad():
        for parameter in lora_parameters(model):
            parameter.normal_(0.0, 0.5)


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(5, 7)
        self.body = nn.Sequential(nn.Linear(7, 6), nn.Tanh(), nn.Linear(6, 3, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(torch.relu(self.proj(x)))


# ------------------------------------------------------------------ 1. Linear vs peft
@pytest.mark.parametrize(("rank", "alpha", "dropout"), [(2, 16.0, 0.0), (3, 5.0, 0.3)])
def test_linear_matches_peft(rank: int, alpha: float, dropout: float) -> None:
    base = _Net()
    reference, ours = copy.deepcopy(base), copy.deepcopy(base)
    targets = ["proj", "body.0", "body.2"]
    theirs = get_peft_model(
        base,
        LoraConfig(r=rank, lora_alpha=alpha, target_modules=targets, lora_dropout=dropout),
    )
    names = apply_lora(ours, LoRAConfig(rank=rank, alpha=alpha, dropout=dropout, targets=targets))
    assert names == sorted(targets)
    # Both start as the base model: B = 0. Then give both the same random, non-zero A and B.
    x = torch.randn(4, 2, 5)
    torch.testing.assert_close(ours.eval()(x), reference(x), atol=0, rtol=0)
    modules, copied = dict(ours.named_modules()), 0
    for name, module in theirs.named_modules():
        if "default" in getattr(module, "lora_A", {}):  # peft's LoRA layers
            mine = modules[name.removeprefix("base_model.model.")]
            assert isinstance(mine, LoRALinear) and mine.scaling == alpha / rank
            with torch.no_grad():
                module.lora_B["default"].weight.normal_()
                mine.lora_A.copy_(module.lora_A["default"].weight)
                mine.lora_B.copy_(module.lora_B["default"].weight)
            copied += 1
    assert copied == 3
    for training in (False, True):  # train: peft's input dropout, same RNG draws
        ours.train(training)
        theirs.train(training)
        results = []
        for model in (ours, theirs):
            model.zero_grad()
            inputs = x.clone().requires_grad_()
            torch.manual_seed(1)
            outputs = model(inputs)
            (outputs * torch.linspace(-1, 1, 3)).sum().backward()
            grads = {
                n.removeprefix("base_model.model.").replace(".default", ""): p.grad
                for n, p in model.named_parameters()
                if "lora_" in n
            }
            results.append((outputs, inputs.grad, grads))
        (out, dx, grads), (peft_out, peft_dx, peft_grads) = results
        if not training:
            eval_out = out
        elif dropout > 0:  # the training pass did drop inputs (else this proves nothing)
            assert not torch.allclose(out, eval_out)
        torch.testing.assert_close(out, peft_out, atol=1e-6, rtol=0)
        torch.testing.assert_close(dx, peft_dx, atol=1e-6, rtol=0)
        assert len(grads) == 6
        for name, grad in grads.items():  # ours: proj.lora_A, peft: proj.lora_A.weight
            torch.testing.assert_close(grad, peft_grads[f"{name}.weight"], atol=1e-6, rtol=0)
            assert grad.abs().sum() > 0


# ------------------------------------------------------------------ 2. recurrent weights
def _run(model: Recurrent, x: Tensor, weights: list[Tensor]) -> tuple[list[Tensor], dict]:
    """Outputs, final state and the gradients of a fixed random projection of both."""
    model.zero_grad(set_to_none=True)
    x = x.detach().requires_grad_()
    outputs, final = model(x, LENGTHS)
    loss = sum((t * w).sum() for t, w in zip([outputs, *final], weights, strict=True))
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    return [outputs.detach(), *(f.detach() for f in final), x.grad], grads


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_recurrent_adapters_on_every_path(cell: str) -> None:
    model = Recurrent(cell, I, H, num_layers=L, bidirectional=True).eval()
    plain = copy.deepcopy(model)
    names = apply_lora(model, LoRAConfig(rank=2, alpha=3.0, dropout=0.5))  # eval: no dropout
    # Every 2-D weight of every cell (MUT1/2 with I != H: input_projection too), nothing else.
    expected = [
        f"cells.{k}.{n}"
        for k, c in enumerate(plain.cells)
        for n, p in c.named_parameters()
        if p.dim() == 2
    ]
    assert names == sorted(expected)
    _randomize_adapters(model)
    # The oracle: a plain model whose weights are W + alpha/r · B A, computed here.
    adapters = lora_state_dict(model)
    with torch.no_grad():
        for name in names:
            prefix, _, weight = name.rpartition(".")
            a, b = (
                adapters[f"{prefix}.lora.{weight}.lora_A"],
                adapters[f"{prefix}.lora.{weight}.lora_B"],
            )
            plain.get_parameter(name).add_(1.5 * b @ a)

    x = torch.randn(len(LENGTHS), 7, I)
    weights = [torch.randn(len(LENGTHS), 7, 2 * H)]
    weights += [torch.randn(2 * L, len(LENGTHS), H) for _ in range(model.state_size)]
    plain.fused = False
    expected_values, _ = _run(plain, x, weights)
    runs = {}
    for fused in (True, False):
        model.fused = fused
        assert model.uses_fused_kernel or model.uses_fast_path or not fused
        assert model.uses_fused_kernel == (fused and cell in FUSED_KINDS)
        runs[fused] = _run(model, x, weights)
        for got, want in zip(runs[fused][0], expected_values, strict=True):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    # Fused (kernel or fast path) and reference loop: same gradients for A, B, W and x.
    (_, fused_grads), (_, loop_grads) = runs[True], runs[False]
    assert fused_grads.keys() == loop_grads.keys()
    for name in fused_grads:
        torch.testing.assert_close(fused_grads[name], loop_grads[name], atol=1e-5, rtol=0)
    for name in adapters:
        assert fused_grads[name].abs().sum() > 0, f"no gradient reaches {name}"

    for fused in (True, False):  # merge / unmerge leave the outputs unchanged
        model.fused = fused
        with torch.no_grad():
            adapted = model(x, LENGTHS)[0]
            merge_lora(model)
            merged = model(x, LENGTHS)[0]
            unmerge_lora(model)
            unmerged = model(x, LENGTHS)[0]
        assert torch.equal(merged, adapted)  # W + ΔW: the very numbers the adapter adds
        torch.testing.assert_close(unmerged, adapted, atol=1e-5, rtol=0)


def test_recurrent_dropout_drops_entries_of_the_update() -> None:
    """DropConnect on ΔW: every entry of (read weight - W) is 0 or ΔW / (1 - p)."""
    model = Recurrent("lstm", I, H)
    apply_lora(model, LoRAConfig(rank=2, dropout=0.5, targets=["*weight_hh"]))
    _randomize_adapters(model)
    cell = model.cells[0]
    raw, adapter = cell._parameters["weight_hh"], cell.lora["weight_hh"]
    delta = adapter.delta().detach()
    update = cell.weight_hh.detach() - raw  # training mode: dropped
    kept = (update - 2 * delta).abs() < 1e-6
    assert torch.all(kept | (update == 0)) and 0 < kept.float().mean() < 1
    model.eval()
    torch.testing.assert_close(cell.weight_hh - raw, delta, atol=1e-6, rtol=0)


# ------------------------------------------------------------------ 3. only adapters train
def _classifier(cell: str, hidden: int = 6, vocab: int = 30) -> SequenceClassifier:
    encoder = RecurrentConfig(type=cell, hidden_size=hidden, num_layers=2, bidirectional=True)
    config = SequenceClassifierConfig(
        encoder=encoder, embedding_dim=8, vocab_size=vocab, num_classes=3, pooling="mean"
    )
    return SequenceClassifier(config)


def _batch(vocab: int = 30) -> Batch:
    lengths = torch.tensor([6, 3, 5, 1])
    inputs = torch.randint(1, vocab, (4, 6)) * (torch.arange(6) < lengths[:, None])
    return Batch(inputs, lengths, torch.tensor([0, 2, 1, 2]))


@pytest.mark.parametrize(
    ("cell", "targets", "also", "head"),
    [
        ("lstm", ["encoder.*"], ["head.*"], {"head.weight", "head.bias"}),
        # The head adapted too; "head.weight" is its name before apply_lora (head.base.weight).
        ("gru", ["*"], ["head.weight"], {"head.base.weight"}),
    ],
)
def test_only_adapters_and_also_patterns_change(
    cell: str, targets: list[str], also: list[str], head: set[str]
) -> None:
    model = _classifier(cell)
    apply_lora(model, LoRAConfig(rank=2, targets=targets))
    mark_only_lora_trainable(model, also=also)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    adapters = set(lora_state_dict(model))
    assert adapters and all(".lora_A" in n or ".lora_B" in n for n in adapters)
    assert trainable == adapters | head
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.1)
    batch = _batch()
    for _ in range(3):
        optimizer.zero_grad()
        model(batch).loss.backward()
        optimizer.step()
    for name, parameter in model.named_parameters():
        if name in trainable:
            assert not torch.equal(parameter, before[name]), f"{name} did not train"
        else:
            assert torch.equal(parameter, before[name]), f"frozen {name} changed"


# ------------------------------------------------------------------ 4. save, load, strip
def test_save_load_and_strip(tmp_path) -> None:
    base = _classifier("lstm", hidden=32, vocab=200)
    original_keys = list(base.state_dict())
    original_types = [type(m) for m in base.modules()]
    model = copy.deepcopy(base).eval()
    config = LoRAConfig(rank=2, alpha=4.0, targets=["encoder.rnn.cells.*", "head"])
    names = apply_lora(model, config)
    assert "head" in names and "encoder.rnn.cells.3.weight_hh" in names
    _randomize_adapters(model)
    batch = _batch(200)
    with torch.no_grad():
        expected = model(batch).logits

    size = save_adapters(model, tmp_path / "adapters.safetensors")
    save_model(base, str(tmp_path / "model.safetensors"))
    model_size = (tmp_path / "model.safetensors").stat().st_size
    assert size == (tmp_path / "adapters.safetensors").stat().st_size
    print(f"adapter file {size} bytes, model {model_size} bytes")
    assert size < model_size / 5

    fresh = copy.deepcopy(base).eval()
    assert load_adapters(fresh, tmp_path / "adapters.safetensors") == config
    with torch.no_grad():
        torch.testing.assert_close(fresh(batch).logits, expected, atol=0, rtol=0)
        merge_lora(fresh)  # loading into a merged model takes the old ΔW out first
        load_adapters(fresh, tmp_path / "adapters.safetensors")
        torch.testing.assert_close(fresh(batch).logits, expected, atol=1e-6, rtol=0)

    stripped = strip_lora(model)
    assert list(stripped.state_dict()) == original_keys
    assert [type(m) for m in stripped.modules()] == original_types
    with torch.no_grad():
        torch.testing.assert_close(stripped(batch).logits, expected, atol=1e-5, rtol=0)
    # A plain model (no LoRA code) loads the stripped weights: what a bundle does.
    save_model(stripped, str(tmp_path / "stripped.safetensors"))
    plain = _classifier("lstm", hidden=32, vocab=200).eval()
    load_model(plain, str(tmp_path / "stripped.safetensors"))
    with torch.no_grad():
        torch.testing.assert_close(plain(batch).logits, expected, atol=1e-5, rtol=0)


def test_load_refuses_what_does_not_fit(tmp_path) -> None:
    model = _classifier("lstm")
    apply_lora(model, LoRAConfig(rank=2, targets=["*.weight_hh"]))
    path = tmp_path / "adapters.safetensors"
    save_adapters(model, path)
    with pytest.raises(UserError, match="in the file"):  # other hidden size: other shapes
        load_adapters(_classifier("lstm", hidden=5), path)
    other = _classifier("lstm")
    apply_lora(other, LoRAConfig(rank=2, targets=["head"]))
    with pytest.raises(UserError, match="do not fit"):
        load_adapters(other, path)
    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(UserError, match="not a LoRA adapter file"):
        load_adapters(_classifier("lstm"), tmp_path / "other.safetensors")
    with pytest.raises(UserError, match="cannot read"):
        load_adapters(_classifier("lstm"), tmp_path / "missing.safetensors")


# ------------------------------------------------------------------ 5. user errors
def test_targets_that_match_nothing_and_applying_twice() -> None:
    model = _classifier("gru")
    with pytest.raises(
        UserError, match=r"'encoder\.rnn\.cells\.0\.weight_hhh' matches nothing"
    ) as e:
        apply_lora(model, LoRAConfig(targets=["encoder.rnn.cells.0.weight_hhh"]))
    assert "did you mean 'encoder.rnn.cells.0.weight_hh'" in str(e.value)
    with pytest.raises(UserError, match=r"'decoder\.\*' matches nothing") as e:
        apply_lora(model, LoRAConfig(targets=["*", "decoder.*"]))
    assert "encoder.rnn.cells.0.weight_ih" in e.value.fix  # a few adaptable names
    assert not lora_parameters(model)  # a refused call changes nothing
    with pytest.raises(UserError, match="embedding"):  # embeddings are never adapted
        apply_lora(model, LoRAConfig(targets=["embedding"]))
    with pytest.raises(UserError, match="rank"):
        apply_lora(model, LoRAConfig(rank=0))
    apply_lora(model, LoRAConfig())
    with pytest.raises(UserError, match="already has LoRA adapters"):
        apply_lora(model, LoRAConfig())
    with pytest.raises(UserError, match=r"'heads\.\*' matches nothing"):
        mark_only_lora_trainable(model, also=["heads.*"])


def test_tied_weights_are_not_adapted() -> None:
    """Merging into a weight shared with an embedding would change the embedding."""
    model = nn.ModuleDict(
        {"embedding": nn.Embedding(10, 4), "hidden": nn.Linear(4, 4), "decoder": nn.Linear(4, 10)}
    )
    model["decoder"].weight = model["embedding"].weight
    with pytest.raises(UserError, match=r"'decoder' matches only .*\['decoder'\].*tied"):
        apply_lora(model, LoRAConfig(targets=["decoder"]))
    assert apply_lora(model, LoRAConfig(targets=["*"])) == ["hidden"]


def test_init_is_peft_init() -> None:
    """A kaiming-uniform(a=√5) (bound 1/√in), B = 0: the adapted model is the base model."""
    model = Recurrent("gru", I, H)
    plain = copy.deepcopy(model)
    apply_lora(model, LoRAConfig(rank=4, targets=["*"]))
    adapter = model.cells[0].lora["weight_ih"]
    assert adapter.lora_A.abs().max() <= 1 / math.sqrt(I) and adapter.lora_A.std() > 0
    assert torch.equal(adapter.lora_B, torch.zeros(3 * H, 4))
    x = torch.randn(2, 5, I)
    torch.testing.assert_close(model(x)[0], plain(x)[0], atol=0, rtol=0)
