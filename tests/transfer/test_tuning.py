"""The recipe's [transfer] table: layer groups, freezing, discriminative learning rates,
gradual unfreezing and LoRA — checked by what the optimiser actually changed."""

from __future__ import annotations

import copy
import io
import itertools
from pathlib import Path

import pytest
import torch
from rich.console import Console
from safetensors import safe_open

from seqlab.bundle import load_bundle
from seqlab.data.batching import ClassificationBatches
from seqlab.errors import UserError
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.nn.encoders import RecurrentConfig
from seqlab.nn.lora import LoRAConfig
from seqlab.nn.transformer import TransformerConfig
from seqlab.recipe import dump_toml, recipe_from_dict, recipe_to_dict
from seqlab.run import train_recipe
from seqlab.train.callbacks import Callback
from seqlab.train.config import TrainConfig
from seqlab.train.loop import fit
from seqlab.transfer.tuning import TransferConfig, layer_groups, prepare_transfer


def _batches() -> ClassificationBatches:
    g = torch.Generator().manual_seed(0)
    ids = [torch.randint(1, 10, (int(n),), generator=g).tolist() for n in range(3, 35)]
    return ClassificationBatches(ids, [len(x) % 2 for x in ids], batch_size=8, seed=0)


def _lstm(layers: int = 2) -> SequenceClassifier:
    torch.manual_seed(0)
    encoder = RecurrentConfig(hidden_size=6, num_layers=layers, bidirectional=True)
    return SequenceClassifier(
        SequenceClassifierConfig(vocab_size=10, embedding_dim=4, encoder=encoder, pooling="max")
    )


def _names(group: list) -> list[str]:
    return [name for name, _ in group]


def test_layer_groups_of_a_bidirectional_lstm_and_of_a_transformer() -> None:
    groups = layer_groups(_lstm())
    assert [len(g) for g in groups] == [1, 8, 8, 2]  # 2 directions x 4 tensors per layer
    assert _names(groups[0]) == ["embedding.weight"]
    assert all(
        n.startswith(("encoder.rnn.cells.0.", "encoder.rnn.cells.1.")) for n in _names(groups[1])
    )
    assert all(
        n.startswith(("encoder.rnn.cells.2.", "encoder.rnn.cells.3.")) for n in _names(groups[2])
    )
    assert _names(groups[3]) == ["head.weight", "head.bias"]
    encoder = TransformerConfig(
        hidden_size=8, num_layers=3, num_heads=2, feedforward_size=16,
        max_positions=16, positions="learned", embedding_norm=True,
    )  # fmt: skip
    model = SequenceClassifier(
        SequenceClassifierConfig(vocab_size=10, embedding_dim=8, encoder=encoder, pooling="cls")
    )
    groups = layer_groups(model)
    assert len(groups) == 5  # input side, 3 blocks, head (with the encoder's final norm)
    assert {n for n in _names(groups[4]) if n.startswith("encoder.")} == {
        "encoder.final_norm.weight", "encoder.final_norm.bias"
    }  # fmt: skip
    assert {n.split(".")[1] for n in _names(groups[0]) if n.startswith("encoder.")} == {
        "learned_positions", "embedding_norm"
    }  # fmt: skip
    for depth in (1, 2, 3):
        assert all(n.startswith(f"encoder.blocks.{depth - 1}.") for n in _names(groups[depth]))
    all_names = [n for g in groups for n in _names(g)]
    assert sorted(all_names) == sorted(n for n, _ in model.named_parameters())


def _changed(before: SequenceClassifier, after: SequenceClassifier) -> set[str]:
    old = dict(before.named_parameters())
    return {n for n, p in after.named_parameters() if n in old and not torch.equal(p, old[n])}


def _fit(model: SequenceClassifier, config: TransferConfig, **train) -> list[set[str]]:
    """Fit with ``config``; the names changed in each epoch."""
    plan = prepare_transfer(model, config)
    snapshots = [copy.deepcopy(model)]

    class Snapshot(Callback):
        def on_eval_end(self, state, metrics) -> None:
            snapshots.append(copy.deepcopy(model))

    cfg = TrainConfig(**{"lr": 0.01, "epochs": 3, "progress": False, "clip_norm": None, **train})
    fit(model, _batches(), None, cfg, callbacks=[*plan.callbacks, Snapshot()],
        param_groups=plan.param_groups)  # fmt: skip
    return [_changed(a, b) for a, b in itertools.pairwise(snapshots)]


def test_freeze_by_module_prefix_and_by_pattern_keeps_those_weights_bit_identical() -> None:
    model = _lstm()
    (changed, *_) = _fit(model, TransferConfig(freeze=["embedding", "encoder.rnn.cells.*.bias_*"]))
    names = {n for n, _ in model.named_parameters()}
    frozen = {"embedding.weight"} | {n for n in names if ".bias_" in n}
    assert changed == names - frozen


