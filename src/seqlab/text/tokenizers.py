"""Tokenizers with one interface: fit, tokenize, encode, decode, save, load.

- :class:`WordTokenizer`: a Unicode-aware regex (Cyrillic, numbers, hyphenated words,
  punctuation as separate tokens) or plain whitespace split (pre-tokenised corpora such
  as Penn Treebank, where ``<unk>`` and ``mr.`` must stay single tokens).
- :class:`CharTokenizer`: one token per character; :class:`CharTagsTokenizer` (``chars+tags``):
  a word by characters, then whole tags — SIGMORPHON's lemma + features
  (``"кошка NOUN,anim,femn,plur,gent"``).
- :class:`BPETokenizer` (byte-level, Sennrich et al. 2016; Radford et al. 2019) and
  :class:`WordPieceTokenizer` (Schuster & Nakajima 2012; Devlin et al. 2019), trained
  locally with HF ``tokenizers``.
- :class:`PretrainedTokenizer`: a published checkpoint's own ``tokenizer.json`` (BERT's
  WordPiece, ...) with the checkpoint's ids; loaded, never trained.

:func:`make_tokenizer` builds any of the trained ones by its name in :data:`KINDS`.

Every trained tokenizer reserves the same special ids ``<pad>=0, <unk>=1, <bos>=2,
<eos>=3, <mask>=4``; all save to a single JSON file (``tokenizer.json`` in a bundle).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from typing import Any, ClassVar

from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

from seqlab.errors import UserError, did_you_mean
from seqlab.text.vocab import (
    BOS,
    EOS,
    MASK,
    PAD,
    SPECIALS,
    UNK,
    Vocabulary,
    read_json,
    write_json_atomic,
)

_FORMAT = "seqlab.tokenizer/1"

# Order matters: numbers with inner separators before plain words, so "3.14" and "12:30"
# stay whole; words may be joined by hyphens/apostrophes ("ток-шоу", "don't"); an ellipsis
# or a run of one punctuation mark ("...", "!!!", "))") is one token, as in the razdel gold.
WORD_PATTERN = re.compile(
    r"\d+(?:[.,:/]\d+)+"
    r"|\w+(?:[-‐'’]\w+)*"
    r"|…"
    r"|([^\w\s])\1*"
)
_WHITESPACE_PATTERN = re.compile(r"\S+")
_HAS_WORD_CHAR = re.compile(r"\w")
# Detokenisation: no space before closing marks, none after opening ones.
_CLOSING = frozenset(".,;:!?)]}»…%”’")
_OPENING = frozenset("([{«“„")


def normalize_yo(text: str) -> str:
    """ё -> е, Ё -> Е (Russian texts write both; merging them shrinks the vocabulary)."""
    return text.replace("ё", "е").replace("Ё", "Е")


def _check_texts(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise UserError("fit got a single string", "pass an iterable of texts, e.g. [text]")
    texts = list(texts)
    for text in texts:
        if not isinstance(text, str):
            raise UserError(f"fit expects strings, got {type(text).__name__}", "pass texts")
    if not any(text.strip() for text in texts):
        raise UserError("cannot fit a tokenizer on an empty corpus", "pass non-empty texts")
    return texts


class Tokenizer:
    """Base class: text <-> token strings <-> ids.

    Subclasses implement :meth:`fit`, :meth:`tokenize`, ``_encode``, ``_decode``,
    :meth:`token_to_id`, :meth:`id_to_token`, :attr:`vocab_size`, ``_state`` and
    ``_load_state``; ``_params`` names the constructor arguments.
    """

    kind: ClassVar[str] = ""
    _state_attribute: ClassVar[str] = ""
    _params: ClassVar[tuple[str, ...]] = ()

    def params(self) -> dict[str, Any]:
        """Constructor arguments (JSON-able)."""
        return {name: getattr(self, name) for name in self._params}

    def fit(self, texts: Iterable[str]) -> Tokenizer:
        raise NotImplementedError

    def tokenize(self, text: str) -> list[str]:
        raise NotImplementedError

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        ids = self._encode(text)
        return [self.bos_id] * add_bos + ids + [self.eos_id] * add_eos

    def _encode(self, text: str) -> list[int]:
        raise NotImplementedError

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> text; ``<pad>``, ``<bos>`` and ``<eos>`` are skipped."""
        skip = {self.pad_id, self.bos_id, self.eos_id}
        return self._decode([int(index) for index in ids if int(index) not in skip])

    def _decode(self, ids: list[int]) -> str:
        raise NotImplementedError

    def token_to_id(self, token: str) -> int:
        raise NotImplementedError

    def id_to_token(self, index: int) -> str:
        raise NotImplementedError

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError

    @property
    def pad_id(self) -> int:
        return self.token_to_id(PAD)

    @property
    def unk_id(self) -> int:
        return self.token_to_id(UNK)

    @property
    def bos_id(self) -> int:
        return self.token_to_id(BOS)

    @property
    def eos_id(self) -> int:
        return self.token_to_id(EOS)

    @property
    def mask_id(self) -> int:
        return self.token_to_id(MASK)

    @property
    def special_ids(self) -> dict[str, int]:
        """Role -> id of the special tokens (never masked, never sampled as noise)."""
        roles = ("pad", "unk", "bos", "eos", "mask")
        return {role: self.token_to_id(token) for role, token in zip(roles, SPECIALS, strict=True)}

    def _not_fitted(self) -> UserError:
        name = type(self).__name__
        return UserError(f"this {name} is not fitted yet", "call fit(texts) before encode/decode")

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-able parameters plus the learned state (omitted while unfitted)."""
        state = self._state() if self.is_fitted else {}
        return {"format": _FORMAT, "type": self.kind, "params": self.params(), **state}

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, self._state_attribute)

    def _state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _load_state(self, data: dict[str, Any]) -> None:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        if cls is Tokenizer:
            return tokenizer_from_dict(data)
        if not isinstance(data, dict) or data.get("type") != cls.kind:
            found = data.get("type") if isinstance(data, dict) else type(data).__name__
            raise UserError(
                f"expected a {cls.kind!r} tokenizer, found {found!r}",
                "load it with seqlab.text.tokenizers.load_tokenizer",
            )
        tokenizer = cls(**data.get("params", {}))
        tokenizer._load_state(data)
        return tokenizer

    def save(self, path: str | os.PathLike[str]) -> None:
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Tokenizer:
        return cls.from_dict(read_json(path, "Tokenizer"))

    def __repr__(self) -> str:
        params = ", ".join(f"{key}={value!r}" for key, value in self.params().items())
        return f"{type(self).__name__}({params})"


class _VocabTokenizer(Tokenizer):
    """A tokenizer whose ids come from a :class:`Vocabulary` (word and char)."""

    min_freq: int
    max_size: int | None
    _state_attribute = "vocab_"

    def fit(self, texts: Iterable[str]) -> _VocabTokenizer:
        texts = _check_texts(texts)
        vocab = Vocabulary(min_freq=self.min_freq, max_size=self.max_size)
        self.vocab_ = vocab.fit(self.tokenize(text) for text in texts)
        return self

    def _vocab(self) -> Vocabulary:
        if not hasattr(self, "vocab_"):
            raise self._not_fitted()
        return self.vocab_

    def _encode(self, text: str) -> list[int]:
        return self._vocab().encode(self.tokenize(text))

    def _decode(self, ids: list[int]) -> str:
        return self.detokenize(self._vocab().decode(ids))

    def detokenize(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def token_to_id(self, token: str) -> int:
        vocab = self._vocab()
        return vocab.stoi_.get(token, vocab.unk_id)

    def id_to_token(self, index: int) -> str:
        return self._vocab().decode([index])[0]

    @property
    def vocab_size(self) -> int:
        return len(self._vocab())

    def _state(self) -> dict[str, Any]:
        return {"vocab": self._vocab().to_dict()}

    def _load_state(self, data: dict[str, Any]) -> None:
        if "vocab" in data:
            self.vocab_ = Vocabulary.from_dict(data["vocab"])


class WordTokenizer(_VocabTokenizer):
    """Word-level tokenizer.

    Args:
        lowercase: lowercase every token.
        normalize_yo: map ``ё`` to ``е``.
        split: ``"regex"`` (:data:`WORD_PATTERN`) or ``"whitespace"`` (already tokenised text).
        min_freq, max_size: passed to :class:`Vocabulary` (``max_size`` counts specials).
        keep_punctuation: keep tokens without any letter or digit (punctuation).
    """

    kind = "word"
    _params = ("lowercase", "normalize_yo", "split", "min_freq", "max_size", "keep_punctuation")

    def __init__(
        self,
        lowercase: bool = True,
        normalize_yo: bool = False,
        split: str = "regex",
        min_freq: int = 1,
        max_size: int | None = None,
        keep_punctuation: bool = True,
    ) -> None:
        if split not in ("regex", "whitespace"):
            raise UserError(f"unknown split {split!r}", "use split='regex' or 'whitespace'")
        self.lowercase = lowercase
        self.normalize_yo = normalize_yo
        self.split = split
        self.min_freq = min_freq
        self.max_size = max_size
        self.keep_punctuation = keep_punctuation

    def tokenize_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans ``(start, stop)`` of the tokens in the *original* text."""
        pattern = WORD_PATTERN if self.split == "regex" else _WHITESPACE_PATTERN
        spans = [match.span() for match in pattern.finditer(text)]
        if not self.keep_punctuation:
            spans = [
                (start, stop) for start, stop in spans if _HAS_WORD_CHAR.search(text, start, stop)
            ]
        return spans

    def tokenize(self, text: str) -> list[str]:
        tokens = [text[start:stop] for start, stop in self.tokenize_spans(text)]
        if self.normalize_yo:
            tokens = [normalize_yo(token) for token in tokens]
        if self.lowercase:
            tokens = [token.lower() for token in tokens]
        return tokens

    def detokenize(self, tokens: list[str]) -> str:
        """Join with spaces, re-attaching punctuation where that does not merge tokens."""
        if self.split == "whitespace":
            return " ".join(tokens)
        pieces: list[str] = []
        quote_open = False  # straight quotes alternate: opening, closing, opening, ...
        previous_opens = False
        for index, token in enumerate(tokens):
            is_quote = token == '"'
            opens = (is_quote and not quote_open) or token[-1:] in _OPENING
            closes = (is_quote and quote_open) or token[:1] in _CLOSING
            quote_open ^= is_quote
            if index > 0:
                previous = tokens[index - 1]
                glue = closes or previous_opens
                # Glue only if the joined string still tokenises into the same two tokens.
                joined = [m.group() for m in WORD_PATTERN.finditer(previous + token)]
                pieces.append("" if glue and joined == [previous, token] else " ")
            pieces.append(token)
            previous_opens = opens
        return "".join(pieces)


