"""Beam and greedy search against brute force, a plain reference beam, and one-by-one runs.

The toy model is a second-order Markov chain with a per-sentence "source" bias: the
next-token logits depend on the last two tokens of the row and on its sentence, so a row
fed the wrong parent, the wrong previous token or another sentence's source changes
the result.
"""

from __future__ import annotations

import itertools
import math
from collections import namedtuple
from typing import Any

import pytest
import torch
from torch import Tensor

from seqlab.decoding.beam import (
    Hypothesis,
    beam_search,
    gnmt_penalty,
    greedy_search,
    reorder_state,
)

NEG_INF = float("-inf")


class RowState:
    """Per-row state object reordered through its own ``reorder`` (like a KV cache)."""

    def __init__(self, source: Tensor, previous: Tensor) -> None:
        self.source, self.previous = source, previous

    def reorder(self, indices: Tensor) -> RowState:
        return RowState(self.source[indices], self.previous[indices])


Pair = namedtuple("Pair", ["source", "previous"])


class ToyModel:
    """logits(row) = table[previous token, last token] + source[sentence of the row]."""

    def __init__(self, vocab: int, sentences: int, seed: int, kind: str = "tuple") -> None:
        generator = torch.Generator().manual_seed(seed)
        self.vocab, self.kind = vocab, kind
        self.table = 2.0 * torch.randn(vocab, vocab, vocab, generator=generator)
        self.source = torch.randn(sentences, vocab, generator=generator)
        self.rows_per_call: list[int] = []

    def initial(self, sentences: list[int]) -> Any:
        source = self.source[sentences]
        previous = torch.zeros(len(sentences), dtype=torch.long)
        return self._pack(source, previous)

    def _pack(self, source: Tensor, previous: Tensor) -> Any:
        if self.kind == "tuple":
            return (source, [previous, None])
        if self.kind == "dict":
            return {"source": source, "inner": {"previous": previous}, "empty": None}
        if self.kind == "named":
            return Pair(source, previous)
        return RowState(source, previous)

    def _unpack(self, state: Any) -> tuple[Tensor, Tensor]:
        if self.kind == "tuple":
            return state[0], state[1][0]
        if self.kind == "dict":
            return state["source"], state["inner"]["previous"]
        return state.source, state.previous

    def step(self, tokens: Tensor, state: Any) -> tuple[Tensor, Any]:
        source, previous = self._unpack(state)
        assert tokens.shape == (source.shape[0],) == (previous.shape[0],)
        self.rows_per_call.append(tokens.shape[0])
        return self.table[previous, tokens] + source, self._pack(source, tokens)

    def log_probs_after(self, sentence: int, start: int, prefix: list[int]) -> Tensor:
        """(V,) float32 next-token log-probs after ``prefix``, recomputed from scratch."""
        state, token = self.initial([sentence]), torch.tensor([start])
        logits, state = self.step(token, state)
        for next_token in prefix:
            logits, state = self.step(torch.tensor([next_token]), state)
        return logits[0].float().log_softmax(-1)

    def sequence_log_prob(self, sentence: int, start: int, tokens: list[int]) -> float:
        """Summed log-prob of ``tokens``, recomputed one row at a time (float64 sum)."""
        return sum(
            float(self.log_probs_after(sentence, start, tokens[:i])[token])
            for i, token in enumerate(tokens)
        )


def run_beam(model: ToyModel, sentences: list[int], starts: list[int], **kwargs: Any):
    return beam_search(model.step, model.initial(sentences), torch.tensor(starts), **kwargs)


def assert_same(got: list[Hypothesis], want: list[Hypothesis], atol: float = 1e-6) -> None:
    assert [(h.tokens, h.finished) for h in got] == [(h.tokens, h.finished) for h in want]
    for a, b in zip(got, want, strict=True):
        assert a.score == pytest.approx(b.score, abs=atol)
        assert a.log_prob == pytest.approx(b.log_prob, abs=atol)


