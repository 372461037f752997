"""The CRF against brute force over all K^n tag sequences, for any mask (holes, masked start)."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import Tensor, nn

from seqlab.nn.crf import CRF, bio_constraints

NUM_TAGS = 3


def make_crf(num_tags: int = NUM_TAGS, seed: int = 0, **constraints: Tensor) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(num_tags, **constraints).double()
    with torch.no_grad():  # larger than the init so the transitions clearly matter
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


def hand_score(crf: CRF, emissions: Tensor, tags: tuple[int, ...]) -> Tensor:
    """score(x, y) = start[y_1] + Σ_t emission[t, y_t] + Σ_t trans[y_{t-1}, y_t] + end[y_n]."""
    transitions = crf.transitions + crf.transition_penalty
    total = crf.start[tags[0]] + crf.start_penalty[tags[0]] + emissions[0, tags[0]]
    for t in range(1, len(tags)):
        total = total + transitions[tags[t - 1], tags[t]] + emissions[t, tags[t]]
    return total + crf.end[tags[-1]] + crf.end_penalty[tags[-1]]


def all_scores(crf: CRF, emissions: Tensor) -> tuple[list[tuple[int, ...]], Tensor]:
    """Every tag sequence of the (n, K) emissions and its score."""
    sequences = list(itertools.product(range(crf.num_tags), repeat=emissions.shape[0]))
    return sequences, torch.stack([hand_score(crf, emissions, y) for y in sequences])


def padded_batch(lengths: list[int], seed: int = 1) -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(seed)
    emissions = torch.randn(len(lengths), max(lengths), NUM_TAGS, generator=generator)
    mask = torch.arange(max(lengths)) < torch.tensor(lengths)[:, None]
    return emissions.double(), mask


LENGTHS = [4, 1, 3, 2]


def test_log_partition_and_score_equal_brute_force() -> None:
    crf = make_crf()
    emissions, mask = padded_batch(LENGTHS)
    tags = torch.randint(0, NUM_TAGS, mask.shape).masked_fill(~mask, -1)
    log_z, score = crf.log_partition(emissions, mask), crf.score(emissions, tags, mask)
    for row, n in enumerate(LENGTHS):
        _, scores = all_scores(crf, emissions[row, :n])
        assert torch.allclose(log_z[row], torch.logsumexp(scores, 0))
        gold = tuple(tags[row, :n].tolist())
        assert torch.allclose(score[row], hand_score(crf, emissions[row, :n], gold))


def test_decode_equals_brute_force_argmax() -> None:
    crf = make_crf()
    emissions, mask = padded_batch(LENGTHS, seed=2)
    tags, best = crf.decode(emissions, mask)
    for row, n in enumerate(LENGTHS):
        sequences, scores = all_scores(crf, emissions[row, :n])
        assert tags[row, :n].tolist() == list(sequences[int(scores.argmax())])
        assert (tags[row, n:] == -1).all()
        assert torch.allclose(best[row], scores.max())


def test_marginals_equal_brute_force_and_sum_to_one() -> None:
    crf = make_crf()
    emissions, mask = padded_batch(LENGTHS, seed=3)
    marginals = crf.marginals(emissions, mask)
    for row, n in enumerate(LENGTHS):
        sequences, scores = all_scores(crf, emissions[row, :n])
        probabilities = torch.softmax(scores, 0)
        expected = torch.zeros(n, NUM_TAGS, dtype=torch.float64)
        for sequence, probability in zip(sequences, probabilities, strict=True):
            expected[range(n), list(sequence)] += probability
        assert torch.allclose(marginals[row, :n], expected)
        assert (marginals[row, n:] == 0).all()
    assert torch.allclose(marginals.sum(-1), mask.double())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_masked_batch_equals_each_row_alone(dtype: torch.dtype) -> None:
    crf = make_crf()
    generator = torch.Generator().manual_seed(4)
    emissions = torch.randn(5, 6, NUM_TAGS, generator=generator, dtype=torch.float64).to(dtype)
    mask = torch.rand(5, 6, generator=generator) < 0.6  # arbitrary holes, masked first steps
    mask[0] = True
    tags = torch.randint(0, NUM_TAGS, mask.shape, generator=generator)
    log_z = crf.log_partition(emissions, mask)
    nll = crf(emissions, tags, mask, reduction="none")
    decoded, best = crf.decode(emissions, mask)
    assert log_z.dtype == dtype
    tolerance = 1e-5 if dtype == torch.float32 else 1e-10
    for row in range(5):
        alone = (emissions[row : row + 1], mask[row : row + 1])
        assert torch.allclose(log_z[row], crf.log_partition(*alone)[0], atol=tolerance)
        row_nll = crf(alone[0], tags[row : row + 1], alone[1], reduction="none")[0]
        assert torch.allclose(nll[row], row_nll, atol=tolerance)
        alone_tags, alone_best = crf.decode(*alone)
        assert torch.equal(decoded[row], alone_tags[0])
        assert torch.allclose(best[row], alone_best[0], atol=tolerance)


def test_holes_and_masked_first_step_equal_the_row_without_them() -> None:
    crf = make_crf()
    generator = torch.Generator().manual_seed(5)
    mask = torch.tensor([[False, True, False, True, True, False, True]])
    emissions = torch.randn(1, 7, NUM_TAGS, generator=generator, dtype=torch.float64)
    emissions[~mask] = float("nan")  # masked steps must not exist for the CRF
    tags = torch.tensor([[-1, 2, 99, 0, 1, -1, 2]])  # pad ids at masked steps are ignored
    removed, removed_tags = emissions[mask][None], tags[mask][None]
    full = torch.ones(1, 4, dtype=torch.bool)
    assert torch.allclose(crf.log_partition(emissions, mask), crf.log_partition(removed, full))
    assert torch.allclose(crf(emissions, tags, mask), crf(removed, removed_tags, full))
    decoded, best = crf.decode(emissions, mask)
    removed_decoded, removed_best = crf.decode(removed, full)
    assert torch.equal(decoded[~mask], torch.full((3,), -1))
    assert torch.equal(decoded[mask], removed_decoded[0]) and torch.allclose(best, removed_best)
    marginals = crf.marginals(emissions, mask)
    assert torch.allclose(marginals[mask], crf.marginals(removed, full)[0])
    assert (marginals[~mask] == 0).all()
    emissions.requires_grad_(True)
    crf(emissions, tags, mask).backward()
    assert torch.isfinite(emissions.grad).all() and (emissions.grad[~mask] == 0).all()


def test_gradcheck_of_nll_with_respect_to_emissions() -> None:
    crf = make_crf()
    mask = torch.tensor([[True, True, True, True], [False, True, False, True]])
    emissions = torch.randn(2, 4, NUM_TAGS, dtype=torch.float64, requires_grad=True)
    tags = torch.tensor([[0, 2, 1, 1], [-1, 1, -1, 0]])
    assert torch.autograd.gradcheck(lambda e: crf(e, tags, mask, reduction="sum"), (emissions,))


def test_gradient_of_log_partition_equals_marginals() -> None:
    crf = make_crf()
    emissions, mask = padded_batch(LENGTHS, seed=6)
    mask[2, 0] = False  # a hole at the start too
    emissions.requires_grad_(True)
    (gradient,) = torch.autograd.grad(crf.log_partition(emissions, mask).sum(), emissions)
    assert torch.allclose(gradient, crf.marginals(emissions, mask))


def valid_bio(labels: list[str], tags: list[int], bioes: bool) -> bool:
    """Written out independently of the module: is the label sequence well formed?"""
    previous = "O"  # sentinels: no entity is open before the start, and none may be at the end
    for label in [*(labels[tag] for tag in tags), "O"]:
        open_entity = previous[:2] in ("B-", "I-")
        continues = label[:2] in ("I-", "E-") and open_entity and previous[2:] == label[2:]
        if label[:2] in ("I-", "E-") and not continues:
            return False
        if bioes and open_entity and not continues:
            return False
        previous = label
    return True


@pytest.mark.parametrize(
    ("labels", "bioes"),
    [
        (["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], False),
        (["O", "B-PER", "I-PER", "E-PER", "S-PER"], True),
    ],
)
def test_constrained_decode_is_the_best_well_formed_sequence(
    labels: list[str], bioes: bool
) -> None:
    allowed, allowed_start, allowed_end = bio_constraints(labels)
    crf = make_crf(
        len(labels), allowed=allowed, allowed_start=allowed_start, allowed_end=allowed_end
    )
    generator = torch.Generator().manual_seed(7)
    emissions = torch.randn(6, 5, len(labels), generator=generator, dtype=torch.float64)
    emissions[:, :, [labels.index(label) for label in labels if label[:2] in ("I-", "E-")]] += 20
    emissions[:3, :, 0] += 15  # O -> I-X strongly preferred by the emissions alone
    mask = torch.rand(6, 5, generator=generator) < 0.8
    mask[:, 0] = False  # the constraint holds between valid steps across the gap
    decoded, _ = crf.decode(emissions, mask)
    unconstrained = make_crf(len(labels)).decode(emissions, mask)[0]
    assert any(not valid_bio(labels, row[row >= 0].tolist(), bioes) for row in unconstrained), (
        "the emissions should tempt an unconstrained CRF into ill-formed sequences"
    )
    for row in range(6):
        path = decoded[row][mask[row]].tolist()
        assert valid_bio(labels, path, bioes)
        sequences, scores = all_scores(crf, emissions[row][mask[row]])
        well_formed = [i for i, y in enumerate(sequences) if valid_bio(labels, list(y), bioes)]
        best = max(well_formed, key=lambda i: float(scores[i].detach()))
        assert path == list(sequences[best])


def test_bio_constraints_tables() -> None:
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    allowed, allowed_start, allowed_end = bio_constraints(labels)
    assert not allowed[0, 2] and not allowed[3, 2] and not allowed[4, 2]
    assert allowed[1, 2] and allowed[2, 2] and allowed[2, 0] and allowed[1, 3] and allowed[0, 1]
    assert allowed_start.tolist() == [True, True, False, True, False] and allowed_end.all()
    labels = ["O", "B-PER", "I-PER", "E-PER", "S-PER"]
    allowed, allowed_start, allowed_end = bio_constraints(labels)
    assert allowed[1].tolist() == [False, False, True, True, False]  # B-PER -> I-PER / E-PER
    assert allowed[:, 3].tolist() == [False, True, True, False, False]  # E-PER after B/I-PER
    for row in (0, 3, 4):  # after O, E-PER or S-PER no entity is open
        assert allowed[row].tolist() == [True, True, False, False, True]
    assert allowed_start.tolist() == [True, True, False, False, True]
    assert allowed_end.tolist() == [True, False, False, True, True]
    for table in bio_constraints(["NOUN", "VERB", "ADJ"]):
        assert table.all()


def test_all_masked_row_and_reductions() -> None:
    crf = make_crf()
    emissions, mask = padded_batch(LENGTHS, seed=8)
    mask[1] = False
    tags = torch.randint(0, NUM_TAGS, mask.shape)
    nll = crf(emissions, tags, mask, reduction="none")
    assert nll[1] == 0 and crf.log_partition(emissions, mask)[1] == 0
    assert crf.score(emissions, tags, mask)[1] == 0
    decoded, best = crf.decode(emissions, mask)
    assert (decoded[1] == -1).all() and best[1] == 0
    assert (crf.marginals(emissions, mask)[1] == 0).all()
    assert torch.allclose(crf(emissions, tags, mask, reduction="sum"), nll.sum())
    assert torch.allclose(crf(emissions, tags, mask), nll.sum() / 3)  # 3 rows have a step
    assert (nll[[0, 2, 3]] > 0).all()
    nothing = torch.zeros(2, 3, dtype=torch.bool)
    assert crf(emissions[:2, :3], tags[:2, :3], nothing) == 0
    empty = crf.decode(emissions[:, :0], mask[:, :0])
    assert empty[0].shape == (4, 0) and (empty[1] == 0).all()
    assert crf.marginals(emissions[:, :0], mask[:, :0]).shape == (4, 0, NUM_TAGS)


def test_wrong_shapes_raise_value_error() -> None:
    crf = make_crf()
    emissions, mask = padded_batch(LENGTHS)
    tags = torch.zeros(mask.shape, dtype=torch.long)
    with pytest.raises(ValueError, match="emissions"):
        crf.log_partition(torch.randn(4, 4, NUM_TAGS + 1), mask)
    with pytest.raises(ValueError, match="emissions"):
        crf.decode(emissions[0], mask[0])
    with pytest.raises(ValueError, match="mask"):
        crf.log_partition(emissions, mask[:, :3])
    with pytest.raises(ValueError, match="bool"):
        crf.marginals(emissions, mask.long())
    with pytest.raises(ValueError, match="tags"):
        crf(emissions, tags[:, :2], mask)
    with pytest.raises(ValueError, match="reduction"):
        crf(emissions, tags, mask, reduction="avg")
    with pytest.raises(ValueError, match="allowed"):
        CRF(NUM_TAGS, allowed=torch.ones(NUM_TAGS, NUM_TAGS + 1, dtype=torch.bool))


def test_training_learns_transitions_a_softmax_cannot() -> None:
    """Tags cycle 0 -> 1 -> 2 -> 0 from a random start and half the tokens are hidden (token 3):
    only the transitions can tag a hidden token, so Viterbi must beat the per-step argmax of the
    same emissions (about 2/3: right on visible tokens, a guess on hidden ones)."""

    def sample(batch: int, seed: int) -> tuple[Tensor, Tensor]:
        generator = torch.Generator().manual_seed(seed)
        start = torch.randint(0, 3, (batch, 1), generator=generator)
        tags = (start + torch.arange(8)) % 3
        tokens = tags.masked_fill(torch.rand(batch, 8, generator=generator) < 0.5, 3)
        return nn.functional.one_hot(tokens, 4).float(), tags

    torch.manual_seed(0)
    layer, crf = nn.Linear(4, 3), CRF(3)
    optimizer = torch.optim.Adam([*layer.parameters(), *crf.parameters()], lr=0.1)
    inputs, tags = sample(16, seed=9)
    mask = torch.ones(tags.shape, dtype=torch.bool)
    for _ in range(100):
        optimizer.zero_grad()
        crf(layer(inputs), tags, mask).backward()
        optimizer.step()
    inputs, tags = sample(256, seed=10)
    mask = torch.ones(tags.shape, dtype=torch.bool)
    with torch.no_grad():
        emissions = layer(inputs)
        viterbi = (crf.decode(emissions, mask)[0] == tags).float().mean()
        softmax = (emissions.argmax(-1) == tags).float().mean()
    assert viterbi > 0.98 and viterbi > softmax + 0.2
