"""Keras's image augmentation layers in PyTorch: written by Strata's `strata export --format pytorch`.

RandomFlip, RandomContrast, RandomTranslation, RandomZoom and RandomRotation take Keras's
arguments and act only in train(): in eval() they return their input. In train() each image's
transformation is drawn from the layer's torch.Generator, seeded with Keras's `seed` when the
layer has one (torch's global generator otherwise, which train.py seeds with --seed), and
applied by transform(), which takes the parameters explicitly (flips, contrast factors,
translations as fractions of the size, zooms, angles in radians).

The geometric layers compute what TensorFlow's ImageProjectiveTransformV3 (which Keras calls)
and Strata's engine compute: each output pixel's input coordinates through a per-image affine
map, folded back into the image by fill_mode (reflect, wrap and nearest as TensorFlow folds
them; constant reads fill_value outside), then a bilinear or nearest read. affine_grid and
grid_sample have neither TensorFlow's wrap nor a fill value, so this gathers with plain torch
ops; the gradient reaches the images through the gather.
"""
import math

import torch
from torch import nn

FLIP_MODES = ('horizontal', 'vertical', 'horizontal_and_vertical')
FILL_MODES = ('reflect', 'wrap', 'constant', 'nearest')
INTERPOLATIONS = ('bilinear', 'nearest')


def factor_range(factor):
    """Keras's factor: f stands for (-|f|, |f|), a pair (lower, upper) for itself."""
    if isinstance(factor, (tuple, list)):
        return float(factor[0]), float(factor[1])
    return -abs(float(factor)), abs(float(factor))


def fold_coordinates(v, length, fill_mode):
    """Where coordinates `v` along an axis of `length` pixels read from (TensorFlow's MapCoordinate):
    reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d), nearest (clamped) land in
    [0, length - 1]; constant leaves them as they are (reads outside give fill_value)."""
    if fill_mode == 'constant':
        return v
    if length <= 1 and fill_mode != 'nearest':
        return torch.zeros_like(v)
    if fill_mode == 'wrap':  # TensorFlow divides by length - 1 here, and shifts by length
        size = float(length - 1)
        below = v + length * (torch.trunc(-v / size) + 1)
        above = v - length * torch.trunc(v / size)
        v = torch.where(v < 0, below, torch.where(v > length - 1, above, v))
    elif fill_mode == 'reflect':
        size2 = 2.0 * length
        far = torch.where(v < -size2, size2 * torch.trunc(-v / size2) + v, v)
        below = torch.where(far < -length, far + size2, -far - 1)
        above = v - size2 * torch.trunc(v / size2)
        above = torch.where(above >= length, size2 - above - 1, above)
        v = torch.where(v < 0, below, torch.where(v > length - 1, above, v))
    return v.clamp(0, length - 1)


def round_half_away(v):
    """std::round, as TensorFlow's nearest read rounds (torch.round rounds halves to even)."""
    whole = torch.trunc(v)
    return whole + torch.sign(v) * ((v - whole).abs() >= 0.5).to(v.dtype)


def gather_pixels(images, rows, cols, fill_value):
    """images (n, h, w, c) read at integer rows, cols (n, h', w'): fill_value where outside."""
    n, h, w, c = images.shape
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    index = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).long().reshape(n, -1, 1).expand(-1, -1, c)
    values = images.reshape(n, h * w, c).gather(1, index).reshape(n, *rows.shape[1:], c)
    return torch.where(inside.unsqueeze(-1), values, values.new_full((), fill_value))


