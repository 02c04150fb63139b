"""Building blocks of the RTN network: the paper's gated aggregation and a SwinIR-style spatial restorer.

Convention: feature maps are ``(N, C, H, W)`` float tensors (any memory format; the engine uses
channels_last, which makes the NCHW ↔ NHWC permutes below free). Inside the Swin blocks tokens are
``(N, H, W, C)``; windows are ``(N · nW, window², C)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class GatedAggregation(nn.Module):
    """RTN's ``Gated_Aggregation``: blend the warped hidden state with the current frame.

    ``latent = conv3x3(frame)`` (C channels); ``x = σ(conv3x3(LeakyReLU(conv3x3([hidden, latent, r]))))``
    with C/2 channels in between; output ``x · hidden + (1 − x) · latent``. The first frame of a pass (or the
    first after a cut) has no hidden state and returns ``latent``.

    Convention:
        hidden: (N, C, h, w) hidden state already warped to the current frame, or None.
        frame: (N, F, h, w) the current frame at feature resolution (pixel-unshuffled luma: F = scale²).
        residual: (N, 1, h, w) the residual indicator |warped previous frame − current frame|.
        returns (N, C, h, w).

    Example:
        >>> agg = GatedAggregation(frame_channels=1, channels=8)
        >>> agg(None, torch.rand(1, 1, 16, 16), torch.zeros(1, 1, 16, 16)).shape
        torch.Size([1, 8, 16, 16])
    """

    def __init__(self, frame_channels: int, channels: int) -> None:
        super().__init__()
        if channels < 2 or channels % 2:
            raise ValueError(f"GatedAggregation needs an even channel count ≥ 2, got {channels}")
        self.project = nn.Conv2d(frame_channels, channels, 3, padding=1)  # RTN: conv2d_projection_head
        self.gate_conv1 = nn.Conv2d(2 * channels + 1, channels // 2, 3, padding=1)
        self.gate_conv2 = nn.Conv2d(channels // 2, 1, 3, padding=1)
        for conv in (self.project, self.gate_conv1, self.gate_conv2):
            nn.init.kaiming_normal_(conv.weight)

    def _gate(self, hidden: Tensor, latent: Tensor, residual: Tensor) -> Tensor:
        x = F.leaky_relu(self.gate_conv1(torch.cat([hidden, latent, residual], dim=1)), 0.2)
        return torch.sigmoid(self.gate_conv2(x))

    def gate(self, hidden: Tensor, frame: Tensor, residual: Tensor) -> Tensor:
        """The gate map x: (N, 1, h, w) in (0, 1); 1 keeps the hidden state, 0 takes the current frame."""
        return self._gate(hidden, self.project(frame), residual)

    def forward(self, hidden: Tensor | None, frame: Tensor, residual: Tensor) -> Tensor:
        latent = self.project(frame)
        if hidden is None:
            return latent
        x = self._gate(hidden, latent, residual)
        return x * hidden + (1 - x) * latent


def window_partition(x: Tensor, window: int) -> Tensor:
    """(N, H, W, C) → (N · H/w · W/w, w², C); H and W must be multiples of ``window``."""
    n, h, w, c = x.shape
    x = x.view(n, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, c)


def window_reverse(windows: Tensor, window: int, n: int, h: int, w: int) -> Tensor:
    """Inverse of :func:`window_partition`: (N · nW, w², C) → (N, H, W, C)."""
    c = windows.shape[-1]
    x = windows.view(n, h // window, w // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(n, h, w, c)


def shift_mask(h: int, w: int, window: int, shift: int, device: torch.device) -> Tensor:
    """Attention mask of shifted windows (Swin): (nW, w², w²), 0 within a region, −100 across regions
    that the cyclic shift made adjacent."""
    img = torch.zeros(1, h, w, 1, device=device)
    cuts = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    label = 0
    for hs in cuts:
        for ws in cuts:
            img[:, hs, ws, :] = label
            label += 1
    win = window_partition(img, window).squeeze(-1)  # (nW, w²)
    diff = win.unsqueeze(1) - win.unsqueeze(2)
    return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside a window, with a learned relative position bias (Swin).

    Convention: x (B, w², C) with B = N · nW windows; returns (B, w², C).
    """

    def __init__(self, dim: int, window: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"WindowAttention: dim {dim} is not divisible by {heads} heads")
        self.window, self.heads = window, heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij"))
        coords = coords.flatten(1)  # (2, w²)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)  # (w², w², 2)
        index = rel[..., 0] * (2 * window - 1) + rel[..., 1]
        self.register_buffer("relative_position_index", index, persistent=False)

    def relative_position_bias(self) -> Tensor:
        """(heads, w², w²) bias added to the attention logits."""
        n = self.window * self.window
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        return bias.view(n, n, self.heads).permute(2, 0, 1)

    def forward(
        self, x: Tensor, grid: tuple[int, int] | None = None, masks: tuple[Tensor, Tensor] | None = None
    ) -> Tensor:
        """x (N · nW, w², C) → (N · nW, w², C).

        ``masks`` (shifted windows) are the ``edge_masks`` of the window ``grid`` (nH, nW): only windows in
        the last row or column straddle the wrap-around of the cyclic shift, so only they are masked.
        """
        b, n, c = x.shape
        qkv = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B, heads, w², d)
        # plain softmax attention (on CPU this beats scaled_dot_product_attention with a float mask)
        attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
        attn.add_(self.relative_position_bias().to(attn.dtype))
        if masks is not None and grid is not None:
            per_window = attn.view(-1, *grid, self.heads, n, n)
            per_window[:, -1].add_(masks[0].unsqueeze(1).to(attn.dtype))
            per_window[:, :-1, -1].add_(masks[1].unsqueeze(1).to(attn.dtype))
        out = (attn.softmax(dim=-1) @ v).reshape(b, self.heads, n, c // self.heads)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


def edge_masks(h: int, w: int, window: int, shift: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """The non-zero part of ``shift_mask``: (nW_w, w², w²) for the last window row and (nH − 1, w², w²)
    for the rest of the last window column."""
    grid = (h // window, w // window)
    mask = shift_mask(h, w, window, shift, device).view(*grid, window**2, window**2)
    return mask[-1].contiguous(), mask[:-1, -1].contiguous()


class SwinBlock(nn.Module):
    """One Swin transformer block: (shifted) window attention and an MLP, each pre-norm and residual.

    Convention: x (N, H, W, C) with H, W multiples of ``window``; returns the same shape.
    """

    def __init__(self, dim: int, heads: int, window: int, shift: int, mlp_ratio: float) -> None:
        super().__init__()
        if not 0 <= shift < window:
            raise ValueError(f"SwinBlock: shift {shift} must be in [0, window={window})")
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self._masks: dict[tuple, tuple[Tensor, Tensor]] = {}

    def _edge_masks(self, h: int, w: int, device: torch.device) -> tuple[Tensor, Tensor]:
        key = (h, w, device)
        if key not in self._masks:
            self._masks = {key: edge_masks(h, w, self.window, self.shift, device)}
        return self._masks[key]

    def forward(self, x: Tensor) -> Tensor:
        n, h, w, c = x.shape
        if h % self.window or w % self.window:
            raise ValueError(f"SwinBlock: size {h}×{w} is not a multiple of the window {self.window}")
        grid = (h // self.window, w // self.window)
        y = self.norm1(x)
        masks = None
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
            masks = self._edge_masks(h, w, x.device)
        y = self.attn(window_partition(y, self.window), grid, masks)
        y = window_reverse(y, self.window, n, h, w)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + y
        return x + self.mlp(self.norm2(x))


class ResidualSwinGroup(nn.Module):
    """SwinIR's residual Swin transformer block (RSTB): ``depth`` Swin blocks alternating plain and shifted
    windows, a 3×3 conv, and a residual connection. Convention: x (N, C, H, W) → (N, C, H, W)."""

    def __init__(self, dim: int, depth: int, heads: int, window: int, shift: int, mlp_ratio: float) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            SwinBlock(dim, heads, window, shift if i % 2 else 0, mlp_ratio) for i in range(depth)
        )
        self.conv = nn.Conv2d(dim, dim, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        y = x.permute(0, 2, 3, 1)  # NHWC (free for channels_last input)
        for block in self.blocks:
            y = block(y)
        return self.conv(y.permute(0, 3, 1, 2)) + x


class SwinRestoration(nn.Module):
    """RTN's spatial restoration (``Swin_Spatial_2``): hidden state → residual Swin groups → hidden state.

    With ``down=2`` (the paper) a 3×3 conv to ``embed/2`` channels and a stride-2 4×4 conv to ``embed``
    channels lead into the groups, and nearest upsampling with a skip connection leads back out. With
    ``down=1`` the groups run at the hidden resolution; when ``embed == channels`` no in/out convs are
    needed and the whole block is residual.

    Convention: x (N, C, H, W) with H, W multiples of ``down · window``; returns (N, C, H, W).
    """

    def __init__(
        self,
        channels: int,
        embed: int,
        groups: int,
        depth: int,
        heads: int,
        window: int,
        shift: int,
        mlp_ratio: float,
        down: int = 1,
    ) -> None:
        super().__init__()
        if down not in (1, 2):
            raise ValueError(f"SwinRestoration: down must be 1 or 2, got {down}")
        self.down = down
        self.conv_first: nn.Module = nn.Identity()
        self.conv_down: nn.Module = nn.Identity()
        self.conv_last: nn.Module = nn.Identity()
        if down == 2:
            self.conv_first = nn.Conv2d(channels, embed // 2, 3, padding=1)
            self.conv_down = nn.Conv2d(embed // 2, embed, 4, stride=2, padding=1)
            self.conv_before_up = nn.Conv2d(embed, embed, 3, padding=1)
            self.conv_up = nn.Conv2d(embed, embed // 2, 3, padding=1)
            self.conv_last = nn.Conv2d(embed // 2, channels, 3, padding=1)
        elif embed != channels:
            self.conv_first = nn.Conv2d(channels, embed, 3, padding=1)
            self.conv_last = nn.Conv2d(embed, channels, 3, padding=1)
        self.groups = nn.ModuleList(
            ResidualSwinGroup(embed, depth, heads, window, shift, mlp_ratio) for _ in range(groups)
        )
        self.norm = nn.LayerNorm(embed)
        self.conv_after_body = nn.Conv2d(embed, embed, 3, padding=1)
        self.apply(_init_linear)

    def body(self, x: Tensor) -> Tensor:
        """The residual Swin groups at the embedding resolution: (N, E, h, w) → (N, E, h, w)."""
        y = x
        for group in self.groups:
            y = group(y)
        y = self.norm(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.conv_after_body(y) + x

    def forward(self, x: Tensor) -> Tensor:
        if self.down == 1:
            return self.conv_last(self.body(self.conv_first(x)))
        x1 = F.leaky_relu(self.conv_first(x), 0.2)
        y = self.body(self.conv_down(x1))
        y = F.leaky_relu(self.conv_before_up(y), 0.2)
        y = F.interpolate(y, scale_factor=2.0, mode="nearest")
        y = F.leaky_relu(self.conv_up(y) + x1, 0.2)
        return self.conv_last(y)


def _init_linear(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