class CharTokenizer(_VocabTokenizer):
    """Character-level tokenizer: ``decode(encode(s)) == s`` for in-vocabulary characters."""

    kind = "char"
    _params = ("lowercase", "min_freq", "max_size", "normalize_yo")

    def __init__(
        self,
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int | None = None,
        normalize_yo: bool = False,
    ) -> None:
        self.lowercase = lowercase
        self.min_freq = min_freq
        self.max_size = max_size
        self.normalize_yo = normalize_yo

    def tokenize(self, text: str) -> list[str]:
        if self.normalize_yo:
            text = normalize_yo(text)
        return list(text.lower() if self.lowercase else text)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)


class CharTagsTokenizer(CharTokenizer):
    """A word by characters, then its tags whole: ``"кошка NOUN,plur,gent"`` ->
    ``к о ш к а NOUN plur gent`` (morphological inflection, SIGMORPHON's lemma + features).

    The first whitespace-separated field is the word (``lowercase`` and ``normalize_yo``
    apply to it only); the rest are tags, separated by commas, semicolons or spaces, kept
    as written. ``decode`` writes the word, a space and the tags joined by commas: a tag
    is any token longer than one character.
    """

    kind = "chars+tags"
    _TAG_SEPARATORS = re.compile(r"[\s,;]+")

    def tokenize(self, text: str) -> list[str]:
        word, _, tags = text.strip().partition(" ")
        return super().tokenize(word) + [t for t in self._TAG_SEPARATORS.split(tags) if t]

    def detokenize(self, tokens: list[str]) -> str:
        split = next((i for i, token in enumerate(tokens) if len(token) > 1), len(tokens))
        word, tags = "".join(tokens[:split]), ",".join(tokens[split:])
        return f"{word} {tags}" if tags else word


