"""Every encoder: zero outputs on padding; padding does not change real outputs."""

from __future__ import annotations

import pytest
import torch

from seqlab.config import validate
from seqlab.data.batching import Batch
from seqlab.errors import UserError
from seqlab.models.classifier import SequenceClassifier, SequenceClassifierConfig
from seqlab.nn.encoders import (
    CNNConfig,
    FCNConfig,
    RecurrentConfig,
    ResNetConfig,
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
    # block 1 changes the channels (1x1 conv shortcut), block 2 keeps them (BN shortcut)
    "resnet": ResNetConfig(channels=[6, 6], kernel_sizes=[8, 5, 3]),
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

    with pytest.raises(UserError, match=r"did you mean 'lstm'\?"):
        validate(SequenceClassifierConfig, {"encoder": {"type": "lstn"}}, "model")
    with pytest.raises(UserError, match=r"unknown key 'model\.encoder\.bidirectional'"):
        validate(
            SequenceClassifierConfig, {"encoder": {"type": "cnn", "bidirectional": True}}, "model"
        )
    with pytest.raises(UserError, match="divisible"):
        build_encoder(TransformerConfig(hidden_size=10, num_heads=4), 4)


# The oracle's own padding="same" warns that even kernels (8) need a padded copy.
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
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


def _batch_norm(norm: torch.nn.BatchNorm1d, h: torch.Tensor, train: bool) -> torch.Tensor:
    # training: the batch's statistics; eval: the running ones the encoder's call kept
    mean, var = (None, None) if train else (norm.running_mean, norm.running_var)
    return torch.nn.functional.batch_norm(
        h, mean, var, norm.weight, norm.bias, training=train, eps=norm.eps
    )


def test_resnet_blocks_are_fawaz_s_residual_blocks() -> None:
    """Each block: torch's padding="same" convs -> BN (-> ReLU but the last), plus the
    shortcut (1x1 conv -> BN when the channels change, BN alone when not), then ReLU."""
    torch.manual_seed(0)
    encoder = build_encoder(ResNetConfig(channels=[6, 6], kernel_sizes=[8, 5, 3]), 2)
    x = torch.randn(3, 11, 2)
    for train in (True, False):
        encoder.train(train)
        got, _ = encoder(x, torch.full((3,), 11))
        h = x.transpose(1, 2)
        for block in encoder.blocks:
            y = h
            for i, (conv, norm) in enumerate(zip(block.convs, block.norms, strict=True)):
                same = torch.nn.Conv1d(
                    conv.in_channels, conv.out_channels, conv.kernel_size, padding="same"
                )
                same.load_state_dict(conv.state_dict())
                y = _batch_norm(norm, same(y), train)
                y = torch.relu(y) if i < 2 else y
            shortcut = h if block.expand is None else block.expand(h)
            h = torch.relu(y + _batch_norm(block.shortcut_norm, shortcut, train))
        torch.testing.assert_close(got, h.transpose(1, 2), atol=1e-5, rtol=1e-5)
    assert [b.expand is not None for b in encoder.blocks] == [True, False]
    assert not encoder.causal and encoder.output_size == 6


def test_resnet_has_the_published_parameter_count() -> None:
    """Wang et al. 2017 / Fawaz et al. 2019's ResNet on a univariate series, counted by
    hand: conv k*in*out + out biases, batch norm 2 per channel (scale, shift; Keras also
    lists the 2 running statistics as non-trainable), the 1x1 shortcuts of blocks 1-2."""

    def conv(k: int, a: int, b: int) -> int:
        return k * a * b + b

    def block(a: int, b: int) -> int:
        layers = conv(8, a, b) + conv(5, b, b) + conv(3, b, b) + 3 * 2 * b
        shortcut = (conv(1, a, b) if a != b else 0) + 2 * b
        return layers + shortcut

    by_hand = block(1, 64) + block(64, 128) + block(128, 128)
    assert by_hand == 34_112 + 206_336 + 263_552 == 504_000
    encoder = build_encoder(ResNetConfig(), 1)
    assert sum(p.numel() for p in encoder.parameters()) == by_hand
    model = SequenceClassifier(
        SequenceClassifierConfig(
            encoder=ResNetConfig(), pooling="mean", vocab_size=0, input_size=1, num_classes=2
        )
    )
    assert sum(p.numel() for p in model.parameters()) == by_hand + 128 * 2 + 2  # + softmax layer
    logits = model.eval()(Batch(torch.randn(4, 50), torch.tensor([50, 50, 30, 9]))).logits
    assert logits.shape == (4, 2) and torch.isfinite(logits).all()
