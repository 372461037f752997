"""Pre-split words and the sub-tokens a model reads: each word's pieces, the checkpoint's
special tokens, and windows that fit a context.

A tagger or a probe is given words (``["Obama", "visited", "Paris"]``) and needs one
answer a word, while a sub-word model reads pieces (``[CLS] obama visited paris [SEP]``,
or ``una ##ffa ##ble`` for one word). As in HF's ``is_split_into_words`` +
``word_ids()``, each word is read at its first piece::

    words --word_pieces--> pieces per word --windows--> (ids, first) per window
    ids:   [CLS] obama visited paris [SEP]      first: [1, 2, 3]

A sentence longer than the context is cut between words into consecutive windows (each
word is read once, in the context of its own window).
"""

from __future__ import annotations

from collections.abc import Sequence

from seqlab.errors import UserError
from seqlab.text.tokenizers import PretrainedTokenizer, Tokenizer

Window = tuple[list[int], list[int]]  # (ids with specials, each word's first position)


def word_pieces(tokenizer: Tokenizer, word: str) -> list[int]:
    """One pre-split word's sub-token ids, without special tokens ([UNK] if it has none)."""
    if isinstance(tokenizer, PretrainedTokenizer):
        # tokenize() never adds the template's [CLS] / [SEP]; encode() would.
        pieces = [tokenizer.token_to_id(piece) for piece in tokenizer.tokenize(word)]
    else:
        pieces = tokenizer.encode(word)  # seqlab tokenizers add nothing unless asked
    return pieces or [tokenizer.unk_id]


def special_ids(tokenizer: Tokenizer) -> tuple[list[int], list[int]]:
    """Ids before and after every window: the checkpoint's template (``[CLS] … [SEP]``,
    ``<s> … </s>``) for a pretrained tokenizer; none for seqlab's own tokenizers."""
    if isinstance(tokenizer, PretrainedTokenizer) and tokenizer.add_special_tokens:
        return [tokenizer.bos_id], [tokenizer.eos_id]
    return [], []


def context_limit(max_positions: int | None, tokenizer: Tokenizer | None = None) -> int | None:
    """The longest input (specials included) a model reads: its encoder's positions and a
    pretrained tokenizer's own limit (e.g. sentence-transformers' max_seq_length); None:
    any length."""
    limits = [max_positions]
    if isinstance(tokenizer, PretrainedTokenizer):
        limits.append(tokenizer.max_length)
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


def pack_windows(
    pieces: Sequence[list[int]],
    context: int | None,
    before: Sequence[int] = (),
    after: Sequence[int] = (),
) -> list[Window]:
    """Words given as their pieces -> windows ``(ids, first)`` of at most ``context`` ids
    (None: one window): ``before`` + the pieces of consecutive words + ``after``, and
    the position of each word's first piece. A single word longer than a window keeps
    only its first pieces (only the first is read)."""
    room = None if context is None else context - len(before) - len(after)
    if room is not None and room < 1:
        raise UserError(
            f"a context of {context} tokens leaves no room for words", "use a longer context"
        )
    result: list[Window] = []
    ids, first = list(before), []
    for word in pieces:
        word = word[:room]
        if room is not None and first and len(ids) - len(before) + len(word) > room:
            result.append((ids + list(after), first))
            ids, first = list(before), []
        first.append(len(ids))
        ids += word
    result.append((ids + list(after), first))
    return result


def windows(words: Sequence[str], tokenizer: Tokenizer, context: int | None) -> list[Window]:
    """A sentence -> windows ``(ids, first)``: ``ids`` the model's input (with the
    tokenizer's specials) and ``first`` the position of each word's first sub-token."""
    before, after = special_ids(tokenizer)
    return pack_windows([word_pieces(tokenizer, w) for w in words], context, before, after)


__all__ = ["Window", "context_limit", "pack_windows", "special_ids", "windows", "word_pieces"]