class _HFTokenizer(Tokenizer):
    """Subword tokenizer backed by a HF ``tokenizers.Tokenizer`` (``hf_`` after fit)."""

    _state_attribute = "hf_"

    def __init__(self, vocab_size: int = 8000, min_frequency: int = 2, lowercase: bool = False):
        if vocab_size <= len(SPECIALS):
            raise UserError(f"vocab_size={vocab_size} is too small", "pass a few hundred or more")
        self.vocab_size_target = vocab_size
        self.min_frequency = min_frequency
        self.lowercase = lowercase

    def params(self) -> dict[str, Any]:
        # ``vocab_size`` is the trainer's target; the property gives the trained size.
        return {
            "vocab_size": self.vocab_size_target,
            "min_frequency": self.min_frequency,
            "lowercase": self.lowercase,
        }

    def build(self) -> tuple[Any, Any]:
        """The untrained HF tokenizer and its trainer (public so tests can mirror it)."""
        raise NotImplementedError

    def fit(self, texts: Iterable[str]) -> _HFTokenizer:
        texts = _check_texts(texts)
        hf_tokenizer, trainer = self.build()
        hf_tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
        for index, special in enumerate(SPECIALS):
            if hf_tokenizer.token_to_id(special) != index:  # the trainer adds specials first
                raise AssertionError(f"{special} got id {hf_tokenizer.token_to_id(special)}")
        self._set_model(hf_tokenizer)
        return self

    def _set_model(self, hf_tokenizer: HFTokenizer) -> None:
        # A literal "<eos>" in the text is text, not the special id: byte-level BPE then
        # round-trips every string exactly. (Not serialised by HF, so set on load too.)
        hf_tokenizer.encode_special_tokens = True
        self.hf_ = hf_tokenizer

    def _hf(self) -> Any:
        if not hasattr(self, "hf_"):
            raise self._not_fitted()
        return self.hf_

    def tokenize(self, text: str) -> list[str]:
        return self._hf().encode(text, add_special_tokens=False).tokens

    def _encode(self, text: str) -> list[int]:
        return self._hf().encode(text, add_special_tokens=False).ids

    def _decode(self, ids: list[int]) -> str:
        return self._hf().decode(ids, skip_special_tokens=False)

    def token_to_id(self, token: str) -> int:
        index = self._hf().token_to_id(token)
        return self.unk_id if index is None else index

    @property
    def unk_id(self) -> int:
        return self._hf().token_to_id(UNK)

    def id_to_token(self, index: int) -> str:
        token = self._hf().id_to_token(index)
        if token is None:
            raise UserError(f"token id {index} is outside the vocabulary", "check the ids")
        return token

    @property
    def vocab_size(self) -> int:
        return self._hf().get_vocab_size()

    def _state(self) -> dict[str, Any]:
        return {"hf": json.loads(self._hf().to_str())}

    def _load_state(self, data: dict[str, Any]) -> None:
        if "hf" in data:
            self._set_model(HFTokenizer.from_str(json.dumps(data["hf"])))