# 1. beam_size = 1 is greedy ---------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("min_length", [0, 3])
def test_beam_size_one_equals_greedy(seed: int, min_length: int) -> None:
    model = ToyModel(vocab=7, sentences=5, seed=seed, kind="dict")
    model.source[:, 1] += torch.linspace(-2.0, 3.0, 5)  # uneven eos pressure per sentence
    sentences, starts = [0, 1, 2, 3, 4], [0, 3, 3, 5, 6]
    tokens, log_probs = greedy_search(
        model.step, model.initial(sentences), torch.tensor(starts), 8, 1, min_length
    )
    beams = run_beam(
        model, sentences, starts, beam_size=1, max_length=8, eos_id=1, min_length=min_length
    )
    assert log_probs.dtype == torch.float32 and log_probs.shape == (5,)
    assert len({len(t) for t in tokens}) > 1  # uneven lengths really happen
    for row, (hypotheses, ids) in enumerate(zip(beams, tokens, strict=True)):
        (best,) = hypotheses
        assert best.tokens == ids
        assert best.log_prob == log_probs[row].item()  # exactly: same float32 sums
        assert best.finished == (len(ids) < 8)
        recomputed = model.sequence_log_prob(row, starts[row], ids + [1] * best.finished)
        assert best.log_prob == pytest.approx(recomputed, abs=1e-5)


def test_greedy_drops_finished_rows_and_picks_argmax() -> None:
    model = ToyModel(vocab=6, sentences=4, seed=9, kind="object")
    model.source[0, 1] = 20.0  # sentence 0 ends at once
    tokens, _ = greedy_search(
        model.step, model.initial([0, 1, 2, 3]), torch.tensor([2, 2, 3, 4]), 5, 1
    )
    assert tokens[0] == []
    assert model.rows_per_call[0] == 4 and model.rows_per_call[1] < 4
    for row in range(4):  # each chosen token is the argmax of a from-scratch recomputation
        prefix = tokens[row] + ([1] if len(tokens[row]) < 5 else [])
        for i, token in enumerate(prefix):
            recomputed = model.log_probs_after(row, [2, 2, 3, 4][row], prefix[:i])
            assert token == int(recomputed.argmax())


# 2. Exhaustive oracle -------------------------------------------------------------------


def brute_force(
    model: ToyModel,
    sentence: int,
    start: int,
    max_length: int,
    eos: int,
    alpha: float,
    min_length: int,
) -> list[tuple[float, float, list[int]]]:
    """Every finished sequence (<= max_length tokens with the eos), best score first."""
    words = [v for v in range(model.vocab) if v != eos]
    out = []
    for n in range(min_length, max_length):
        for tokens in itertools.product(words, repeat=n):
            log_prob = model.sequence_log_prob(sentence, start, [*tokens, eos])
            out.append((log_prob / gnmt_penalty(n + 1, alpha), log_prob, list(tokens)))
    return sorted(out, key=lambda item: -item[0])


@pytest.mark.parametrize("alpha", [0.0, 0.7, 2.5, -0.5])
@pytest.mark.parametrize("min_length", [0, 2])
def test_exhaustive_oracle(alpha: float, min_length: int) -> None:
    vocab, eos, max_length = 4, 1, 4
    model = ToyModel(vocab, sentences=3, seed=7, kind="tuple")
    width = vocab * (vocab - 1) ** (max_length - 1)  # every prefix and every eos candidate fit
    starts = [0, 2, 3]
    for early in (True, False):
        results = run_beam(
            model, [0, 1, 2], starts, beam_size=width, max_length=max_length, eos_id=eos,
            length_penalty=alpha, min_length=min_length, num_return=6, early_stopping=early,
        )  # fmt: skip
        for sentence, hypotheses in enumerate(results):
            want = brute_force(
                model, sentence, starts[sentence], max_length, eos, alpha, min_length
            )
            assert len(hypotheses) == 6 and all(h.finished for h in hypotheses)
            for hypothesis, (score, log_prob, tokens) in zip(hypotheses, want, strict=False):
                assert hypothesis.tokens == tokens
                assert hypothesis.score == pytest.approx(score, abs=1e-5)
                assert hypothesis.log_prob == pytest.approx(log_prob, abs=1e-5)
    # alpha changes the winner here, or the test would not exercise the penalty
    winners = {tuple(brute_force(model, 0, 0, max_length, eos, a, 0)[0][2]) for a in (0.0, 0.7)}
    assert len(winners) > 1


