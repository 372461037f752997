"""Every encoder: zero outputs on padding; padding does not change real outputs."""

from __future__ import annotations

import pytest
import torch

from seqlab.config import validate
from seqlab.errors import UserError
from seqlab.nn.encoders import (
    CNNConfig,
    FCNConfig,
    RecurrentConfig,
    TransformerConfig,
    build_encoder,
)

CONFIGS = {
    "lstm": RecurrentConfig("lstm", hidden_size=8, num_layers=2),
    "gru-bi": RecurrentConfig("gru", hidden_size=4, num_layers=2, bidirectional=True),
    "mut1": RecurrentConfig("mut1", hidden_size=8, num_layers=2),
    "cnn": CNNConfig(hidden_size=8, num_layers=2),
    "cnn-causal": CNNConfig(hidden_size=8, num_layers=2, kernel_size=4, causal=True),
    "transformer": TransformerConfig(hidden_size=8, num_layers=2),
    "transformer-causal": TransformerConfig(hidden_size=8, num_layers=2, causal=True),
    "fcn": FCNConfig(channels=[8, 16, 8], kernel_sizes=[8, 5, 3]),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_padding_is_invisible(name: str) -> None:
    encoder = build_encoder(CONFIGS[name], 8).eval()
    x, lengths = torch.randn(2, 6, 8), torch.tensor([6, 3])
    outputs, _ = encoder(x, lengths)
    assert outputs.shape == (2, 6, encoder.output_size)
    assert torch.all(outputs[1, 3:] == 0)
    alone, _ = encoder(x[1:, :3], torch.tensor([3]))
    assert torch.allclose(outputs[1, :3], alone[0], atol=1e-5)


def test_unknown_encoder_type_suggests() -> None:
    class Holder:  # any config with an `encoder` field picks its member by `type`
        pass

    from seqlab.models.classifier import SequenceClassifierConfig

    with pytest.raises(UserError, match=r"did you mean 'lstm'\?"):
        validate(SequenceClassifierConfig, {"encoder": {"type": "lstn"}}, "model")
    with pytest.raises(UserError, match=r"unknown key 'model\.encoder\.bidirectional'"):
        validate(
            SequenceClassifierConfig, {"encoder": {"type": "cnn", "bidirectional": True}}, "model"
        )
    with pytest.raises(UserError, match="divisible"):
        build_encoder(TransformerConfig(hidden_size=10, num_heads=4), 4)


def test_fcn_blocks_are_torch_s_same_padded_conv_batch_norm_relu() -> None:
    """Wang et al.'s block = Conv1d(padding="same") -> BatchNorm1d -> ReLU, per block."""
    torch.manual_seed(0)
    encoder = build_encoder(FCNConfig(channels=[6, 4], kernel_sizes=[8, 3]), 2)
    x = torch.randn(3, 11, 2)
    for train in (True, False):
        encoder.train(train)
        got, _ = encoder(x, torch.full((3,), 11))
        h = x.transpose(1, 2)
        for conv, norm in zip(encoder.convs, encoder.norms, strict=True):
            same = torch.nn.Conv1d(
                conv.in_channels, conv.out_channels, conv.kernel_size, padding="same"
            )
            same.load_state_dict(conv.state_dict())
            # training: the batch's statistics; eval: the running ones the call above kept
            mean, var = (None, None) if train else (norm.running_mean, norm.running_var)
            normed = torch.nn.functional.batch_norm(
                same(h), mean, var, norm.weight, norm.bias, training=train, eps=norm.eps
            )
            h = torch.relu(normed)
        torch.testing.assert_close(got, h.transpose(1, 2), atol=1e-5, rtol=1e-5)
    assert not encoder.causal and encoder.output_size == 4
