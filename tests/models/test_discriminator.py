from __future__ import annotations

import pytest
import torch

from oldfilm.models.discriminator import TemporalPatchGAN, hinge_d_loss, hinge_g_loss


def test_patch_logits_shape_and_spectral_norm() -> None:
    torch.manual_seed(0)
    d = TemporalPatchGAN(in_channels=1, channels=8, depth=3)
    out = d(torch.rand(2, 3, 1, 64, 64))
    assert out.shape == (2, 3, 32, 8, 8)
    assert sum("parametrizations" in n for n, _ in d.named_parameters()) == 2  # all but the last layer
    with pytest.raises(ValueError, match="N, T, C, H, W"):
        d(torch.rand(2, 1, 64, 64))


def test_hinge_losses() -> None:
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.25 + 0.75)
    assert hinge_g_loss(fake).item() == pytest.approx(0.75)