# 3. Batched == one by one ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tuple", "dict", "named", "object"])
@pytest.mark.parametrize("early", [True, False])
def test_batched_equals_one_by_one(kind: str, early: bool) -> None:
    model = ToyModel(vocab=8, sentences=6, seed=5, kind=kind)
    model.source[:, 1] += torch.tensor([4.0, -3.0, 1.0, -1.0, 2.5, -6.0])  # uneven lengths
    starts = [0, 2, 2, 5, 7, 3]
    options = dict(
        beam_size=4, max_length=9, eos_id=1, length_penalty=0.6, num_return=3,
        min_length=1, early_stopping=early,
    )  # fmt: skip
    batched = run_beam(model, list(range(6)), starts, **options)
    calls = list(model.rows_per_call)
    lengths = set()
    for sentence in range(6):
        alone = run_beam(model, [sentence], [starts[sentence]], **options)
        assert len(alone) == 1
        assert_same(batched[sentence], alone[0])
        lengths |= {len(h.tokens) for h in alone[0]}
    assert len(lengths) > 2
    # done sentences are dropped: some calls decode fewer than B*K rows, none more
    assert calls[0] == 6 * 4 and max(calls) == 24 and min(calls) < 24
    assert all(c % 4 == 0 for c in calls)


def test_sentences_do_not_mix() -> None:
    """Swapping the order of the sentences in the batch permutes the results."""
    model = ToyModel(vocab=6, sentences=4, seed=2, kind="object")
    options = dict(beam_size=3, max_length=6, eos_id=1, num_return=2)
    forward = run_beam(model, [0, 1, 2, 3], [0, 0, 0, 0], **options)
    backward = run_beam(model, [3, 2, 1, 0], [0, 0, 0, 0], **options)
    for a, b in zip(forward, reversed(backward), strict=True):
        assert_same(a, b, atol=0.0)
    assert len({tuple(h[0].tokens) for h in forward}) > 1  # the sources matter


# Reference beam (per sentence, pure Python, from-scratch log-probs) -----------------------


def reference_beam(
    model: ToyModel, sentence: int, start: int, beam: int, max_length: int, eos: int,
    alpha: float, min_length: int, num_return: int, early: bool,
) -> tuple[list[Hypothesis], int]:  # fmt: skip
    """Returns the hypotheses and the number of steps the stated stopping rule needs.

    ``early=False`` runs to max_length (no stopping rule) and reports the first step at
    which "K finished and worst finished score >= best alive s / max(lp(n+1),
    lp(max_length))" holds.
    """
    alive: list[tuple[list[int], float]] = [([], 0.0)]
    finished: list[Hypothesis] = []
    stop = max_length
    for t in range(max_length):
        candidates = []
        for tokens, score in alive:
            log_probs = model.log_probs_after(sentence, start, tokens)
            if t < min_length:
                log_probs[eos] = NEG_INF
            for token in range(model.vocab):
                total = float(torch.tensor(score) + log_probs[token])  # float32 like the search
                if total > NEG_INF:
                    candidates.append((total, tokens, token))
        candidates.sort(key=lambda c: -c[0])
        alive = []
        for rank, (total, tokens, token) in enumerate(candidates[: 2 * beam]):
            if token == eos:
                if rank < beam:
                    penalty = gnmt_penalty(t + 1, alpha)
                    finished.append(Hypothesis(tokens, total / penalty, total, True))
            elif len(alive) < beam:
                alive.append(([*tokens, token], total))
        kept = sorted(finished, key=lambda h: -h.score)[:beam]
        if len(kept) == beam and stop == max_length:
            reach = max(gnmt_penalty(t + 2, alpha), gnmt_penalty(max_length, alpha))
            if early or not alive or kept[-1].score >= alive[0][1] / reach:
                stop = t + 1
                if early:
                    break
        if not alive:
            stop = min(stop, t + 1)
            break
    ranked = sorted(finished, key=lambda h: -h.score)[:num_return]
    if len(ranked) < num_return and stop == max_length:
        penalty = gnmt_penalty(max_length, alpha)
        ranked += [Hypothesis(tokens, s / penalty, s, False) for tokens, s in alive][
            : num_return - len(ranked)
        ]
    return ranked, stop


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.5])
def test_against_reference_beam(seed: int, alpha: float) -> None:
    model = ToyModel(vocab=6, sentences=4, seed=seed, kind="dict")
    model.source[:, 1] += 1.5
    starts = [0, 3, 4, 5]
    differs, stops = False, []
    for early in (True, False):
        options = dict(
            beam_size=3, max_length=7, eos_id=1, length_penalty=alpha, num_return=3,
            min_length=1, early_stopping=early,
        )  # fmt: skip
        batched = run_beam(model, [0, 1, 2, 3], starts, **options)
        for sentence in range(4):
            model.rows_per_call.clear()
            alone = run_beam(model, [sentence], [starts[sentence]], **options)
            steps = len(model.rows_per_call)
            want, stop = reference_beam(
                model, sentence, starts[sentence], 3, 7, 1, alpha, 1, 3, early
            )
            assert_same(batched[sentence], want, atol=1e-5)
            assert_same(alone[0], want, atol=1e-5)
            assert steps == stop  # stops exactly when the stated rule first holds
            if not early:
                stops.append(stop)
                early_result, _ = reference_beam(
                    model, sentence, starts[sentence], 3, 7, 1, alpha, 1, 3, True
                )
                differs |= [h.tokens for h in early_result] != [h.tokens for h in want]
    assert differs  # early_stopping matters for some sentence
    assert min(stops) < 7  # and early_stopping=False still stops before max_length