class BPETokenizer(_HFTokenizer):
    """Byte-level BPE: every text is representable, so ``decode(encode(s)) == s`` exactly
    (``lowercase=False``). ``vocab_size`` includes the 5 specials and the 256 byte symbols.
    """

    kind = "bpe"

    def build(self) -> tuple[Any, Any]:
        hf_tokenizer = HFTokenizer(models.BPE(unk_token=UNK))
        if self.lowercase:
            hf_tokenizer.normalizer = normalizers.Lowercase()
        hf_tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        hf_tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=self.vocab_size_target,
            min_frequency=self.min_frequency,
            special_tokens=list(SPECIALS),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        return hf_tokenizer, trainer


class WordPieceTokenizer(_HFTokenizer):
    """WordPiece with BERT's pre-tokenizer (whitespace + punctuation) and ``##`` prefix."""

    kind = "wordpiece"

    def build(self) -> tuple[Any, Any]:
        hf_tokenizer = HFTokenizer(models.WordPiece(unk_token=UNK, continuing_subword_prefix="##"))
        if self.lowercase:
            hf_tokenizer.normalizer = normalizers.Lowercase()
        hf_tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        hf_tokenizer.decoder = decoders.WordPiece(prefix="##")
        trainer = trainers.WordPieceTrainer(
            vocab_size=self.vocab_size_target,
            min_frequency=self.min_frequency,
            special_tokens=list(SPECIALS),
            continuing_subword_prefix="##",
            show_progress=False,
        )
        return hf_tokenizer, trainer


