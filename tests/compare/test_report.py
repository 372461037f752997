"""The report's statistics against scipy, its claim verdicts, and the files it writes."""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from scipy import stats

from seqlab.compare.grid import Claim, plan_compare, run_compare
from seqlab.compare.report import fmt, fmt_ci, judge, to_html, to_markdown, write_report
from seqlab.compare.stats import mean_ci, ranks, spearman, welch_ci

SAMPLES = [[4.7, 4.72], [1.0, 2.0, 4.0], [100.3, 99.1, 101.7, 98.8, 100.0], [0.5] * 3 + [0.6]]


@pytest.mark.parametrize("values", SAMPLES)
def test_mean_ci_is_scipys_t_interval(values: list[float]) -> None:
    mean, half = mean_ci(values, 0.95)
    low, high = stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
    )
    assert mean == pytest.approx(np.mean(values))
    assert mean - half == pytest.approx(low) and mean + half == pytest.approx(high)


def test_mean_ci_of_one_value_has_no_interval() -> None:
    mean, half = mean_ci([3.0])
    assert mean == 3.0 and math.isnan(half)
    assert fmt_ci(mean, half) == "3.000"


@pytest.mark.parametrize(("a", "b"), [(SAMPLES[0], SAMPLES[1]), (SAMPLES[2], SAMPLES[3])])
def test_welch_ci_is_scipys(a: list[float], b: list[float]) -> None:
    diff, half = welch_ci(a, b, 0.95)
    interval = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert diff - half == pytest.approx(interval.low) and diff + half == pytest.approx(
        interval.high
    )


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([4.811, 4.699, 4.785, 4.755], [5.1, 4.8, 5.0, 4.9]),
        ([1, 2, 2, 3, 5], [5, 3, 3, 1, 0]),  # ties on both sides
        ([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5]),
    ],
)
def test_spearman_is_scipys(x: list[float], y: list[float]) -> None:
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert list(ranks(x)) == pytest.approx(list(stats.rankdata(x)))


def test_spearman_undefined_cases() -> None:
    assert math.isnan(spearman([1.0], [2.0])) and math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_fmt_keeps_four_significant_digits() -> None:
    assert [fmt(109.83), fmt(4.6991), fmt(0.77512), fmt(15965.8)] == [
        "109.8",
        "4.699",
        "0.7751",
        "15966",
    ]
    assert fmt_ci(4.6991, 0.01234) == "4.699 ± 0.012" and fmt(None) == "–"


SCORES = {  # lower is better (a loss), two seeds each
    "tanh": [4.90, 4.92],
    "lstm": [4.70, 4.71],
    "lstm_b": [4.60, 4.61],
    "lstm_f": [4.85, 4.87],
    "gru": [4.705, 4.70],
}


@pytest.mark.parametrize(
    ("claim", "verdict"),
    [
        (Claim("tanh and lstm_f worst", "worst", ["tanh", "lstm_f"]), "yes"),
        (Claim("lstm worst", "worst", ["lstm"]), "no"),
        (Claim("lstm_b best", "best", ["lstm_b"]), "yes"),
        (
            Claim("lstm_f worst of the ablations", "worst", ["lstm_f"], among=["lstm", "lstm_f"]),
            "yes",
        ),
        (Claim("bias helps", "better", ["lstm_b", "lstm"]), "yes"),
        (Claim("lstm beats lstm_b", "better", ["lstm", "lstm_b"]), "no"),
        (Claim("gru ≈ lstm", "similar", ["gru", "lstm"], tolerance=0.02), "yes"),
        (Claim("tanh ≈ lstm", "similar", ["tanh", "lstm"], tolerance=0.02), "no"),
        (Claim("unknown", "better", ["mut1", "lstm"]), "n/a"),
    ],
)
def test_judge_claims(claim: Claim, verdict: str) -> None:
    assert judge(claim, SCORES, higher=False)[0] == verdict


def test_judge_better_within_noise_and_direction_of_higher_metrics() -> None:
    noisy = {"a": [0.70, 0.80, 0.75], "b": [0.74, 0.72, 0.76]}  # accuracy: higher is better
    assert judge(Claim("a > b", "better", ["a", "b"]), noisy, higher=True)[0] == "yes, within noise"
    assert judge(Claim("b > a", "better", ["b", "a"]), noisy, higher=True)[0] == "no, within noise"
    clear = {"a": [0.90, 0.91], "b": [0.70, 0.71]}
    assert judge(Claim("a > b", "better", ["a", "b"]), clear, higher=True)[0] == "yes"
    assert judge(Claim("a best", "best", ["a"]), clear, higher=True)[0] == "yes"


def test_markdown_and_self_contained_html(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    fig.savefig(tmp_path / "plot.png")
    plt.close(fig)
    blocks = [
        ("h", 1, "Title"),
        ("p", "with `code` & <angle>"),
        ("table", ["a", "b"], [["1", "x|y"]]),
        ("img", "plot.png", "a plot"),
    ]
    markdown = to_markdown(blocks)
    assert (
        "# Title" in markdown and "| 1 | x\\|y |" in markdown and "![a plot](plot.png)" in markdown
    )
    page = to_html(blocks, tmp_path, "t")
    assert "<code>code</code> &amp; &lt;angle&gt;" in page
    assert 'src="data:image/png;base64,' in page and "plot.png" not in page


def test_report_of_a_tiny_grid(tiny: Path) -> None:
    out = tiny.parent / "out"
    plan = plan_compare(tiny)
    records = run_compare(plan, out)
    report = write_report(plan, records, out)
    markdown = (out / "report.md").read_text(encoding="utf-8")
    for expected in (
        "Spearman ρ",
        "± ",
        "GRU beats tanh",
        "Budget: equal training tokens",
        "a unit test",
    ):
        assert expected in markdown, expected
    for name in ("learning_curves.png", "gradient_flow.png", "gate_saturation.png"):
        assert (out / name).stat().st_size > 1000
        assert f"({name})" in markdown
    assert "## Claims" in markdown and "| GRU beats tanh | yes |" in markdown  # published: yes
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and not re.search(r'src="(?!data:)', page)
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {row["row"] for row in data["rows"]} == {"rnn_tanh", "gru"}
    assert all(row["runs"] == 2 for row in data["rows"])
    assert data["spearman"] in (-1.0, 1.0)  # two rows: ranks agree or not
    # The table's numbers are the runs' own: mean and CI of test_loss over the two seeds.
    row = next(r for r in data["rows"] if r["row"] == "gru")
    losses = [rec["metrics"]["test_loss"] for rec in records if rec["row"] == "gru"]
    assert row["metrics"]["test_loss"]["mean"] == pytest.approx(np.mean(losses))
    assert row["metrics"]["test_loss"]["ci95"] == pytest.approx(mean_ci(losses)[1])
    assert report.data["claims"][0]["published"] == "yes"  # 4.684 < 4.811
    assert {d["label"] for d in data["diagnose"]} == {"rnn_tanh", "gru"}


def test_a_report_of_a_grid_still_training_says_which_rows_have_not_run(tiny: Path) -> None:
    out = tiny.parent / "out"
    plan = plan_compare(tiny)
    records = [r for r in run_compare(plan, out) if r["row"] == "rnn_tanh"]
    console = Console(file=io.StringIO(), width=200)
    write_report(plan, records, out, console=console)
    shown = console.file.getvalue()
    assert "not run yet" in shown and "failed" not in shown
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    gru = next(r for r in data["rows"] if r["row"] == "gru")
    assert gru["runs"] == 0 and gru["rank"] is None and gru["failed"] == []
