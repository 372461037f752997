"""Every top-level command, run for real on tiny data; bad input -> one line, exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqlab.cli.main import app
from seqlab.train.checkpoint import load_checkpoint, save_checkpoint

runner = CliRunner()
POS = [
    "a wonderful moving film",
    "great acting and a great story",
    "brilliant , funny and warm",
    "a delight from start to finish",
    "wonderful music , great cast",
]
NEG = [
    "a dull boring mess",
    "terrible acting and a weak story",
    "boring , slow and flat",
    "a waste of time from start to finish",
    "awful music , dull cast",
]


def _invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    rows = [
        f"{label},{text.replace(',', ' ')}"
        for _ in range(4)
        for label, texts in (("pos", POS), ("neg", NEG))
        for text in texts
    ]
    (root / "reviews.csv").write_text("label,text\n" + "\n".join(rows) + "\n")
    (root / "clf.toml").write_text(
        'task = "text-classification"\nname = "tiny-clf"\n[data]\ndataset = "file"\n'
        f'path = "{root / "reviews.csv"}"\nbatch_size = 8\n'
        '[model]\nembedding_dim = 16\npooling = "max"\n'
        '[model.encoder]\ntype = "gru"\nhidden_size = 16\n'
        '[train]\nlr = 0.02\nepochs = 8\nprogress = false\nmonitor = "accuracy"\n'
    )
    corpus = "\n".join(["the cat sat on the mat", "the dog sat on the log"] * 60)
    (root / "corpus.txt").write_text(corpus + "\n")
    (root / "lm.toml").write_text(
        'task = "text-generation"\nname = "tiny-lm"\n[data]\ndataset = "file"\n'
        f'path = "{root / "corpus.txt"}"\ntokenizer = "whitespace"\nbatch_size = 4\nbptt = 8\n'
        "eval_batch_size = 2\n[model]\nembedding_dim = 16\n[model.encoder]\nhidden_size = 16\n"
        "[train]\nlr = 0.03\nepochs = 3\nprogress = false\n"
    )
    assert _invoke("train", root / "clf.toml", "--out", root / "clf").exit_code == 0
    assert (
        _invoke(
            "train", root / "lm.toml", "--out", root / "lm", "--set", "train.epochs=2"
        ).exit_code
        == 0
    )
    return root


def test_train_writes_run_and_bundle(work: Path) -> None:
    for run in ("clf", "lm"):
        assert (work / run / "metrics.jsonl").is_file() and (work / run / "loss.png").is_file()
        assert (work / run / "bundle" / "model.safetensors").is_file()
    metrics = json.loads((work / "clf" / "bundle" / "metrics.json").read_text())
    assert "test_accuracy" in metrics and "test_tfidf_logreg_accuracy" in metrics
    lm = json.loads((work / "lm" / "bundle" / "metrics.json").read_text())
    assert lm["test_ppl"] < lm["test_unigram_ppl"]  # learned more than word frequencies
    assert "--set=train.epochs=2" in (work / "lm" / "bundle" / "README.md").read_text()


def test_tfidf_and_ngram_model_types_train_and_serve(work: Path, tmp_path: Path) -> None:
    for name, task, path, model in (
        (
            "tfidf",
            "text-classification",
            "reviews.csv",
            'type = "tfidf"\nword_ngram_range = [1, 1]',
        ),
        ("bigram", "text-generation", "corpus.txt", 'type = "ngram"\norder = 2'),
    ):
        recipe = tmp_path / f"{name}.toml"
        recipe.write_text(
            f'task = "{task}"\nname = "{name}"\n[data]\ndataset = "file"\n'
            f'path = "{work / path}"\nbatch_size = 4\neval_batch_size = 2\n[model]\n{model}\n'
        )
        result = _invoke("train", recipe, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
    result = _invoke("predict", tmp_path / "tfidf" / "bundle", "a great wonderful film", "--json")
    assert json.loads(result.output)["label"] == "pos"
    result = _invoke("predict", tmp_path / "bigram" / "bundle", "the cat sat on", "--top", "1")
    assert result.output.startswith("the 1.000")  # "on" is always followed by "the"
    result = _invoke("generate", tmp_path / "bigram" / "bundle", "--prompt", "the", "--num", "2")
    assert result.exit_code == 0 and len(result.output.splitlines()) == 2
    result = _invoke("evaluate", tmp_path / "bigram" / "bundle", "--data", work / "corpus.txt")
    assert 1.0 < json.loads(result.output)["ppl"] < 3.0


def test_resume_continues_the_run(work: Path) -> None:
    result = _invoke("train", work / "lm.toml", "--out", work / "lm", "--resume")
    assert result.exit_code == 0
    lines = (work / "lm" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines if '"valid"' in x] == [1, 2, 3]


def test_evaluate_split_and_file(work: Path) -> None:
    result = _invoke("evaluate", work / "clf" / "bundle")
    assert result.exit_code == 0 and "test_accuracy" in result.output
    result = _invoke("evaluate", work / "clf" / "bundle", "--data", work / "reviews.csv")
    assert json.loads(result.output)["examples"] == 40
    result = _invoke("evaluate", work / "lm" / "bundle", "--data", work / "corpus.txt")
    assert json.loads(result.output)["ppl"] > 1.0


def test_predict_text_file_and_json(work: Path) -> None:
    bundle = work / "clf" / "bundle"
    result = _invoke(
        "predict", bundle, "a great wonderful film", "a dull boring film", "--top", "2"
    )
    assert result.exit_code == 0
    first, second = result.output.strip().splitlines()
    assert first.startswith("pos") and second.startswith("neg")
    (work / "in.txt").write_text("great cast\nawful story\n")
    result = _invoke("predict", bundle, "--file", work / "in.txt", "--json")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["input"] for r in rows] == ["great cast", "awful story"]
    assert rows[0]["top"] == [{"label": rows[0]["label"], "score": rows[0]["score"]}]
    result = _invoke(
        "predict", work / "lm" / "bundle", "the cat sat on the", "--top", "3", "--json"
    )
    answer = json.loads(result.output)  # after "on the" the corpus has only mat and log
    assert {t["token"] for t in answer["top"][:2]} == {"mat", "log"} and len(answer["top"]) == 3


def test_generate(work: Path) -> None:
    result = _invoke(
        "generate",
        work / "lm" / "bundle",
        "--prompt",
        "the dog",
        "--max-tokens",
        "4",
        "--temperature",
        "0",
    )
    assert result.exit_code == 0
    assert result.output.strip().startswith("the dog sat on the")
    two = _invoke(
        "generate", work / "lm" / "bundle", "--num", "2", "--seed", "1"
    ).output.splitlines()
    assert len(two) == 2
    beams = _invoke(
        "generate", work / "lm" / "bundle", "--prompt", "the dog", "--beams", "3", "--num", "2"
    )
    assert beams.exit_code == 0, beams.output
    best, second = beams.output.splitlines()
    assert best.startswith("the dog ") and second.startswith("the dog ") and best != second
    again = _invoke(
        "generate", work / "lm" / "bundle", "--prompt", "the dog", "--beams", "3", "--num", "2"
    )
    assert again.output == beams.output  # beam search is deterministic
    too_many = _invoke("generate", work / "lm" / "bundle", "--beams", "2", "--num", "3")
    assert too_many.exit_code == 2 and "at least as many beams" in too_many.output


def test_resume_accepts_a_checkpoint_older_than_a_new_setting(work: Path, tmp_path: Path) -> None:
    """A setting added to seqlab after a checkpoint was written takes its default;
    asking for another value is still a different recipe."""
    shutil.copytree(work / "lm", tmp_path / "lm")
    path = tmp_path / "lm" / "checkpoint.pt"
    saved = load_checkpoint(path)
    assert saved["recipe"]["model"].pop("embedding_dropout") == 0.0
    save_checkpoint(path, saved)
    args = ["train", work / "lm.toml", "--out", tmp_path / "lm", "--resume"]
    assert _invoke(*args, "--set", "train.epochs=2").exit_code == 0
    changed = _invoke(*args, "--set", "train.epochs=2", "--set", "model.embedding_dropout=0.5")
    assert (
        changed.exit_code == 2
        and "different recipe (model.embedding_dropout: 0.0 there" in changed.output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "missing.toml"], "recipe not found"),
        (["train", "{clf}", "--set", "train.epochz=3"], "did you mean 'epochs'"),
        (["train", "{clf}", "--set", "model.encoder.type=lstn"], "did you mean 'lstm'"),
        (["train", "{clf}", "--set", "train.lr=nan"], "train.lr: input should be a finite"),
        (["train", "{clf}", "--set", "data.batch_size=0"], "data.batch_size: input should be"),
        (["train", "{clf}", "--set", "data.batch_size=-5"], "greater than or equal to 1"),
        (["train", "{clf}", "--set", "train.device=cuda"], "no CUDA device"),
        (["train", "{lm}", "--set", "model.encoder.bidirectional=true"], "causal encoder"),
        (["train", "{lm}", "--set", "model.encoder.type=cnn"], "causal encoder"),
        (["train", "{lm}", "--set", "model.encoder.type=transformer"], "causal encoder"),
        (
            ["train", "{lm}", "--out", "{lm_run}", "--resume", "--set", "train.lr=0.5"],
            "different recipe (train.lr",
        ),
        (["predict", "{bundle}", "x", "--top", "0"], "top_k"),
        (["generate", "{lm_bundle}", "--max-tokens", "0"], "max_new_tokens"),
        (["train", "{clf}", "--set", "data.path={bad}"], "UTF-8"),
        (["predict", "{bundle}", " "], "empty"),
        (["predict", "{bundle}"], "nothing to predict"),
        (["predict", "{nowhere}", "text"], "bundle not found"),
        (["generate", "{bundle}"], "not a text-generation model"),
        (["evaluate", "{bundle}", "--split", "dev"], "unknown split"),
        (["--threads", "0", "datasets"], "must be at least 1"),
        (["train", "{clf}", "--set", 'transfer.lora.targets=["nope.*"]'], "'nope.*' matches"),
        (["train", "{clf}", "--set", 'transfer.freeze=["encodr"]'], "did you mean 'encoder'"),
        (["train", "{clf}", "--set", "transfer.freeze_layers=9"], "nothing would train"),
        (["train", "{clf}", "--set", "model.encoder_from=not-a-folder"], "has no config.json"),
    ],
)
def test_bad_input_is_one_line_exit_2(work: Path, args: list[str], message: str) -> None:
    (work / "bad.csv").write_bytes(b"label,text\npos,caf\xe9\n")
    fill = {
        "clf": work / "clf.toml",
        "lm": work / "lm.toml",
        "lm_run": work / "lm",
        "lm_bundle": work / "lm" / "bundle",
        "bad": work / "bad.csv",
        "bundle": work / "clf" / "bundle",
        "nowhere": work / "nowhere",
    }
    result = runner.invoke(app, [a.format(**fill) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_tasks_lists_every_family() -> None:
    result = runner.invoke(app, ["tasks"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for task in ("text-classification", "time-series-classification", "text-generation"):
        assert task in result.output
    assert "neural | tfidf" in result.output and "neural | ngram" in result.output


def test_threads_option_sets_torch_threads() -> None:
    import torch

    before = torch.get_num_threads()
    try:
        result = runner.invoke(app, ["--threads", "2", "datasets", "info", "ptb"])
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_damaged_bundle_file(work: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "bundle"
    shutil.copytree(work / "clf" / "bundle", copy)
    (copy / "model.safetensors").unlink()
    result = runner.invoke(app, ["predict", str(copy), "good"])
    assert result.exit_code == 2 and "no model.safetensors" in result.output


@pytest.mark.e2e
def test_demo_quick_runs_the_whole_path(tmp_path: Path) -> None:
    result = _invoke("demo", "--quick", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "seqlab demo — measured in this run" in result.output
    assert "generate the stock market" in result.output
    assert result.output.count("predict ") == 3
    for run in ("ptb-lstm-demo", "mr-bilstm"):
        metrics = json.loads((tmp_path / run / "bundle" / "metrics.json").read_text())
        assert metrics["train_seconds"] < 120


def test_generate_with_a_gpt_bundle_refuses_or_truncates_a_long_prompt(
    work: Path, tmp_path: Path
) -> None:
    """A causal Transformer LM: generation through the KV cache; a prompt over the context
    is one line + exit 2 unless --truncate (then a note on stderr)."""
    result = _invoke(
        "train", work / "lm.toml", "--out", tmp_path / "gpt",
        "--set", "model.encoder.type=transformer", "--set", "model.encoder.causal=true",
        "--set", "model.encoder.num_heads=2", "--set", "model.encoder.max_positions=8",
        "--set", "train.epochs=1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bundle = tmp_path / "gpt" / "bundle"
    long_prompt = " ".join(["the cat sat on the mat"] * 3)  # 18 tokens > 8
    refused = runner.invoke(app, ["generate", str(bundle), "--prompt", long_prompt])
    assert refused.exit_code == 2
    assert "more than the model's context of 8" in refused.output
    assert "Traceback" not in refused.output
    cut = runner.invoke(
        app, ["generate", str(bundle), "--prompt", long_prompt, "--truncate", "--max-tokens", "20"]
    )
    assert cut.exit_code == 0, cut.output
    assert "truncated" in cut.stderr and cut.stdout.startswith(long_prompt)
    assert len(cut.stdout.split()) > len(long_prompt.split())  # generated past the context