# Special-token roles of a checkpoint's tokenizer, as HF's special_tokens_map.json names them.
_ROLES: tuple[str, ...] = ("pad", "unk", "cls", "sep", "mask", "bos", "eos")


def _token_content(value: Any) -> str | None:
    """A special_tokens_map entry: ``"[PAD]"`` or ``{"content": "[PAD]", ...}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


class PretrainedTokenizer(_HFTokenizer):
    """A published checkpoint's own tokenizer (its HF ``tokenizer.json``), with its own ids.

    Built with :meth:`from_folder`, never trained. The ids are the checkpoint's (BERT
    uncased: ``[PAD]=0, [UNK]=100, [CLS]=101, [SEP]=102, [MASK]=103``), so seqlab's
    ``<pad>=0, <unk>=1`` layout does not hold here: use :attr:`pad_id`, :attr:`unk_id`,
    :attr:`mask_id`. The special-token roles come from ``special_tokens_map.json`` (or
    ``tokenizer_config.json``, else what ``tokenizer.json`` itself says).

    ``encode(text)`` returns what the model reads: with ``add_special_tokens`` (default)
    the checkpoint's template adds them (``[CLS] … [SEP]`` for BERT, ``<s> … </s>`` for
    RoBERTa), as HF's ``tokenizer(text)`` does; :meth:`tokenize` gives the pieces without
    them. :attr:`bos_id` / :attr:`eos_id` are the checkpoint's bos/eos, else [CLS]/[SEP].
    ``max_length`` truncates like HF's ``truncation=True`` (the specials are kept);
    the padding and truncation stored in ``tokenizer.json`` are dropped, since seqlab
    pads batches itself. A special token written in the text (``"[MASK]"``) is that
    token, as in HF. The whole ``tokenizer.json`` is saved inside :meth:`to_dict`.
    """

    kind = "pretrained"
    _params = ("add_special_tokens", "max_length")

    def __init__(self, add_special_tokens: bool = True, max_length: int | None = None) -> None:
        if max_length is not None and max_length < 1:
            raise UserError(f"max_length={max_length} must be >= 1", "pass None or a length")
        self.add_special_tokens = add_special_tokens
        self.max_length = max_length

    def params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._params}

    def fit(self, texts: Iterable[str]) -> PretrainedTokenizer:
        raise UserError(
            "a pretrained tokenizer is not trained",
            "load it with PretrainedTokenizer.from_folder(checkpoint_folder)",
        )

    @classmethod
    def from_folder(
        cls,
        folder: str | os.PathLike[str],
        add_special_tokens: bool = True,
        max_length: int | None = None,
    ) -> PretrainedTokenizer:
        """Load ``folder/tokenizer.json`` and the special-token roles beside it."""
        folder = os.fspath(folder)
        path = os.path.join(folder, "tokenizer.json")
        if not os.path.isfile(path):
            raise UserError(
                f"no tokenizer.json in {folder}",
                "point to a checkpoint folder saved by HF tokenizers / transformers",
            )
        try:
            hf_tokenizer = HFTokenizer.from_file(path)
        except Exception as error:  # tokenizers raises a bare Exception on a bad file
            raise UserError(
                f"{path} is not a HF tokenizers file ({str(error).splitlines()[0]})",
                "re-save it with tokenizer.save_pretrained(folder)",
            ) from error
        roles: dict[str, str] = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):
            side = os.path.join(folder, name)
            data = read_json(side, name) if os.path.isfile(side) else {}
            for role in _ROLES:
                token = (
                    _token_content(data.get(f"{role}_token")) if isinstance(data, dict) else None
                )
                if token is not None and role not in roles:
                    roles[role] = token
        tokenizer = cls(add_special_tokens=add_special_tokens, max_length=max_length)
        tokenizer._set_roles(hf_tokenizer, {**_roles_in(hf_tokenizer), **roles})
        return tokenizer

    def _set_roles(self, hf_tokenizer: HFTokenizer, roles: dict[str, str]) -> None:
        for role, token in roles.items():
            if hf_tokenizer.token_to_id(token) is None:
                raise UserError(
                    f"the {role} token {token!r} is not in the tokenizer's vocabulary",
                    "check special_tokens_map.json against tokenizer.json",
                )
        for role in ("pad", "unk"):  # seqlab pads batches and maps unknown tokens
            if role not in roles:
                raise UserError(
                    f"the tokenizer names no {role} token",
                    f"add {role}_token to special_tokens_map.json",
                )
        self.roles_ = dict(roles)
        self._set_model(hf_tokenizer)

    def _set_model(self, hf_tokenizer: HFTokenizer) -> None:
        hf_tokenizer.no_padding()
        if self.max_length is None:
            hf_tokenizer.no_truncation()
        else:
            hf_tokenizer.enable_truncation(self.max_length)
        self.hf_ = hf_tokenizer

    def _role_id(self, role: str) -> int:
        self._hf()
        token = self.roles_.get(role)
        if token is None:
            raise UserError(f"this tokenizer has no {role} token", "use a tokenizer that has one")
        return int(self.hf_.token_to_id(token))

    @property
    def pad_id(self) -> int:
        return self._role_id("pad")

    @property
    def unk_id(self) -> int:
        return self._role_id("unk")

    @property
    def mask_id(self) -> int:
        return self._role_id("mask")

    @property
    def cls_id(self) -> int:
        return self._role_id("cls")

    @property
    def sep_id(self) -> int:
        return self._role_id("sep")

    @property
    def bos_id(self) -> int:
        return self._role_id("bos" if "bos" in self._roles() else "cls")

    @property
    def eos_id(self) -> int:
        return self._role_id("eos" if "eos" in self._roles() else "sep")

    def _roles(self) -> dict[str, str]:
        self._hf()
        return self.roles_

    @property
    def special_ids(self) -> dict[str, int]:
        """Role -> id of every special token the checkpoint names (``{"pad": 0, ...}``)."""
        return {role: self._role_id(role) for role in self._roles()}

    def _encode(self, text: str) -> list[int]:
        return self._hf().encode(text, add_special_tokens=self.add_special_tokens).ids

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> text without pad/cls/sep/bos/eos ([MASK] and [UNK] stay visible)."""
        skip = {self._role_id(r) for r in ("pad", "cls", "sep", "bos", "eos") if r in self._roles()}
        return self._decode([int(index) for index in ids if int(index) not in skip])

    def _state(self) -> dict[str, Any]:
        return {"hf": json.loads(self._hf().to_str()), "roles": dict(self.roles_)}

    def _load_state(self, data: dict[str, Any]) -> None:
        if "hf" in data:
            roles = data.get("roles")
            if not isinstance(roles, dict):
                raise UserError("a pretrained tokenizer without its roles", "re-save it")
            self._set_roles(HFTokenizer.from_str(json.dumps(data["hf"])), roles)