def test_early_stopping_false_finds_a_later_better_hypothesis() -> None:
    """Hand-built: two hypotheses finish first, a longer one beats them later."""
    eos, a, b, bos = 0, 1, 2, 3
    probs = torch.zeros(4, 4)
    probs[bos] = torch.tensor([0.35, 0.45, 0.2, 0.0])
    probs[a] = torch.tensor([0.1, 0.0, 0.9, 0.0])
    probs[b] = torch.tensor([1.0, 0.0, 0.0, 0.0])
    table = probs.log()

    def step(tokens: Tensor, state: Any) -> tuple[Tensor, Any]:
        return table[tokens], state

    start = torch.tensor([bos])
    # step 1: [] finishes (.35), a (.45) and b (.2) continue; step 2: [b] finishes (.2),
    # a b (.405) continues: K = 2 finished, early stopping ends here, although a b can
    # still finish (.405 > .2): at step 3 it does, with probability .405.
    early = beam_search(step, None, start, 2, 5, eos, num_return=2, early_stopping=True)[0]
    late = beam_search(step, None, start, 2, 5, eos, num_return=2, early_stopping=False)[0]
    assert [h.tokens for h in early] == [[], [b]]
    assert [math.exp(h.log_prob) for h in early] == pytest.approx([0.35, 0.2])
    assert [h.tokens for h in late] == [[a, b], []]
    assert [math.exp(h.log_prob) for h in late] == pytest.approx([0.405, 0.35])
    assert all(h.finished for h in early + late)


# 4. Length penalty -----------------------------------------------------------------------