def affine_sample(images, maps, fill_mode='reflect', fill_value=0.0, interpolation='bilinear'):
    """images (n, h, w, c) resampled: output pixel (y, x) of image i reads the input at
    (a0 x + a1 y + a2, b0 x + b1 y + b2), maps[i] = (a0, a1, a2, b0, b1, b2)."""
    n, h, w, _ = images.shape
    ys = torch.arange(h, dtype=torch.float32, device=images.device).view(1, h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=images.device).view(1, 1, w)
    a0, a1, a2, b0, b1, b2 = (m.view(n, 1, 1) for m in maps.to(images.device, torch.float32).unbind(1))
    x = fold_coordinates(a0 * xs + a1 * ys + a2, w, fill_mode)
    y = fold_coordinates(b0 * xs + b1 * ys + b2, h, fill_mode)
    if interpolation == 'nearest':
        return gather_pixels(images, round_half_away(y), round_half_away(x), fill_value)
    x0, y0 = torch.floor(x), torch.floor(y)
    wx, wy = (x - x0).unsqueeze(-1).to(images.dtype), (y - y0).unsqueeze(-1).to(images.dtype)
    out = (1 - wy) * (1 - wx) * gather_pixels(images, y0, x0, fill_value)
    out = out + (1 - wy) * wx * gather_pixels(images, y0, x0 + 1, fill_value)
    out = out + wy * (1 - wx) * gather_pixels(images, y0 + 1, x0, fill_value)
    return out + wy * wx * gather_pixels(images, y0 + 1, x0 + 1, fill_value)


def rotation_maps(angles, h, w):
    """TensorFlow's get_rotation_matrix: rotations by `angles` (radians, counter-clockwise) about ((w - 1) / 2, (h - 1) / 2)."""
    c, s = torch.cos(angles), torch.sin(angles)
    w1, h1 = float(w - 1), float(h - 1)
    return torch.stack([c, -s, (w1 - (c * w1 - s * h1)) / 2, s, c, (h1 - (s * w1 + c * h1)) / 2], dim=1)


def zoom_maps(zoom_y, zoom_x, h, w):
    """TensorFlow's get_zoom_matrix: the input read zoom_x (zoom_y) times as wide (tall) about the center (> 1 zooms out)."""
    zero = torch.zeros_like(zoom_x)
    return torch.stack([zoom_x, zero, (w - 1) / 2 * (1 - zoom_x), zero, zoom_y, (h - 1) / 2 * (1 - zoom_y)], dim=1)


def translation_maps(dy, dx):
    """Shifts by (dy, dx) pixels: positive moves the image down and right."""
    zero, one = torch.zeros_like(dx), torch.ones_like(dx)
    return torch.stack([one, zero, -dx, zero, one, -dy], dim=1)


class Augmentation(nn.Module):
    """What the five share: the identity in eval(); in train(), draw() the batch's parameters from
    the layer's generator, then transform() with them. Images (batch, height, width, channels)."""

    def __init__(self, seed=None):
        super().__init__()
        self.seed = seed
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)

    def uniform(self, n, low, high):
        """n float32 draws from [low, high): low exactly when low == high."""
        low, high = torch.tensor([low, high], dtype=torch.float32).unbind()
        return low + (high - low) * torch.rand(n, generator=self.generator)

    def forward(self, x):
        if not self.training:
            return x
        return self.transform(x, *(p.to(x.device) for p in self.draw(x.shape)))

    # torch.Generator cannot be pickled or deep-copied: a copy carries the generator's state
    def __getstate__(self):
        state = self.__dict__.copy()
        generator = state.pop('generator')
        state['generator_state'] = None if generator is None else generator.get_state()
        return state

    def __setstate__(self, state):
        generator_state = state.pop('generator_state')
        super().__setstate__(state)
        self.generator = None if generator_state is None else torch.Generator().set_state(generator_state)


class RandomFlip(Augmentation):
    """Each image flipped left-right and/or up-down, each with probability 1/2."""

    def __init__(self, mode='horizontal_and_vertical', seed=None):
        super().__init__(seed)
        if mode not in FLIP_MODES:
            raise ValueError(f'mode must be one of {FLIP_MODES}, got {mode!r}')
        self.mode = mode
        self.horizontal, self.vertical = mode != 'vertical', mode != 'horizontal'

    def draw(self, shape):
        n = shape[0]
        coin = lambda on: torch.rand(n, generator=self.generator) < 0.5 if on else torch.zeros(n, dtype=torch.bool)  # noqa: E731
        return coin(self.horizontal), coin(self.vertical)

    def transform(self, x, flip_horizontal, flip_vertical):
        """flip_horizontal, flip_vertical: (batch,) booleans."""
        x = torch.where(flip_horizontal.to(x.device).view(-1, 1, 1, 1), x.flip(2), x)
        return torch.where(flip_vertical.to(x.device).view(-1, 1, 1, 1), x.flip(1), x)