def test_freeze_layers_freezes_the_bottom_groups() -> None:
    model = _lstm()
    (changed, *_) = _fit(model, TransferConfig(freeze_layers=2))
    assert changed == {n for g in layer_groups(model)[2:] for n in _names(g)}


def test_gradual_unfreezing_trains_one_more_group_each_epoch() -> None:
    model = _lstm()
    groups = [set(_names(g)) for g in layer_groups(model)]
    epochs = _fit(model, TransferConfig(unfreeze="gradual"), epochs=5)
    assert epochs[0] == groups[3]
    assert epochs[1] == groups[3] | groups[2]
    assert epochs[2] == groups[3] | groups[2] | groups[1]
    assert epochs[3] == epochs[4] == set().union(*groups)


def test_layer_lr_decay_and_lr_scale_scale_each_group_s_sgd_step() -> None:
    """One plain SGD step: the update of every parameter is lr x its scale x its gradient."""
    reference, scaled = _lstm(), _lstm()
    _fit(reference, TransferConfig(), optimizer="sgd", max_steps=1)
    config = TransferConfig(layer_lr_decay=0.5, lr_scale={"head.bias": 3.0})
    _fit(scaled, config, optimizer="sgd", max_steps=1)
    start = dict(_lstm().named_parameters())
    base = dict(reference.named_parameters())
    for depth, group in enumerate(layer_groups(scaled)):
        for name, parameter in group:
            factor = 0.5 ** (3 - depth) * (3.0 if name == "head.bias" else 1.0)
            expected = start[name] + factor * (base[name] - start[name])
            torch.testing.assert_close(parameter, expected, atol=1e-7, rtol=1e-5)


def test_lora_trains_adapters_and_the_head_only() -> None:
    model = _lstm()
    lora = LoRAConfig(rank=2, targets=["encoder.rnn.cells.*.weight_hh"])
    (changed, *_) = _fit(model, TransferConfig(lora=lora), epochs=1)
    adapters = {n for n, _ in model.named_parameters() if "lora_" in n}
    assert len(adapters) == 2 * 4  # A and B of weight_hh in 2 layers x 2 directions
    # The base weights of the recurrent cells stay fixed; the adapters and the head train.
    assert changed == adapters | {"head.weight", "head.bias"}


def test_patterns_that_match_nothing_and_freezing_everything_are_refused() -> None:
    with pytest.raises(UserError, match=r"transfer\.freeze: 'encoderr' matches nothing"):
        prepare_transfer(_lstm(), TransferConfig(freeze=["encoderr"]))
    with pytest.raises(UserError, match="nothing would train"):
        prepare_transfer(_lstm(), TransferConfig(freeze_layers=4))


def _tiny_recipe(transfer: dict) -> dict:
    return {
        "task": "text-classification",
        "name": "tiny-transfer",
        "data": {"dataset": "mr", "limit": 200, "eval_limit": 200, "batch_size": 16},
        "model": {"embedding_dim": 8, "pooling": "max",
                  "encoder": {"type": "gru", "hidden_size": 8, "num_layers": 2}},
        "train": {"max_steps": 6, "lr": 0.01, "progress": False},
        "eval": {"samples": 0, "baseline": False},
        "transfer": transfer,
    }  # fmt: skip


def test_a_lora_recipe_saves_merged_weights_and_the_adapters_beside_them(tmp_path: Path) -> None:
    raw = _tiny_recipe({"lora": {"rank": 2, "targets": ["encoder.rnn.cells.*"]}})
    recipe = recipe_from_dict(raw)
    assert recipe_from_dict(recipe_to_dict(recipe)) == recipe
    assert "[transfer.lora]" in dump_toml(recipe_to_dict(recipe))
    result = train_recipe(recipe, tmp_path / "run", console=Console(file=io.StringIO()))
    assert 0 < result.metrics["trainable_parameters"] < 2_000
    size = (result.bundle / "adapters.safetensors").stat().st_size
    assert (
        result.metrics["adapter_bytes"]
        == size
        < (result.bundle / "model.safetensors").stat().st_size
    )
    bundle = load_bundle(result.bundle)  # a plain classifier: no LoRA code needed to load it
    plain = SequenceClassifier(bundle.model.config)
    assert bundle.model.state_dict().keys() == plain.state_dict().keys()
    with safe_open(str(result.bundle / "adapters.safetensors"), "pt") as adapters:
        names = list(adapters.keys())
    assert names and all("lora_" in n for n in names)
    answers = bundle.predict([bundle.family.request_from_text("a gorgeous film", top_k=1)])
    assert answers[0].label in {"pos", "neg"}


def test_transfer_is_left_out_of_a_recipe_that_does_not_use_it() -> None:
    raw = _tiny_recipe({})
    del raw["transfer"]
    assert "transfer" not in recipe_to_dict(recipe_from_dict(raw))
    with pytest.raises(UserError, match="transfer"):
        recipe_from_dict(_tiny_recipe({"freez": ["embedding"]}))