def test_length_penalty_changes_the_winner() -> None:
    eos, bos, a = 0, 3, 1
    probs = torch.zeros(4, 4)
    probs[bos] = torch.tensor([0.52, 0.48, 0.0, 0.0])
    probs[a] = torch.tensor([0.98, 0.01, 0.01, 0.0])
    probs[2] = torch.tensor([1.0, 0.0, 0.0, 0.0])
    table = probs.log()

    def step(tokens: Tensor, state: Any) -> tuple[Tensor, Any]:
        return table[tokens], state

    start = torch.tensor([bos])
    raw = beam_search(step, None, start, 2, 4, eos, length_penalty=0.0, num_return=2)[0]
    gnmt = beam_search(step, None, start, 2, 4, eos, length_penalty=1.0, num_return=2)[0]
    # alpha 0: [] (log .52 = -0.654) beats [a] (log .4704 = -0.754)
    assert [h.tokens for h in raw] == [[], [a]]
    assert raw[0].score == pytest.approx(math.log(0.52), abs=1e-6)
    # alpha 1: lp(1) = 1, lp(2) = 7/6: [a] scores -0.6465 > -0.654
    assert [h.tokens for h in gnmt] == [[a], []]
    assert gnmt[0].score == pytest.approx(math.log(0.48 * 0.98) / (7 / 6), abs=1e-6)
    assert gnmt[0].log_prob == pytest.approx(math.log(0.48 * 0.98), abs=1e-6)
    assert gnmt[1].score == pytest.approx(math.log(0.52), abs=1e-6)
    assert gnmt_penalty(2, 1.0) == pytest.approx(7 / 6)
    assert gnmt_penalty(3, 0.6) == pytest.approx((8 / 6) ** 0.6)
    assert gnmt_penalty(7, 0.0) == 1.0


# 5. min_length / max_length ----------------------------------------------------------------


@pytest.mark.parametrize("min_length", [0, 2, 4])
def test_min_and_max_length(min_length: int) -> None:
    model = ToyModel(vocab=6, sentences=3, seed=7, kind="named")
    model.source[:, 1] += 3.0  # eos is very likely: without min_length hypotheses are short
    max_length = 5
    results = run_beam(
        model, [0, 1, 2], [0, 2, 4], beam_size=4, max_length=max_length, eos_id=1,
        min_length=min_length, num_return=4,
    )  # fmt: skip
    lengths = []
    for hypotheses in results:
        assert len(hypotheses) == 4
        for h in hypotheses:
            assert 1 not in h.tokens
            assert len(h.tokens) + h.finished <= max_length
            assert h.finished or len(h.tokens) == max_length
            if h.finished:
                assert len(h.tokens) >= min_length
            lengths.append(len(h.tokens))
    if min_length == 0:
        assert min(lengths) < 2  # so the min_length cases are not vacuous
    else:
        assert min(lengths) >= min_length
    tokens, _ = greedy_search(
        model.step, model.initial([0, 1, 2]), torch.tensor([0, 2, 4]), max_length, 1, min_length
    )
    assert all(min_length <= len(t) <= max_length for t in tokens)


def test_unfinished_fill_when_max_length_cuts() -> None:
    model = ToyModel(vocab=5, sentences=2, seed=3, kind="tuple")
    model.source[:, 1] = -30.0  # eos never wins
    results = run_beam(model, [0, 1], [0, 0], beam_size=3, max_length=4, eos_id=1, num_return=3)
    for sentence, hypotheses in enumerate(results):
        assert [h.finished for h in hypotheses] == [False] * 3
        assert all(len(h.tokens) == 4 for h in hypotheses)
        scores = [h.score for h in hypotheses]
        assert scores == sorted(scores, reverse=True)
        for h in hypotheses:
            assert h.log_prob == pytest.approx(
                model.sequence_log_prob(sentence, 0, h.tokens), abs=1e-5
            )


# 6. reorder_state ------------------------------------------------------------------------


def test_reorder_state_nested_and_object() -> None:
    indices = torch.tensor([2, 0, 0])
    a = torch.arange(4)
    b = torch.arange(8).view(4, 2)
    state = {"x": (a, [b, None]), "pair": Pair(a * 10, b), "obj": RowState(a, a + 1), "n": None}
    out = reorder_state(state, indices)
    assert out["x"][0].tolist() == [2, 0, 0]
    assert out["x"][1][0].tolist() == [[4, 5], [0, 1], [0, 1]]
    assert out["x"][1][1] is None and out["n"] is None
    assert isinstance(out["x"], tuple) and isinstance(out["x"][1], list)
    assert isinstance(out["pair"], Pair) and out["pair"].source.tolist() == [20, 0, 0]
    assert isinstance(out["obj"], RowState) and out["obj"].previous.tolist() == [3, 1, 1]
    assert a.tolist() == [0, 1, 2, 3]  # the input is not modified

    class Cache:
        def __init__(self) -> None:
            self.seen: list[list[int]] = []

        def reorder(self, rows: Tensor) -> str:
            self.seen.append(rows.tolist())
            return "reordered"

    cache = Cache()
    reordered = reorder_state([cache, a], indices)
    assert reordered[0] == "reordered" and reordered[1].tolist() == [2, 0, 0]
    assert cache.seen == [[2, 0, 0]]
    with pytest.raises(TypeError):
        reorder_state({"step": 3}, indices)


