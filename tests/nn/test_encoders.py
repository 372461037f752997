"""Every encoder: zero outputs on padding; padding does not change real outputs."""

from __future__ import annotations

import pytest
import torch

from seqlab.errors import UserError
from seqlab.nn.encoders import EncoderConfig, build_encoder


@pytest.mark.parametrize("name", ["lstm", "gru", "mut1", "cnn", "transformer"])
def test_padding_is_invisible(name: str) -> None:
    encoder = build_encoder(EncoderConfig(encoder=name, hidden_size=8, num_layers=2), 8).eval()
    x, lengths = torch.randn(2, 6, 8), torch.tensor([6, 3])
    outputs, _ = encoder(x, lengths)
    assert outputs.shape == (2, 6, encoder.output_size)
    assert torch.all(outputs[1, 3:] == 0)
    alone, _ = encoder(x[1:, :3], torch.tensor([3]))
    assert torch.allclose(outputs[1, :3], alone[0], atol=1e-5)


def test_unknown_encoder_suggests() -> None:
    with pytest.raises(UserError, match="did you mean 'lstm'"):
        build_encoder(EncoderConfig(encoder="lstn"), 4)
    with pytest.raises(UserError, match="divisible"):
        build_encoder(EncoderConfig(encoder="transformer", hidden_size=10, num_heads=4), 4)