def _roles_in(hf_tokenizer: HFTokenizer) -> dict[str, str]:
    """Special-token roles that ``tokenizer.json`` itself tells: unk from the model, pad
    from the padding, cls/sep from the single-sequence template, mask by name."""
    data = json.loads(hf_tokenizer.to_str())
    roles: dict[str, str] = {}
    unk = (data.get("model") or {}).get("unk_token")
    if isinstance(unk, str):
        roles["unk"] = unk
    padding = data.get("padding") or {}
    if isinstance(padding.get("pad_token"), str):
        roles["pad"] = padding["pad_token"]
    processor = data.get("post_processor") or {}
    single = [
        item["SpecialToken"]["id"] for item in processor.get("single", []) if "SpecialToken" in item
    ]
    if processor.get("type") == "TemplateProcessing" and single:
        template = processor["single"]
        if "SpecialToken" in template[0]:
            roles["cls"] = template[0]["SpecialToken"]["id"]
        if "SpecialToken" in template[-1]:
            roles["sep"] = template[-1]["SpecialToken"]["id"]
    elif isinstance(processor.get("cls"), list) and isinstance(processor.get("sep"), list):
        roles["cls"], roles["sep"] = processor["cls"][0], processor["sep"][0]  # BertProcessing
    for added in data.get("added_tokens", []):
        content = added.get("content", "")
        for role in ("pad", "mask"):
            if added.get("special") and role in content.lower() and role not in roles:
                roles[role] = content
    return roles