def test_state_expanded_and_reordered_with_parents() -> None:
    """The search calls reorder_state with arange(B).repeat_interleave(K) first."""
    seen: list[list[int]] = []

    class Spy:
        def __init__(self, rows: int) -> None:
            self.rows = rows

        def reorder(self, indices: Tensor) -> Spy:
            seen.append(indices.tolist())
            assert int(indices.max()) < self.rows
            return Spy(indices.numel())

    table = torch.randn(5, 5)

    def step(tokens: Tensor, state: Spy) -> tuple[Tensor, Spy]:
        assert state.rows == tokens.numel()
        return table[tokens], state

    beam_search(step, Spy(2), torch.tensor([0, 1]), 3, 4, eos_id=4)
    assert seen[0] == [0, 0, 0, 1, 1, 1]
    assert len(seen) >= 2


# 7. log_prob recomputed ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dict", "object"])
def test_log_prob_matches_recomputation(kind: str) -> None:
    model = ToyModel(vocab=7, sentences=4, seed=13, kind=kind)
    starts = [0, 2, 3, 6]
    results = run_beam(
        model, [0, 1, 2, 3], starts, beam_size=5, max_length=6, eos_id=1,
        length_penalty=0.8, num_return=5, early_stopping=False,
    )  # fmt: skip
    for sentence, hypotheses in enumerate(results):
        scores = [h.score for h in hypotheses if h.finished]
        assert scores == sorted(scores, reverse=True)
        for h in hypotheses:
            ids = h.tokens + [1] * h.finished
            recomputed = model.sequence_log_prob(sentence, starts[sentence], ids)
            assert h.log_prob == pytest.approx(recomputed, abs=1e-5)
            assert h.score == pytest.approx(h.log_prob / gnmt_penalty(len(ids), 0.8), abs=1e-6)


def test_logits_or_log_probs() -> None:
    model = ToyModel(vocab=6, sentences=2, seed=4, kind="tuple")

    def log_prob_step(tokens: Tensor, state: Any) -> tuple[Tensor, Any]:
        logits, state = model.step(tokens, state)
        return logits.log_softmax(-1).double(), state

    options = dict(beam_size=3, max_length=5, eos_id=1, num_return=3)
    from_logits = beam_search(model.step, model.initial([0, 1]), torch.tensor([0, 2]), **options)
    from_log_probs = beam_search(
        log_prob_step, model.initial([0, 1]), torch.tensor([0, 2]), **options
    )
    for a, b in zip(from_logits, from_log_probs, strict=True):
        assert_same(a, b, atol=1e-5)


def test_argument_checks() -> None:
    table = torch.randn(4, 4)

    def step(tokens: Tensor, state: Any) -> tuple[Tensor, Any]:
        return table[tokens], state

    with pytest.raises(ValueError):
        beam_search(step, None, torch.tensor([0]), 2, 3, 1, num_return=3)
    with pytest.raises(ValueError):
        beam_search(step, None, torch.tensor([0]), 0, 3, 1)


# 8. Per-sentence max_length (fairseq max_len_a * src_len + max_len_b) ---------------------


def rows_when_alone(steps_alone: list[int], rows_per_sentence: int) -> list[int]:
    """Rows a batch decodes at each step if every sentence runs exactly as alone."""
    return [
        rows_per_sentence * sum(steps > t for steps in steps_alone) for t in range(max(steps_alone))
    ]


