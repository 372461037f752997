"""``did_you_mean``: the one fix line for an unknown name."""

from __future__ import annotations

from seqlab.errors import UserError, did_you_mean


def test_close_match_is_suggested() -> None:
    assert did_you_mean("epoch", ["epochs", "lr"]) == "did you mean 'epochs'?"
    assert did_you_mean("LSTN", ("lstm", "gru")) == "did you mean 'lstm'?"  # case-insensitive
    assert did_you_mean("ecg200", ["ECG200"]) == "did you mean 'ECG200'?"  # original spelling


def test_no_match_lists_the_options() -> None:
    assert did_you_mean("zzz", ["epochs", "lr"]) == "use one of epochs, lr"
    assert did_you_mean("epxx", ["epochs"], cutoff=0.9) == "use one of epochs"


def test_user_error_joins_message_and_fix() -> None:
    error = UserError("unknown key 'epoch'", did_you_mean("epoch", ["epochs", "lr"]))
    assert str(error) == "unknown key 'epoch' — did you mean 'epochs'?"
    assert str(UserError("no fix")) == "no fix"