class TokenizerPair(Tokenizer):
    """The ``source`` and ``target`` tokenizers of a sequence-to-sequence model, saved as
    one ``tokenizer.json``. As a :class:`Tokenizer` it is the target side (what the model
    writes: special ids, ``decode``, ``vocab_size``); encode sources with ``.source``.
    With a shared vocabulary both are the same object."""

    kind = "pair"
    _state_attribute = "source"

    def __init__(self, source: Tokenizer | None = None, target: Tokenizer | None = None) -> None:
        if source is not None:
            self.source = source
            self.target = target if target is not None else source

    @property
    def shared(self) -> bool:
        return self.source is self.target

    def _state(self) -> dict[str, Any]:
        target = None if self.shared else self.target.to_dict()
        return {"source": self.source.to_dict(), "target": target}

    def _load_state(self, data: dict[str, Any]) -> None:
        if "source" not in data:
            return
        self.source = tokenizer_from_dict(data["source"])
        self.target = (
            self.source if data.get("target") is None else tokenizer_from_dict(data["target"])
        )

    def tokenize(self, text: str) -> list[str]:
        return self.target.tokenize(text)

    def _encode(self, text: str) -> list[int]:
        return self.target.encode(text)

    def _decode(self, ids: list[int]) -> str:
        return self.target.decode(ids)

    def token_to_id(self, token: str) -> int:
        return self.target.token_to_id(token)

    def id_to_token(self, index: int) -> str:
        return self.target.id_to_token(index)

    @property
    def vocab_size(self) -> int:
        return self.target.vocab_size

    @property
    def special_ids(self) -> dict[str, int]:
        return self.target.special_ids


TOKENIZERS: dict[str, type[Tokenizer]] = {
    cls.kind: cls
    for cls in (
        WordTokenizer,
        CharTokenizer,
        CharTagsTokenizer,
        BPETokenizer,
        WordPieceTokenizer,
        PretrainedTokenizer,
        TokenizerPair,
    )
}


KINDS: tuple[str, ...] = ("word", "whitespace", "char", "chars+tags", "bpe", "wordpiece")


def make_tokenizer(
    kind: str,
    *,
    lowercase: bool = True,
    min_freq: int = 1,
    max_size: int | None = None,
    vocab_size: int = 8000,
    normalize_yo: bool = False,
) -> Tokenizer:
    """An unfitted tokenizer of one of :data:`KINDS` (a recipe's ``data.tokenizer``, the
        CLI's ``--kind``); the one tokenizer factory of seqlab.

        ``"whitespace"`` is :class:`WordTokenizer` with ``split="whitespace"``. ``min_freq``
        drops rarer words/characters, and is the trainer's ``min_frequency`` for ``"bpe"`` and
        ``"wordpiece"``; ``max_size`` caps word/char vocabularies, ``vocab_size`` is the
        subword target. ``normalize_yo`` (ё -> е) exists for word, whitespace and the char kinds
    only.
    """
    if kind in ("word", "whitespace"):
        return WordTokenizer(
            lowercase=lowercase,
            normalize_yo=normalize_yo,
            split="regex" if kind == "word" else "whitespace",
            min_freq=min_freq,
            max_size=max_size,
        )
    if kind in ("char", "chars+tags"):
        cls = CharTokenizer if kind == "char" else CharTagsTokenizer
        return cls(
            lowercase=lowercase, min_freq=min_freq, max_size=max_size, normalize_yo=normalize_yo
        )
    if kind in ("bpe", "wordpiece"):
        if normalize_yo:
            raise UserError(
                f"normalize_yo is not supported by the {kind} tokenizer",
                "use it with word, whitespace or char, or map ё to е in the data",
            )
        cls = BPETokenizer if kind == "bpe" else WordPieceTokenizer
        return cls(vocab_size=vocab_size, min_frequency=min_freq, lowercase=lowercase)
    raise UserError(f"unknown tokenizer '{kind}'", did_you_mean(kind, KINDS))


def tokenizer_from_dict(data: dict[str, Any]) -> Tokenizer:
    """Rebuild any tokenizer from :meth:`Tokenizer.to_dict` output (dispatch on ``type``)."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind not in TOKENIZERS:
        raise UserError(
            f"unknown tokenizer type {kind!r}", f"expected one of {', '.join(TOKENIZERS)}"
        )
    return TOKENIZERS[kind].from_dict(data)


def load_tokenizer(path: str | os.PathLike[str]) -> Tokenizer:
    """Load a tokenizer JSON file written by :meth:`Tokenizer.save`."""
    return tokenizer_from_dict(read_json(path, "Tokenizer"))