@pytest.mark.parametrize("early", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.8, -0.5])
def test_per_sentence_limits_equal_one_by_one(early: bool, alpha: float) -> None:
    model = ToyModel(vocab=7, sentences=7, seed=15, kind="dict")
    model.source[:, 1] += torch.tensor([3.0, -2.0, 1.0, -1.0, 2.0, -4.0, 0.5])
    starts = [0, 2, 3, 5, 6, 4, 2]
    limits = [8, 3, 5, 1, 6, 2, 4]  # uneven, cutting some sentences mid-search
    options = dict(
        beam_size=4, eos_id=1, length_penalty=alpha, num_return=3, min_length=1,
        early_stopping=early,
    )  # fmt: skip
    model.rows_per_call.clear()
    batched = run_beam(model, list(range(7)), starts, max_length=torch.tensor(limits), **options)
    calls = list(model.rows_per_call)
    steps_alone, cut_fillers, mixed = [], 0, False
    for sentence, limit in enumerate(limits):
        model.rows_per_call.clear()
        alone = run_beam(model, [sentence], [starts[sentence]], max_length=limit, **options)
        steps_alone.append(len(model.rows_per_call))
        assert_same(batched[sentence], alone[0], atol=0.0)  # exactly
        want, stop = reference_beam(
            model, sentence, starts[sentence], 4, limit, 1, alpha, 1, 3, early
        )
        assert_same(batched[sentence], want, atol=1e-5)
        assert steps_alone[-1] == stop
        assert len(batched[sentence]) == 3
        for h in batched[sentence]:
            assert len(h.tokens) + h.finished <= limit
            assert h.finished or len(h.tokens) == limit
        unfinished = sum(not h.finished for h in batched[sentence])
        if limit < max(limits):  # alive beams captured when the sentence hit its limit
            cut_fillers += unfinished
            mixed |= 0 < unfinished < 3
    assert cut_fillers >= 6 and mixed  # unfinished fillers (some next to finished ones)
    assert any(steps < limit for steps, limit in zip(steps_alone, limits, strict=True))
    # each sentence leaves the batch at the very step it stops alone
    assert calls == rows_when_alone(steps_alone, 4)


@pytest.mark.parametrize("seed", [6, 12])
@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_early_stopping_false_bound_uses_each_sentence_limit(seed: int, alpha: float) -> None:
    """With alpha > 0 the bound s / lp(L) depends on L: a short-limit sentence stops
    by its own limit's bound, earlier than under the batch's largest limit."""
    model = ToyModel(vocab=6, sentences=5, seed=seed, kind="tuple")
    model.source[:, 1] += torch.tensor([0.0, 2.0, 1.5, 2.5, 1.0])  # eos-prone: K finish early
    starts, limits = [0, 2, 3, 4, 5], [12, 4, 5, 3, 6]
    options = dict(beam_size=3, eos_id=1, length_penalty=alpha, num_return=3)
    model.rows_per_call.clear()
    batched = run_beam(
        model, list(range(5)), starts, max_length=torch.tensor(limits), early_stopping=False,
        **options,
    )  # fmt: skip
    calls = list(model.rows_per_call)
    steps_alone, earlier = [], False
    for sentence, limit in enumerate(limits):
        model.rows_per_call.clear()
        alone = run_beam(
            model, [sentence], [starts[sentence]], max_length=limit, early_stopping=False,
            **options,
        )  # fmt: skip
        steps_alone.append(len(model.rows_per_call))
        assert_same(batched[sentence], alone[0], atol=0.0)
        _, stop = reference_beam(model, sentence, starts[sentence], 3, limit, 1, alpha, 0, 3, False)
        assert steps_alone[-1] == stop
        model.rows_per_call.clear()
        run_beam(
            model, [sentence], [starts[sentence]], max_length=max(limits),
            early_stopping=False, **options,
        )  # fmt: skip
        earlier |= steps_alone[-1] < min(limit, len(model.rows_per_call))
    assert earlier
    assert calls == rows_when_alone(steps_alone, 3)


