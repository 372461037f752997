"""Pretrained BERT-family checkpoints in seqlab's own Transformer encoder.

Legend: B batch, T steps, E hidden size, V vocabulary, P positions, L layers, N texts.

A HF checkpoint folder (``config.json`` + ``model.safetensors`` + ``tokenizer.json``,
as ``save_pretrained`` writes it; e.g. sentence-transformers' all-MiniLM-L6-v2) becomes::

    ids (B, T) --embedding--> (B, T, E) --TransformerEncoder (BERT layout)--> (B, T, E)
                                         --mean over valid steps [+ L2 norm]--> (B, E)

with the layout of :mod:`seqlab.nn.transformer`'s module doc (Devlin et al. 2019):
``norm="post"``, ``positions="learned"``, ``embedding_norm=True``, no final LayerNorm.
No code of HF transformers runs: the tensors are read with ``safetensors`` and copied
by name (:func:`bert_state_dict`), and the tokenizer is the checkpoint's own
``tokenizer.json`` (:class:`~seqlab.text.tokenizers.PretrainedTokenizer`).

**Segments.** BERT adds a token-type embedding to every input. seqlab's encoder has no
segment input, so row 0 (segment A) is added into the learned position table once at
load time: ``learned_positions[p] = position_embeddings[p] + token_type_embeddings[0]``.
This is exact for single-segment input (every sentence-embedding use, and HF's default
``token_type_ids = 0``); sentence pairs with segment B are not supported.

**RoBERTa** (``model_type`` roberta, xlm-roberta, camembert) has the same tensors; its
positions start at ``pad_token_id + 1`` (HF's ``create_position_ids_from_input_ids``), so
the table is read from that row on and ``max_positions`` shrinks by as much.

The pooler (``pooler.dense``, NSP's tanh layer) and the pre-training heads (``cls.*``,
``lm_head.*``) are not used; :attr:`BertEncoder.ignored_tensors` lists what was left
out (also logged at DEBUG level). Every tensor the mapping needs must be present with
the shape ``config.json`` implies, and no unknown tensor may be left over.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn

from seqlab.config import PositiveInt, validate
from seqlab.data.batching import pad_sequences
from seqlab.errors import UserError
from seqlab.nn.heads import Pooling
from seqlab.nn.transformer import TransformerConfig, TransformerEncoder
from seqlab.text.tokenizers import PretrainedTokenizer

logger = logging.getLogger(__name__)

# model_type -> the prefix its task models (BertForMaskedLM, ...) put before the encoder's
# tensors. RoBERTa-family positions start after the padding id (module doc).
BERT_TYPES: dict[str, str] = {
    "bert": "bert",
    "roberta": "roberta",
    "xlm-roberta": "roberta",
    "camembert": "roberta",
}
_OFFSET_TYPES = frozenset({"roberta", "xlm-roberta", "camembert"})

# HF hidden_act -> seqlab activation (nn.transformer.ACTIVATIONS).
ACTIVATIONS: dict[str, str] = {
    "gelu": "gelu",
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "relu": "relu",
}

# HF BertConfig's defaults, for keys a config.json leaves out.
_DEFAULTS: dict[str, Any] = {
    "vocab_size": 30522,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
}

# Tensors a checkpoint may hold that the encoder does not use (prefixes of their names).
_IGNORED_PREFIXES = ("pooler.", "cls.", "lm_head.", "embeddings.position_ids")
_MAX_LISTED = 4  # names shown per kind in an error
# sentence-transformers' Pooling config flags -> seqlab pooling.
_POOLING_FLAGS = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_max_tokens": "max",
}


@dataclass
class BertEncoderConfig:
    """A BERT-family encoder: built from this config alone (weights come from
    :func:`load_bert`). ``pooling`` and ``normalize`` say how :meth:`BertEncoder.embed`
    turns hidden states into one vector (sentence-transformers' Pooling / Normalize)."""

    vocab_size: PositiveInt = 30522
    pad_id: int = 0
    encoder: TransformerConfig = field(default_factory=lambda: bert_encoder_config({}))
    pooling: Literal["mean", "cls", "max"] = "mean"
    normalize: bool = False


def _hf_value(hf: dict[str, Any], key: str) -> Any:
    """``config.json``'s value of ``key``; BertConfig's default when absent or null."""
    value = hf.get(key)
    return _DEFAULTS[key] if value is None else value


def _position_offset(hf: dict[str, Any]) -> int:
    """Rows of ``position_embeddings`` before the first position (RoBERTa: pad + 1)."""
    return int(_hf_value(hf, "pad_token_id")) + 1 if hf.get("model_type") in _OFFSET_TYPES else 0


def _check_hf_config(hf: dict[str, Any]) -> None:
    model_type = hf.get("model_type")
    if model_type not in BERT_TYPES:
        raise UserError(
            f"config.json has model_type {model_type!r}, not a BERT-family model",
            f"seqlab loads checkpoints of model_type {', '.join(BERT_TYPES)}",
        )
    for key in (
        "vocab_size",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "max_position_embeddings",
        "type_vocab_size",
    ):
        value = _hf_value(hf, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise UserError(
                f"config.json {key} must be a positive integer, got {value!r}",
                "fix config.json (it must be the checkpoint's own)",
            )
    pad = _hf_value(hf, "pad_token_id")
    if not isinstance(pad, int) or not 0 <= pad < _hf_value(hf, "vocab_size"):
        raise UserError(f"config.json pad_token_id {pad!r} is not a token id", "fix config.json")
    if _hf_value(hf, "position_embedding_type") != "absolute":
        raise UserError(
            f"config.json position_embedding_type {hf['position_embedding_type']!r} is not "
            "supported",
            "seqlab's encoder has absolute learned positions only",
        )
    act = _hf_value(hf, "hidden_act")
    if act not in ACTIVATIONS:
        raise UserError(
            f"config.json hidden_act {act!r} is not supported",
            f"seqlab has {', '.join(ACTIVATIONS)}",
        )
    if _position_offset(hf) >= _hf_value(hf, "max_position_embeddings"):
        raise UserError("config.json max_position_embeddings leaves no position", "fix it")


def bert_encoder_config(hf: dict[str, Any]) -> TransformerConfig:
    """A HF BERT ``config.json`` dict -> seqlab's :class:`TransformerConfig` (BERT layout).

    ``hidden_size``, ``num_hidden_layers``, ``num_attention_heads``, ``intermediate_size``
    -> feed-forward size, ``max_position_embeddings`` (minus RoBERTa's offset) ->
    ``max_positions``, ``layer_norm_eps``, ``hidden_act`` (gelu -> gelu, gelu_new ->
    gelu_tanh, relu), the dropouts and ``initializer_range`` -> ``init_std``. Keys left
    out take HF BertConfig's defaults; ``{}`` gives BERT-base.
    """
    hf = {"model_type": "bert", **hf}
    _check_hf_config(hf)
    values = {
        "hidden_size": _hf_value(hf, "hidden_size"),
        "num_layers": _hf_value(hf, "num_hidden_layers"),
        "num_heads": _hf_value(hf, "num_attention_heads"),
        "feedforward_size": _hf_value(hf, "intermediate_size"),
        "dropout": _hf_value(hf, "hidden_dropout_prob"),
        "attention_dropout": _hf_value(hf, "attention_probs_dropout_prob"),
        "max_positions": _hf_value(hf, "max_position_embeddings") - _position_offset(hf),
        "causal": False,
        "norm": "post",
        "positions": "learned",
        "activation": ACTIVATIONS[_hf_value(hf, "hidden_act")],
        "layer_norm_eps": _hf_value(hf, "layer_norm_eps"),
        "embedding_norm": True,
        "final_norm": False,
        "bias": True,
        "init_std": _hf_value(hf, "initializer_range"),
    }
    return validate(TransformerConfig, values, "config.json")


def bert_config(
    hf: dict[str, Any], pooling: Literal["mean", "cls", "max"] = "mean", normalize: bool = False
) -> BertEncoderConfig:
    """A HF BERT ``config.json`` dict -> :class:`BertEncoderConfig`."""
    encoder = bert_encoder_config(hf)
    hf = {"model_type": "bert", **hf}
    return BertEncoderConfig(
        vocab_size=_hf_value(hf, "vocab_size"),
        pad_id=_hf_value(hf, "pad_token_id"),
        encoder=encoder,
        pooling=pooling,
        normalize=normalize,
    )


class BertEncoder(nn.Module):
    """Word embedding + seqlab :class:`TransformerEncoder` in BERT's layout.

    ``forward(ids (B, T), lengths (B,)) -> hidden (B, T, E)``: the last hidden states,
    zeros on padded steps (a row's valid steps do not depend on the padding). Inputs
    are single-segment (module doc). :meth:`embed` pools them to (B, E).
    """

    def __init__(self, config: BertEncoderConfig) -> None:
        super().__init__()
        self.config = config
        size = config.encoder.hidden_size
        self.embedding = nn.Embedding(config.vocab_size, size, padding_idx=config.pad_id)
        self.encoder = TransformerEncoder(config.encoder, size)
        self.ignored_tensors: list[str] = []  # filled by load_bert
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """normal(0, init_std) embedding with a zero padding row (BERT's initialisation)."""
        std = self.config.encoder.init_std
        with torch.no_grad():
            if std is None:
                self.embedding.reset_parameters()
            else:
                self.embedding.weight.normal_(0.0, std)
                self.embedding.weight[self.config.pad_id].zero_()

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """(B, T) token ids and (B,) lengths -> (B, T, E) last hidden states."""
        hidden, _ = self.encoder(self.embedding(ids), lengths)  # (B, T, E)
        return hidden

    def pool(self, hidden: Tensor, lengths: Tensor) -> Tensor:
        """(B, T, E) hidden states -> (B, E) by ``config.pooling`` [+ ``normalize``]; mean
        pooling is sentence-transformers' (the [CLS] and [SEP] steps count, padding does
        not), ``normalize`` its Normalize module."""
        pooling = Pooling(self.config.pooling, hidden.shape[-1], normalize=self.config.normalize)
        return pooling(hidden, lengths)[0]

    def embed(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """(B, T) ids, (B,) lengths -> (B, E) sentence embeddings."""
        return self.pool(self(ids, lengths), lengths)


def embed_texts(
    model: BertEncoder,
    tokenizer: PretrainedTokenizer,
    texts: Sequence[str],
    batch_size: int = 32,
) -> Tensor:
    """N texts -> (N, E) sentence embeddings (no gradients; batches padded with pad_id)."""
    if isinstance(texts, str):
        raise UserError("embed_texts got a single string", "pass a list of texts, e.g. [text]")
    encoded = [tokenizer.encode(text) for text in texts]
    # Batches of similar lengths pad less (as sentence-transformers does); order restored.
    order = sorted(range(len(encoded)), key=lambda index: len(encoded[index]))
    device = model.embedding.weight.device
    pieces = [model.embedding.weight.new_zeros(0, model.config.encoder.hidden_size)]
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            batch = [encoded[index] for index in order[start : start + batch_size]]
            ids, lengths = pad_sequences(batch, tokenizer.pad_id, torch.long)
            pieces.append(model.embed(ids.to(device), lengths))
    embeddings = torch.cat(pieces)  # (N, E) in length order
    return embeddings[torch.argsort(torch.tensor(order, dtype=torch.long))] if order else embeddings


# ------------------------------------------------------------------ checkpoint -> seqlab


def _layer_names(index: int) -> dict[str, str]:
    """seqlab name -> HF name of one layer's tensors (q/k/v are concatenated separately)."""
    theirs = f"encoder.layer.{index}."
    ours = f"encoder.blocks.{index}."
    pairs = {
        "attention.output": "attention.output.dense",
        "attention_norm": "attention.output.LayerNorm",
        "feedforward.up": "intermediate.dense",
        "feedforward.down": "output.dense",
        "feedforward_norm": "output.LayerNorm",
    }
    return {
        f"{ours}{mine}.{kind}": f"{theirs}{hf}.{kind}"
        for mine, hf in pairs.items()
        for kind in ("weight", "bias")
    }


def _expected_shapes(hf: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Every HF tensor the mapping reads, with the shape ``config.json`` implies."""
    hf = {"model_type": "bert", **hf}
    size, ffn = _hf_value(hf, "hidden_size"), _hf_value(hf, "intermediate_size")
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (_hf_value(hf, "vocab_size"), size),
        "embeddings.position_embeddings.weight": (_hf_value(hf, "max_position_embeddings"), size),
        "embeddings.token_type_embeddings.weight": (_hf_value(hf, "type_vocab_size"), size),
        "embeddings.LayerNorm.weight": (size,),
        "embeddings.LayerNorm.bias": (size,),
    }
    for index in range(_hf_value(hf, "num_hidden_layers")):
        layer = f"encoder.layer.{index}."
        for part in ("query", "key", "value"):
            shapes[f"{layer}attention.self.{part}.weight"] = (size, size)
            shapes[f"{layer}attention.self.{part}.bias"] = (size,)
        for name in ("attention.output.dense", "attention.output.LayerNorm", "output.LayerNorm"):
            if name.endswith("dense"):
                shapes[f"{layer}{name}.weight"] = (size, size)
            else:
                shapes[f"{layer}{name}.weight"] = (size,)
            shapes[f"{layer}{name}.bias"] = (size,)
        shapes[f"{layer}intermediate.dense.weight"] = (ffn, size)
        shapes[f"{layer}intermediate.dense.bias"] = (ffn,)
        shapes[f"{layer}output.dense.weight"] = (size, ffn)
        shapes[f"{layer}output.dense.bias"] = (size,)
    return shapes


def _canonical(name: str, prefix: str) -> str:
    """Drop a task model's ``bert.`` / ``roberta.`` prefix; old TF names gamma/beta."""
    if name.startswith(prefix + "."):
        name = name[len(prefix) + 1 :]
    if ".LayerNorm." in name or name.startswith("LayerNorm."):
        name = name.removesuffix(".gamma") + ".weight" if name.endswith(".gamma") else name
        name = name.removesuffix(".beta") + ".bias" if name.endswith(".beta") else name
    return name


def _listed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    more = len(names) - _MAX_LISTED
    return f"{shown}, +{more} more" if more > 0 else shown


def bert_state_dict(
    tensors: dict[str, Tensor], hf: dict[str, Any], where: str = "the checkpoint"
) -> tuple[dict[str, Tensor], list[str]]:
    """HF BERT tensors -> (a :class:`BertEncoder` state dict, the ignored tensor names).

    Names may carry a ``bert.`` (``roberta.``) prefix. Raises a UserError naming the
    missing and the unexpected tensors (a few of each), or a tensor of the wrong shape.
    """
    hf = {"model_type": "bert", **hf}
    _check_hf_config(hf)
    prefix = BERT_TYPES[hf["model_type"]]
    by_name: dict[str, Tensor] = {}
    for name, tensor in tensors.items():
        by_name[_canonical(name, prefix)] = tensor
    shapes = _expected_shapes(hf)
    missing = sorted(set(shapes) - set(by_name))
    ignored = sorted(n for n in by_name if n not in shapes and n.startswith(_IGNORED_PREFIXES))
    unexpected = sorted(set(by_name) - set(shapes) - set(ignored))
    if missing or unexpected:
        parts = []
        if missing:
            plural = "s" if len(missing) > 1 else ""
            parts.append(f"missing {len(missing)} tensor{plural} ({_listed(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected ({_listed(unexpected)})")
        raise UserError(
            f"{where} is not a {hf['model_type']} model of its config.json: {'; '.join(parts)}",
            "point to a BertModel folder written by save_pretrained (config.json and "
            "model.safetensors of the same model)",
        )
    for name, shape in shapes.items():
        if tuple(by_name[name].shape) != shape:
            raise UserError(
                f"{where}: tensor {name} has shape {tuple(by_name[name].shape)}, config.json "
                f"implies {shape}",
                "config.json and model.safetensors must come from the same model",
            )
    t = {name: by_name[name].float() for name in shapes}
    offset = _position_offset(hf)
    # Segment A folded into the positions: exact for single-segment input (module doc).
    positions = t["embeddings.position_embeddings.weight"][offset:]  # (P, E)
    segment = t["embeddings.token_type_embeddings.weight"][0]  # (E,)
    state = {
        "embedding.weight": t["embeddings.word_embeddings.weight"],
        "encoder.learned_positions.weight": positions + segment,
        "encoder.embedding_norm.weight": t["embeddings.LayerNorm.weight"],
        "encoder.embedding_norm.bias": t["embeddings.LayerNorm.bias"],
    }
    for index in range(_hf_value(hf, "num_hidden_layers")):
        layer = f"encoder.layer.{index}.attention.self."
        for kind in ("weight", "bias"):
            parts = [t[f"{layer}{part}.{kind}"] for part in ("query", "key", "value")]
            state[f"encoder.blocks.{index}.attention.qkv.{kind}"] = torch.cat(parts)
        for mine, theirs in _layer_names(index).items():
            state[mine] = t[theirs]
    if offset:
        ignored.append(f"embeddings.position_embeddings.weight[:{offset}]")
    if _hf_value(hf, "type_vocab_size") > 1:
        ignored.append("embeddings.token_type_embeddings.weight[1:]")
    return state, ignored


def _json_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is not valid JSON ({error})", "restore the file") from error
    if not isinstance(data, dict):
        raise UserError(f"{path} is not a JSON object", "restore the file")
    return data


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise UserError(
            f"no config.json in {folder}",
            "point to a checkpoint folder written by save_pretrained",
        )
    return _json_object(path)


def _read_tensors(folder: Path) -> dict[str, Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = folder / "model.safetensors"
    if not path.is_file():
        other = sorted(p.name for p in folder.glob("*.bin")) + sorted(
            p.name for p in folder.glob("model-*.safetensors")
        )
        hint = (
            f"found {', '.join(other)}: re-save with save_pretrained(folder, "
            "safe_serialization=True) into one file"
            if other
            else "point to a checkpoint folder written by save_pretrained"
        )
        raise UserError(f"no model.safetensors in {folder}", hint)
    try:
        return load_file(path)
    except (SafetensorError, OSError) as error:
        raise UserError(
            f"{path} is not a readable safetensors file ({error})", "restore it"
        ) from error


def _sentence_transformers_head(folder: Path) -> tuple[Literal["mean", "cls", "max"], bool]:
    """(pooling, normalize) from sentence-transformers' ``modules.json`` and its Pooling
    config; ``("mean", False)`` when the folder is a plain BERT checkpoint."""
    modules_path = folder / "modules.json"
    if not modules_path.is_file():
        return "mean", False
    try:
        modules = json.loads(modules_path.read_text(encoding="utf-8"))
        kinds = [str(module["type"]).rsplit(".", 1)[-1] for module in modules]
        paths = {
            kind: str(module.get("path", "")) for kind, module in zip(kinds, modules, strict=True)
        }
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise UserError(
            f"{modules_path} is not a sentence-transformers modules list ({error})", "restore it"
        ) from error
    other = [kind for kind in kinds if kind not in ("Transformer", "Pooling", "Normalize")]
    if other:
        raise UserError(
            f"{modules_path} lists modules seqlab does not implement: {', '.join(other)}",
            "pass pooling= and normalize= to load_bert to use the encoder without them",
        )
    pooling: Literal["mean", "cls", "max"] = "mean"
    if "Pooling" in kinds:
        config_path = folder / paths["Pooling"] / "config.json"
        config = _json_object(config_path) if config_path.is_file() else {}
        if isinstance(config.get("pooling_mode"), str):
            chosen = [config["pooling_mode"]]
        else:  # one boolean flag per mode: pooling_mode_mean_tokens = true, ...
            chosen = [
                _POOLING_FLAGS.get(key, key.removeprefix("pooling_mode_"))
                for key, value in config.items()
                if key.startswith("pooling_mode_") and value is True
            ] or ["mean"]
        if len(chosen) != 1 or chosen[0] not in ("mean", "cls", "max"):
            raise UserError(
                f"{config_path}: pooling {', '.join(chosen)} is not supported",
                "seqlab pools with one of mean, cls, max; pass pooling= to load_bert",
            )
        pooling = chosen[0]  # type: ignore[assignment]
    return pooling, "Normalize" in kinds


def load_bert(
    path: str | os.PathLike[str],
    pooling: Literal["mean", "cls", "max"] | None = None,
    normalize: bool | None = None,
) -> tuple[BertEncoder, PretrainedTokenizer]:
    """Load a BERT-family checkpoint folder into seqlab modules (eval mode, CPU).

    Reads ``config.json``, ``model.safetensors`` and ``tokenizer.json`` (+ its special
    tokens map); ``pooling`` / ``normalize`` default to what sentence-transformers'
    ``modules.json`` and ``1_Pooling/config.json`` say (mean, no norm without them),
    and its ``sentence_bert_config.json`` ``max_seq_length`` truncates the tokenizer
    (else ``max_position_embeddings``). Returns ``(model, tokenizer)``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"checkpoint folder not found: {folder}", "check the path")
    hf = _read_config(folder)
    if hf.get("model_type") not in BERT_TYPES:
        _check_hf_config(hf)  # the one-line "not a BERT-family model" error
    tensors = _read_tensors(folder)
    if pooling is None or normalize is None:
        found_pooling, found_normalize = _sentence_transformers_head(folder)
        pooling = found_pooling if pooling is None else pooling
        normalize = found_normalize if normalize is None else normalize
    config = bert_config(hf, pooling, normalize)
    state, ignored = bert_state_dict(tensors, hf, str(folder / "model.safetensors"))
    model = BertEncoder(config)
    model.load_state_dict(state, strict=True)
    model.ignored_tensors = ignored
    logger.debug("load_bert %s: ignored tensors %s", folder, ", ".join(ignored) or "none")
    max_length = config.encoder.max_positions
    sbert = folder / "sentence_bert_config.json"
    if sbert.is_file():
        seq = _json_object(sbert).get("max_seq_length")
        if isinstance(seq, int) and seq > 0:
            max_length = min(seq, max_length)
    tokenizer = PretrainedTokenizer.from_folder(folder, max_length=max_length)
    if tokenizer.vocab_size != config.vocab_size:
        raise UserError(
            f"{folder / 'tokenizer.json'} has {tokenizer.vocab_size} tokens, the checkpoint's "
            f"vocab_size is {config.vocab_size}",
            "the tokenizer must be the checkpoint's own (saved with it by save_pretrained)",
        )
    return model.eval(), tokenizer
