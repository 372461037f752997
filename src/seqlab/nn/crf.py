"""Linear-chain conditional random field (Lafferty et al. 2001), the tagging head of a BiLSTM-CRF
(Lample et al. 2016, "Neural Architectures for Named Entity Recognition").

Legend: B batch, T steps, K tags; n the number of valid steps of a row.

For the per-step tag scores of an encoder (emissions) and tags y_1..y_n::

    score(x, y) = start[y_1] + Σ_t emission[t, y_t] + Σ_t trans[y_{t-1}, y_t] + end[y_n]
    P(y | x) = exp score(x, y) / Z(x)

log Z by the forward algorithm in log space::

    α_1(k) = start[k] + emission[1, k]
    α_t(k) = emission[t, k] + logsumexp_j (α_{t-1}(j) + trans[j, k])
    log Z  = logsumexp_k (α_n(k) + end[k])

Viterbi is the same recursion in max-product (max instead of logsumexp) with backpointers
argmax_j; posterior marginals come from forward-backward::

    β_n(k) = end[k];   β_t(j) = logsumexp_k (trans[j, k] + emission[t+1, k] + β_{t+1}(k))
    P(y_t = k | x) = exp(α_t(k) + β_t(k) - log Z)

Masks are boolean (B, T), True = a valid step, and may be ANY pattern: the sequence a row
scores is its valid steps in order and masked steps do not exist for the CRF (a transition goes
from one valid step to the next valid one). So a tagger that predicts on the first sub-token of
each word (holes) or skips a [CLS] token (masked first step) works. Each row is left-compacted
(a stable argsort of ~mask), the standard algorithms run on a prefix mask, and per-step results
are scattered back. A row with no valid step has log Z = score = NLL = 0 and decodes to -1s.

Constraints (AllenNLP's constrained CRF): forbidden transitions, starts and ends get -10000
added — not -inf, so gradients stay finite. The penalty enters every algorithm, so the CRF is a
distribution over allowed sequences (a gold sequence that breaks them costs ~10000 NLL).
:func:`bio_constraints` builds them for BIO / BIOES labels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

FORBIDDEN = -10000.0
REDUCTIONS = ("none", "sum", "mean")


def _penalty(allowed: Tensor | None, shape: tuple[int, ...], name: str) -> Tensor:
    if allowed is None:
        return torch.zeros(shape)
    if tuple(allowed.shape) != shape:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(allowed.shape)}")
    return (~allowed.bool()).float() * FORBIDDEN


class CRF(nn.Module):
    """Linear-chain CRF over K tags; ``transitions[i, j]`` scores tag i followed by tag j."""

    def __init__(
        self,
        num_tags: int,
        allowed: Tensor | None = None,
        allowed_start: Tensor | None = None,
        allowed_end: Tensor | None = None,
    ) -> None:
        super().__init__()
        if num_tags < 1:
            raise ValueError(f"num_tags must be >= 1, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        self.start = nn.Parameter(torch.empty(num_tags))
        self.end = nn.Parameter(torch.empty(num_tags))
        self.register_buffer("transition_penalty", _penalty(allowed, (num_tags,) * 2, "allowed"))
        self.register_buffer("start_penalty", _penalty(allowed_start, (num_tags,), "allowed_start"))
        self.register_buffer("end_penalty", _penalty(allowed_end, (num_tags,), "allowed_end"))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for parameter in (self.transitions, self.start, self.end):
            nn.init.uniform_(parameter, -0.1, 0.1)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}"

    def forward(
        self, emissions: Tensor, tags: Tensor, mask: Tensor, reduction: str = "mean"
    ) -> Tensor:
        """Negative log-likelihood log Z - score(gold): (B,) for "none", else summed, or
        averaged over the rows that have at least one valid step ("mean")."""
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        nll = -self.log_likelihood(emissions, tags, mask)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        return nll.sum() / mask.any(1).sum().clamp(min=1)

    def log_likelihood(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """(B,) log P(tags | emissions) = score(tags) - log Z."""
        return self.score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def log_partition(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """(B,) log Z by the forward algorithm."""
        emissions, prefix, lengths, _ = self._compact(emissions, mask)
        transitions, start, end = self._potentials(emissions.dtype)
        alphas = self._alphas(emissions, prefix, transitions, start)
        log_z = torch.logsumexp(alphas[:, -1] + end, dim=1)
        return torch.where(lengths > 0, log_z, torch.zeros_like(log_z))

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """(B,) unnormalised score(x, y) of ``tags``; tags at masked steps are ignored."""
        self._check(emissions, mask, tags)
        # Masked steps may hold -1 or pad ids: replace them so gather/indexing cannot fail.
        tags = tags.long().masked_fill(~mask, 0)
        emissions, prefix, lengths, order = self._compact(emissions, mask)
        tags = tags.gather(1, order).masked_fill(~prefix, 0)
        transitions, start, end = self._potentials(emissions.dtype)
        on_tags = emissions.gather(2, tags[..., None]).squeeze(-1).masked_fill(~prefix, 0.0)
        between = transitions[tags[:, :-1], tags[:, 1:]].masked_fill(~prefix[:, 1:], 0.0)
        last = tags.gather(1, (lengths - 1).clamp(min=0)[:, None]).squeeze(1)
        total = start[tags[:, 0]] + on_tags.sum(1) + between.sum(1) + end[last]
        return torch.where(lengths > 0, total, torch.zeros_like(total))

    def decode(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Viterbi: (B, T) best tags (-1 at masked steps) and (B,) their scores."""
        steps = emissions.shape[1] if emissions.dim() == 3 else 0
        emissions, prefix, lengths, order = self._compact(emissions, mask)
        transitions, start, end = self._potentials(emissions.dtype)
        batch, length, num_tags = emissions.shape
        # Past a row's end the backpointer is the identity, so backtracking carries its last tag.
        identity = torch.arange(num_tags, device=emissions.device).expand(batch, num_tags)
        best = start + emissions[:, 0]
        backpointers = []
        for t in range(1, length):
            previous_best, previous_tag = (best[:, :, None] + transitions).max(dim=1)
            valid = prefix[:, t, None]
            best = torch.where(valid, previous_best + emissions[:, t], best)
            backpointers.append(torch.where(valid, previous_tag, identity))
        best_score, tag = (best + end).max(dim=1)
        path = [tag]
        for pointers in reversed(backpointers):
            tag = pointers.gather(1, tag[:, None]).squeeze(1)
            path.append(tag)
        compact_tags = torch.stack(path[::-1], dim=1).masked_fill(~prefix, -1)
        tags = torch.full_like(compact_tags, -1).scatter(1, order, compact_tags)
        best_score = torch.where(lengths > 0, best_score, torch.zeros_like(best_score))
        return tags[:, :steps], best_score

    def marginals(self, emissions: Tensor, mask: Tensor) -> Tensor:
        """(B, T, K) posterior P(y_t = k | x) by forward-backward; 0 at masked steps."""
        steps = emissions.shape[1] if emissions.dim() == 3 else 0
        emissions, prefix, _, order = self._compact(emissions, mask)
        transitions, start, end = self._potentials(emissions.dtype)
        alphas = self._alphas(emissions, prefix, transitions, start)
        beta = end.expand(emissions.shape[0], -1)
        betas = [beta]
        for t in range(emissions.shape[1] - 1, 0, -1):
            following = torch.logsumexp(transitions + (emissions[:, t] + beta)[:, None], dim=2)
            beta = torch.where(prefix[:, t, None], following, beta)
            betas.append(beta)
        log_z = torch.logsumexp(alphas[:, -1] + end, dim=1)
        log_marginals = alphas + torch.stack(betas[::-1], dim=1) - log_z[:, None, None]
        compact = log_marginals.exp().masked_fill(~prefix[..., None], 0.0)
        scattered = torch.zeros_like(compact).scatter(
            1, order[..., None].expand_as(compact), compact
        )
        return scattered[:, :steps]

    def _potentials(self, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
        """Transitions, start and end scores with the constraint penalties, in ``dtype``."""
        return (
            (self.transitions + self.transition_penalty).to(dtype),
            (self.start + self.start_penalty).to(dtype),
            (self.end + self.end_penalty).to(dtype),
        )

    @staticmethod
    def _alphas(emissions: Tensor, prefix: Tensor, transitions: Tensor, start: Tensor) -> Tensor:
        """(B, T, K) forward log-scores α_t; past a row's end α stays at its last valid step."""
        alpha = start + emissions[:, 0]
        alphas = [alpha]
        for t in range(1, emissions.shape[1]):
            following = torch.logsumexp(alpha[:, :, None] + transitions, dim=1) + emissions[:, t]
            alpha = torch.where(prefix[:, t, None], following, alpha)
            alphas.append(alpha)
        return torch.stack(alphas, dim=1)

    def _check(self, emissions: Tensor, mask: Tensor, tags: Tensor | None = None) -> None:
        if emissions.dim() != 3 or emissions.shape[-1] != self.num_tags:
            raise ValueError(
                f"emissions must be (B, T, K={self.num_tags}), got {tuple(emissions.shape)}"
            )
        if not emissions.is_floating_point():
            raise ValueError(f"emissions must be floating point, got {emissions.dtype}")
        if mask.dtype != torch.bool:
            raise ValueError(f"mask must be a bool tensor, got {mask.dtype}")
        if mask.shape != emissions.shape[:2]:
            raise ValueError(
                f"mask must be (B, T) = {tuple(emissions.shape[:2])}, got {tuple(mask.shape)}"
            )
        if tags is not None and (tags.shape != mask.shape or tags.is_floating_point()):
            raise ValueError(
                f"tags must be integer (B, T) = {tuple(mask.shape)}, "
                f"got {tags.dtype} {tuple(tags.shape)}"
            )

    def _compact(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Move each row's valid steps to the front, in order.

        Returns compact emissions (B, T', K), prefix mask (B, T'), lengths (B,) and ``order``
        (B, T'): the original position of each compact step (T' = max(T, 1)).
        """
        self._check(emissions, mask)
        if emissions.shape[1] == 0:  # one masked step keeps the recursions' first step defined
            emissions = emissions.new_zeros(emissions.shape[0], 1, self.num_tags)
            mask = torch.zeros(emissions.shape[:2], dtype=torch.bool, device=emissions.device)
        # Stable, so valid steps keep their order; masked steps go after them.
        order = torch.argsort((~mask).to(torch.uint8), dim=1, stable=True)
        lengths = mask.sum(1)
        steps = torch.arange(mask.shape[1], device=mask.device)
        prefix = steps < lengths[:, None]
        compact = emissions.gather(1, order[..., None].expand_as(emissions))
        # Masked steps may hold anything (inf, nan): zero them so they cannot poison gradients.
        return compact.masked_fill(~prefix[..., None], 0.0), prefix, lengths, order


def _split(label: str) -> tuple[str | None, str]:
    """("B", "PER") for "B-PER"; (None, label) for "O" and any label without a BIOES prefix."""
    if len(label) > 2 and label[1] == "-" and label[0] in "BIES":
        return label[0], label[2:]
    return None, label


def bio_constraints(labels: list[str]) -> tuple[Tensor, Tensor, Tensor]:
    """allowed (K, K), allowed_start (K,), allowed_end (K,) for BIO or BIOES labels like "O",
    "B-PER", "I-PER", "E-PER", "S-PER" (IOB2): I-X / E-X only after B-X or I-X; for BIOES also
    B-X/I-X must be followed by I-X/E-X and cannot end a sequence; any other label (e.g. POS
    tags) is unconstrained."""
    parts = [_split(label) for label in labels]
    bioes = any(prefix in ("E", "S") for prefix, _ in parts)
    continues = ("I", "E")  # prefixes that continue an open entity
    opens = ("B", "I")  # prefixes after which an entity is still open
    size = len(labels)
    allowed = torch.ones(size, size, dtype=torch.bool)
    for i, (prefix_from, type_from) in enumerate(parts):
        for j, (prefix_to, type_to) in enumerate(parts):
            same_entity = prefix_from in opens and prefix_to in continues and type_from == type_to
            if prefix_to in continues and not same_entity:
                allowed[i, j] = False
            if bioes and prefix_from in opens and not same_entity:
                allowed[i, j] = False
    allowed_start = torch.tensor([prefix not in continues for prefix, _ in parts], dtype=torch.bool)
    allowed_end = torch.tensor(
        [not (bioes and prefix in opens) for prefix, _ in parts], dtype=torch.bool
    )
    return allowed, allowed_start, allowed_end
