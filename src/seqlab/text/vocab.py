"""Vocabulary: token <-> id mapping with special tokens, min_freq and max_size.

Ids are laid out as ``specials`` first (``<pad>=0, <unk>=1, <bos>=2, <eos>=3, <mask>=4``
by default), then the corpus tokens sorted by ``(-count, token)`` so the layout is
deterministic for a given corpus. The whole state is JSON (no pickle), so a model bundle
can ship it next to ``model.safetensors``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from seqlab.errors import UserError

SPECIALS: tuple[str, ...] = ("<pad>", "<unk>", "<bos>", "<eos>", "<mask>")
PAD, UNK, BOS, EOS, MASK = SPECIALS

_FORMAT = "seqlab.vocab/1"


def write_json_atomic(path: str | os.PathLike[str], payload: Any) -> None:
    """Write JSON to ``path`` through a temp file + rename, so nothing is half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """Read a JSON file, turning the usual mistakes into a :class:`UserError`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} file not found: {path}", "check the path")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(
            f"{what} file {path} is not valid UTF-8 JSON ({error})",
            f"point to a {what.lower()} file written by seqlab's save()",
        ) from error


class Vocabulary:
    """Maps tokens to integer ids.

    Args:
        min_freq: a token must occur at least this many times to get its own id.
        max_size: total size cap *including* the specials (like ``vocab_size`` of a
            subword tokenizer); the most frequent tokens are kept.
        specials: reserved tokens that take ids ``0..len(specials)-1`` in this order;
            must contain ``"<unk>"`` (unknown tokens map to it).

    Learned state (after :meth:`fit`): ``itos_`` (id -> token), ``stoi_`` (token -> id),
    ``counts_`` (corpus count of every kept non-special token).
    """

    def __init__(
        self,
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = SPECIALS,
    ) -> None:
        specials = tuple(specials)
        if min_freq < 1:
            raise UserError(f"min_freq must be >= 1, got {min_freq}", "pass min_freq=1 or more")
        if len(set(specials)) != len(specials):
            raise UserError(f"special tokens repeat: {specials}", "list each special once")
        if UNK not in specials:
            raise UserError(f"specials {specials} lack {UNK!r}", f"include {UNK!r} in specials")
        if max_size is not None and max_size <= len(specials):
            raise UserError(
                f"max_size={max_size} leaves no room beyond the {len(specials)} special tokens",
                f"pass max_size > {len(specials)} or None",
            )
        self.min_freq = min_freq
        self.max_size = max_size
        self.specials = specials

    # ------------------------------------------------------------------ fitting
    def fit(self, token_lists: Iterable[Sequence[str]]) -> Vocabulary:
        """Count tokens over the corpus and build the id layout. Returns ``self``."""
        if isinstance(token_lists, str):
            raise UserError(
                "Vocabulary.fit got a single string",
                "pass an iterable of token lists, e.g. [['a', 'b'], ['c']]",
            )
        counter: Counter[str] = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise UserError(
                    "Vocabulary.fit got a string where a token list was expected",
                    "tokenize the text first (e.g. WordTokenizer().tokenize(text))",
                )
            counter.update(tokens)
        special_set = set(self.specials)
        for special in special_set:
            counter.pop(special, None)  # "<unk>" in PTB text maps to unk_id, not a new id
        if not counter:
            raise UserError("cannot build a vocabulary from an empty corpus", "pass non-empty text")
        kept = [(token, count) for token, count in counter.items() if count >= self.min_freq]
        if not kept:
            raise UserError(
                f"no token occurs at least min_freq={self.min_freq} times "
                f"(the most frequent occurs {max(counter.values())} times)",
                "lower min_freq or give a larger corpus",
            )
        kept.sort(key=lambda item: (-item[1], item[0]))
        if self.max_size is not None:
            kept = kept[: self.max_size - len(self.specials)]
        self._set_state(list(self.specials) + [token for token, _ in kept], dict(kept))
        return self

    def _set_state(self, itos: list[str], counts: dict[str, int]) -> None:
        self.itos_ = itos
        self.stoi_ = {token: index for index, token in enumerate(itos)}
        self.counts_ = counts
        if len(self.stoi_) != len(itos):
            raise UserError("vocabulary has repeated tokens", "rebuild it with Vocabulary.fit")

    def _check_fitted(self) -> None:
        if not hasattr(self, "itos_"):
            raise UserError("this Vocabulary is not fitted yet", "call fit(token_lists) first")

    # --------------------------------------------------------------- special ids
    def _special_id(self, token: str) -> int:
        self._check_fitted()
        if token not in self.stoi_:
            raise UserError(f"this vocabulary has no {token!r} token", "add it to specials")
        return self.stoi_[token]

    @property
    def pad_id(self) -> int:
        return self._special_id(PAD)

    @property
    def unk_id(self) -> int:
        return self._special_id(UNK)

    @property
    def bos_id(self) -> int:
        return self._special_id(BOS)

    @property
    def eos_id(self) -> int:
        return self._special_id(EOS)

    @property
    def mask_id(self) -> int:
        return self._special_id(MASK)

    # -------------------------------------------------------------- conversion
    def __len__(self) -> int:
        self._check_fitted()
        return len(self.itos_)

    def __contains__(self, token: object) -> bool:
        self._check_fitted()
        return token in self.stoi_

    def __repr__(self) -> str:
        size = len(self.itos_) if hasattr(self, "itos_") else "unfitted"
        return f"Vocabulary(size={size}, min_freq={self.min_freq}, max_size={self.max_size})"

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Token list -> id list; tokens not in the vocabulary map to ``unk_id``."""
        self._check_fitted()
        if isinstance(tokens, str):
            raise UserError("Vocabulary.encode got a string", "pass a list of tokens")
        unk = self.stoi_[UNK]
        return [self.stoi_.get(token, unk) for token in tokens]

    def decode(self, ids: Iterable[int], skip_specials: bool = False) -> list[str]:
        """Id list -> token list (optionally without any special token)."""
        self._check_fitted()
        size = len(self.itos_)
        tokens = []
        for index in ids:
            index = int(index)
            if not 0 <= index < size:
                raise UserError(
                    f"token id {index} is outside the vocabulary (size {size})",
                    "decode ids produced with this same vocabulary",
                )
            if skip_specials and index < len(self.specials):
                continue
            tokens.append(self.itos_[index])
        return tokens

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-able state: parameters, id layout and counts."""
        self._check_fitted()
        return {
            "format": _FORMAT,
            "min_freq": self.min_freq,
            "max_size": self.max_size,
            "specials": list(self.specials),
            "itos": list(self.itos_),
            "counts": dict(self.counts_),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        try:
            vocabulary = cls(data["min_freq"], data["max_size"], data["specials"])
            itos, counts = list(data["itos"]), dict(data["counts"])
        except (KeyError, TypeError) as error:
            raise UserError(
                f"not a seqlab vocabulary (missing {error})", "load a file written by save()"
            ) from error
        if tuple(itos[: len(vocabulary.specials)]) != vocabulary.specials:
            raise UserError("vocabulary ids do not start with its specials", "rebuild it")
        vocabulary._set_state(itos, counts)
        return vocabulary

    def save(self, path: str | os.PathLike[str]) -> None:
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        return cls.from_dict(read_json(path, "Vocabulary"))