@pytest.mark.parametrize("min_length", [0, 2])
def test_greedy_per_row_limits_equal_one_by_one(min_length: int) -> None:
    model = ToyModel(vocab=6, sentences=6, seed=3, kind="object")
    model.source[:, 1] += torch.tensor([2.0, -5.0, 0.0, -5.0, 1.0, -1.0])
    starts, limits = [0, 2, 3, 4, 5, 1], [7, 2, 6, 1, 4, 5]
    model.rows_per_call.clear()
    tokens, log_probs = greedy_search(
        model.step, model.initial(list(range(6))), torch.tensor(starts),
        torch.tensor(limits), 1, min_length,
    )  # fmt: skip
    calls = list(model.rows_per_call)
    steps_alone, cut, ended = [], 0, 0
    for row, limit in enumerate(limits):
        model.rows_per_call.clear()
        alone, alone_log_prob = greedy_search(
            model.step, model.initial([row]), torch.tensor([starts[row]]), limit, 1, min_length
        )
        steps_alone.append(len(model.rows_per_call))
        assert tokens[row] == alone[0]
        assert log_probs[row].item() == alone_log_prob[0].item()
        assert len(tokens[row]) <= limit
        if len(tokens[row]) == limit:
            cut += limit < max(limits)
        else:
            ended += 1
    assert cut >= 2 and ended >= 2  # rows stop at their own limit and at eos
    assert calls == rows_when_alone(steps_alone, 1)
    # beam_size = 1 with the same limits is greedy
    beams = run_beam(
        model, list(range(6)), starts, beam_size=1, max_length=torch.tensor(limits), eos_id=1,
        min_length=min_length,
    )  # fmt: skip
    for row, (best,) in enumerate(beams):
        assert best.tokens == tokens[row] and best.log_prob == log_probs[row].item()
        assert best.finished == (len(tokens[row]) < limits[row])


@pytest.mark.parametrize("dtype", [torch.long, torch.int32])
def test_int_and_uniform_tensor_limits_are_identical(dtype: torch.dtype) -> None:
    model = ToyModel(vocab=6, sentences=4, seed=8, kind="tuple")
    model.source[:, 1] += torch.tensor([2.0, -3.0, 0.5, -1.0])
    sentences, starts = [0, 1, 2, 3], [0, 3, 4, 5]
    uniform = torch.full((4,), 5, dtype=dtype)
    for early in (True, False):
        options = dict(
            beam_size=3, eos_id=1, length_penalty=0.7, num_return=3, early_stopping=early
        )
        runs = []
        for max_length in (5, uniform):
            model.rows_per_call.clear()
            runs.append((run_beam(model, sentences, starts, max_length=max_length, **options),
                         list(model.rows_per_call)))  # fmt: skip
        (from_int, int_calls), (from_tensor, tensor_calls) = runs
        assert int_calls == tensor_calls
        assert any(not h.finished for hypotheses in from_int for h in hypotheses)
        for a, b in zip(from_int, from_tensor, strict=True):
            assert_same(a, b, atol=0.0)
    greedy = [
        greedy_search(model.step, model.initial(sentences), torch.tensor(starts), limit, 1)
        for limit in (5, uniform)
    ]
    assert greedy[0][0] == greedy[1][0] and torch.equal(greedy[0][1], greedy[1][1])


@pytest.mark.parametrize(
    ("max_length", "message"),
    [
        (torch.tensor([3, 3, 3]), "shape"),
        (torch.tensor([[3], [3]]), "shape"),
        (torch.tensor(3), "shape"),
        (torch.tensor([3.0, 3.0]), "integer"),
        (torch.tensor([True, True]), "integer"),
        (torch.tensor([3, 0]), ">= 1"),
        (torch.tensor([-1, 4]), ">= 1"),
        (0, ">= 1"),
    ],
)
def test_bad_limits_raise(max_length: Any, message: str) -> None:
    table = torch.randn(4, 4)

    def step(tokens: Tensor, state: Any) -> tuple[Tensor, Any]:
        return table[tokens], state

    start = torch.tensor([0, 2])
    with pytest.raises(ValueError, match=message):
        beam_search(step, None, start, 2, max_length, 1)
    with pytest.raises(ValueError, match=message):
        greedy_search(step, None, start, max_length, 1)
