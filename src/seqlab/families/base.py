"""The family contract: one object per task owns everything task-specific.

A family (``seqlab.families.FAMILIES["text-classification"]``) knows:

* its configs: ``data_config`` (the recipe's ``[data]``), ``model_config`` (``[model]``)
  and ``preprocessing`` (what a bundle stores to turn raw input into a batch: label
  names, ``max_length``, the token unit...), all dataclasses validated by pydantic;
* ``prepare(recipe)``: data set -> splits -> batches, fitting the tokenizer or taking a
  bundle's (``Prepared``);
* ``build_model(config)``: the model from its config alone (what a bundle rebuilds);
* ``metrics``: each reported metric's direction (``"max"`` or ``"min"``);
* ``report(model, prepared, recipe)``: test metrics beside same-run baselines, and a
  few example lines;
* typed ``Request`` / ``Response`` (pydantic) and ``predict(bundle, requests)``, used
  by the CLI and the service alike; ``request_from_text`` / ``show`` let the CLI turn a
  command-line argument into a request and a response into a line.

The CLI, the loop and the bundle code only ever call these: none of them branches on
a task name. See docs/architecture.md for a worked "add a family" example.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field, ValidationError
from torch import nn

from seqlab.data.datasets import DATASETS
from seqlab.errors import UserError
from seqlab.text.tokenizers import Tokenizer
from seqlab.train.callbacks import TrainState
from seqlab.train.loop import fit

if TYPE_CHECKING:
    from seqlab.bundle import Bundle
    from seqlab.recipe import Recipe
    from seqlab.transfer.tuning import TransferPlan

SPLITS = ("train", "valid", "test")


@dataclass
class Prepared:
    """What ``prepare`` returns: batches per split, the fitted preprocessing, a summary."""

    batches: dict[str, Any]
    preprocessing: Any  # the family's preprocessing dataclass
    tokenizer: Tokenizer | None
    description: str
    data: Any = None  # family-specific: raw splits, token streams...


def validated(schema: type[BaseModel], **values: Any) -> Any:
    """``schema(**values)``, a mistake in them being one UserError line."""
    try:
        return schema(**values)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        msg = first["msg"]
        raise UserError(
            f"bad request: {where}: {msg[:1].lower()}{msg[1:]}", "fix that field"
        ) from None


class GenerateRequest(BaseModel):
    """Continue a prompt (families that generate text); HF ``generate`` names."""

    prompt: str = ""
    max_new_tokens: int = Field(40, ge=1)
    temperature: float = Field(0.8, ge=0)  # 0 = greedy
    top_k: int | None = Field(40, ge=1)
    top_p: float | None = Field(None, gt=0, le=1)
    num_return_sequences: int = Field(1, ge=1, le=100)
    num_beams: int = Field(1, ge=1, le=100)  # > 1: beam search (deterministic; no sampling)
    length_penalty: float = 0.0  # GNMT alpha, with num_beams > 1
    seed: int = 0
    truncate: bool = False  # keep the prompt's last tokens when it exceeds the context


class GenerateResponse(BaseModel):
    texts: list[str]
    truncated: bool = False  # the prompt was cut to the model's context


class Family:
    """Base class of the families; see the module doc. Subclasses set the class attributes."""

    task: ClassVar[str]
    summary: ClassVar[str]
    data_config: ClassVar[type]
    model_config: ClassVar[type]
    preprocessing: ClassVar[type]
    Request: ClassVar[type[BaseModel]]
    Response: ClassVar[type[BaseModel]]
    metrics: ClassVar[dict[str, str]]  # name -> "max" | "min"
    example: ClassVar[str]  # a recipe in recipes/ that trains this family
    example_input: ClassVar[str] = "the film"  # what `seqlab predict BUNDLE INPUT` takes
    uses_tokenizer: ClassVar[bool] = True  # its neural models read token ids
    # The `seqlab ts` commands a bundle of this family answers (seqlab.cli.ts): "forecast"
    # and "backtest" a forecaster, "classify" a series classifier, "anomaly" a detector.
    ts_verbs: ClassVar[tuple[str, ...]] = ()

    def needs_tokenizer(self, config: Any) -> bool:
        """Whether a bundle of this model config must carry ``tokenizer.json``."""
        return self.uses_tokenizer

    # ------------------------------------------------------------------ training
    def check_recipe(self, recipe: Recipe) -> None:
        """Refuse a recipe this family cannot train honestly (called when it is parsed)."""

    def prepare(self, recipe: Recipe, preprocessing: Any = None, tokenizer: Any = None) -> Prepared:
        raise NotImplementedError

    def build_model(self, config: Any) -> nn.Module:
        raise NotImplementedError

    def new_model(self, recipe: Recipe, prepared: Prepared) -> nn.Module:
        """The model to train: the recipe's config completed from the data."""
        return self.build_model(recipe.model)

    def train(
        self,
        model: Any,
        prepared: Prepared,
        recipe: Recipe,
        out: Path,
        resume: bool,
        plan: TransferPlan | None = None,
    ) -> TrainState:
        """Fit ``model`` on the prepared batches: the training loop, for torch models;
        ``plan`` (the recipe's ``[transfer]``, applied by ``seqlab.run``) gives the
        optimiser's parameter groups and the gradual-unfreezing callback."""
        from seqlab.recipe import recipe_to_dict

        batches = prepared.batches
        resolved = recipe_to_dict(recipe)
        return fit(
            model,
            batches["train"],
            batches["valid"],
            recipe.train,
            out,
            callbacks=plan.callbacks if plan is not None else (),
            resume=resume,
            recipe=resolved,
            param_groups=plan.param_groups if plan is not None else None,
        )

    def report(
        self, model: nn.Module, prepared: Prepared, recipe: Recipe
    ) -> tuple[dict[str, Any], list[str]]:
        raise NotImplementedError

    def metrics_table(self, metrics: dict[str, Any]) -> Any:
        """A rich table of the metrics: ``seqlab evaluate --table`` and the results after
        training print it."""
        from rich.table import Table

        table = Table("metric", "value")
        table.columns[1].justify = "right"
        for name, value in metrics.items():
            table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
        return table

    def card_figures(self, model: nn.Module, prepared: Prepared) -> dict[str, tuple[str, bytes]]:
        """PNG figures for the bundle's model card: file name -> (caption, PNG bytes)."""
        return {}

    def evaluate_file(self, bundle: Bundle, path: str) -> dict[str, Any]:
        raise UserError(
            f"a {self.task} bundle cannot be evaluated on a file yet", "use --split test"
        )

    def evaluate_dataset(
        self, bundle: Bundle, dataset: str | None = None, split: str = "test"
    ) -> dict[str, Any]:
        """The report's metrics on ``split`` of the bundle's data set, or of the registered
        ``dataset`` (``"ucr/ECG200"``: a name inside an archive), with the bundle's
        preprocessing and tokenizer."""
        if split not in SPLITS:
            raise UserError(f"unknown split '{split}'", "use train, valid or test")
        if bundle.recipe is None:
            raise UserError(f"bundle {bundle.path} has no recipe", "pass --data FILE instead")
        recipe = bundle.recipe
        if dataset is not None:
            name, options = self.dataset_options(recipe, dataset)
            data = dataclasses.replace(recipe.data, dataset=name, options=options)
            recipe = dataclasses.replace(recipe, data=data)
        recipe.eval.split, recipe.eval.samples = split, 0
        prepared = self.prepare(recipe, bundle.preprocessing, bundle.tokenizer)
        return self.report(bundle.model, prepared, recipe)[0]

    # ------------------------------------------------------------------ using a bundle
    def ensemble(self, bundles: list[Bundle]) -> Bundle:
        """One bundle answering with the combined predictions of ``bundles`` (the first's
        preprocessing, tokenizer and recipe): ``seqlab evaluate / translate --ensemble``.
        Families whose models can be combined override this."""
        raise UserError(
            f"{self.task} bundles cannot be combined into an ensemble yet",
            "evaluate the bundles one at a time",
        )

    def predict(self, bundle: Bundle, requests: list[Any]) -> list[Any]:
        raise NotImplementedError

    def request_from_text(self, text: str, top_k: int = 1, **options: Any) -> BaseModel:
        """The request a command-line argument stands for; ``options`` are further request
        fields (``beam_size=5``), refused by name where the family has no such field."""
        return validated(self.Request, text=text, top_k=top_k, **options)

    def requests_from_file(
        self, bundle: Bundle, path: Path, top_k: int = 1
    ) -> list[tuple[str, BaseModel]]:
        """``seqlab predict --file``: (shown input, request) pairs, one a line of ``path``
        (a forecaster reads a whole CSV series instead)."""
        from seqlab.data.readers import read_lines

        return [(line, self.request_from_text(line, top_k=top_k)) for line in read_lines(path)]

    def dataset_options(self, recipe: Recipe | None, dataset: str) -> tuple[str, dict[str, Any]]:
        """``"ucr/CBF"`` -> ``("ucr", {..., "name": "CBF"})``: a registered data set for this
        task and its loader options (the recipe's, when ``dataset`` names no inner set)."""
        name, _, inner = dataset.partition("/")
        self.check_dataset(name, (self.task,))
        options = dict(recipe.data.options) if recipe is not None else {}
        return name, ({**options, "name": inner} if inner else options)

    def requests_from_dataset(self, bundle: Bundle, dataset: str) -> list[tuple[str, BaseModel]]:
        """``seqlab ts ... --data NAME``: (shown input, request) pairs for the inputs of a
        registered data set (a forecaster: the H steps after its series)."""
        raise UserError(
            f"a {self.task} bundle cannot read its inputs from a data set", "use --csv FILE"
        )

    def show(self, response: Any) -> str:
        """One line for the terminal."""
        return response.model_dump_json()

    def rows(self, shown: str, response: Any) -> list[dict[str, Any]]:
        """Table rows of one response (``seqlab ts ... --out FILE.csv``): by default one
        row with the input and the response's scalar fields."""
        fields = response.model_dump()
        return [{"input": shown, **{k: v for k, v in fields.items() if _scalar(v)}}]

    def plot(self, response: Any, path: str, request: Any = None) -> None:
        """A PNG picture of one response (a translation's attention, a forecast after its
        history); ``request`` is what it answered."""
        raise UserError(f"a {self.task} prediction has no plot", "leave out --plot")

    def generate(self, bundle: Bundle, request: GenerateRequest) -> GenerateResponse:
        raise UserError(
            f"bundle {bundle.path} is a {self.task} model, not a text-generation model",
            "use `seqlab predict` for it",
        )

    # ------------------------------------------------------------------ helpers
    def check_dataset(self, name: str, tasks: tuple[str, ...]) -> None:
        """Refuse a registered data set made for another task, with the right hint."""
        info = DATASETS.get(name)
        if info is not None and info.task not in tasks:
            raise UserError(
                f"data set '{name}' is for {info.task}, not {self.task}",
                "see `seqlab datasets` for the task of each",
            )


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