class RandomContrast(Augmentation):
    """Each image's channels moved away from or toward their mean over the image,
    (x - mean) * c + mean with c drawn from [1 - lower, 1 + upper], clipped to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None):
        super().__init__(seed)
        lower, upper = factor if isinstance(factor, (tuple, list)) else (factor, factor)
        self.factor_range = (1.0 - lower, 1.0 + upper)
        self.value_range = tuple(value_range)

    def draw(self, shape):
        return (self.uniform(shape[0], *self.factor_range),)

    def transform(self, x, factors):
        """factors: (batch,) contrast factors."""
        mean = x.mean(dim=(1, 2), keepdim=True)
        return ((x - mean) * factors.to(x).view(-1, 1, 1, 1) + mean).clamp(*self.value_range)


class AffineAugmentation(Augmentation):
    """The geometric layers: each image resampled through its map (affine_sample)."""

    def __init__(self, fill_mode='reflect', interpolation='bilinear', seed=None, fill_value=0.0):
        super().__init__(seed)
        if fill_mode not in FILL_MODES or interpolation not in INTERPOLATIONS:
            raise ValueError(f'fill_mode must be one of {FILL_MODES} and interpolation one of {INTERPOLATIONS}, got {fill_mode!r}, {interpolation!r}')
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, float(fill_value)

    def sample(self, x, maps):
        return affine_sample(x, maps, self.fill_mode, self.fill_value, self.interpolation)


class RandomTranslation(AffineAugmentation):
    """Each image shifted by fractions of its height and width drawn from the factors' ranges."""

    def __init__(self, height_factor, width_factor, **keywords):
        super().__init__(**keywords)
        self.height_range, self.width_range = factor_range(height_factor), factor_range(width_factor)

    def draw(self, shape):
        return self.uniform(shape[0], *self.height_range), self.uniform(shape[0], *self.width_range)

    def transform(self, x, height_fractions, width_fractions):
        """height_fractions, width_fractions: (batch,) shifts as fractions of the height and width (positive: down, right)."""
        return self.sample(x, translation_maps(height_fractions.float() * x.shape[1], width_fractions.float() * x.shape[2]))


class RandomZoom(AffineAugmentation):
    """Each image zoomed by 1 + z, z drawn from height_factor's range (positive zooms out), the width
    by width_factor's, or by the height's zoom when it is None (the aspect ratio kept)."""

    def __init__(self, height_factor, width_factor=None, **keywords):
        super().__init__(**keywords)
        self.height_range = factor_range(height_factor)
        self.width_range = None if width_factor is None else factor_range(width_factor)

    def draw(self, shape):
        zoom_y = 1 + self.uniform(shape[0], *self.height_range)
        return zoom_y, zoom_y if self.width_range is None else 1 + self.uniform(shape[0], *self.width_range)

    def transform(self, x, zoom_y, zoom_x):
        """zoom_y, zoom_x: (batch,) zooms (1 + z: the input read that many times as tall, wide)."""
        return self.sample(x, zoom_maps(zoom_y.float(), zoom_x.float(), x.shape[1], x.shape[2]))


class RandomRotation(AffineAugmentation):
    """Each image rotated about its center by factor's range in fractions of a full turn (positive: counter-clockwise)."""

    def __init__(self, factor, **keywords):
        super().__init__(**keywords)
        lower, upper = factor_range(factor)
        self.angle_range = (lower * 2 * math.pi, upper * 2 * math.pi)

    def draw(self, shape):
        return (self.uniform(shape[0], *self.angle_range),)

    def transform(self, x, angles):
        """angles: (batch,) radians."""
        return self.sample(x, rotation_maps(angles.float(), x.shape[1], x.shape[2]))
