"""The e5-small (BERT-style, post-norm) encoder's forward pass in numpy float32, on a padded batch.

Embeddings (word + position + type 0, then layer norm), then each layer: self-attention whose keys are
limited to the real tokens of the row, residual and layer norm, a GELU feed-forward, residual and layer
norm. The matrix products go to numpy's BLAS, which uses as many threads as it is allowed.
"""

from __future__ import annotations

import numpy as np

from bot.search.encoder.weights import Layer, Weights

# Abramowitz and Stegun 7.1.26: erf within 1.5e-7, finer than float32 needs here.
ERF_P = np.float32(0.3275911)
ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))
SQRT_HALF = np.float32(0.7071067811865476)


def forward(weights: Weights, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Final hidden states [batch, length, hidden] of token ids [batch, length]; `mask` [batch, length] is True
    on real tokens. Padded rows hold numbers that mean nothing; real ones do not depend on the padding."""
    config = weights.config
    batch, length = ids.shape
    if length > config.max_positions:
        raise ValueError(f"{length} tokens, the model reads at most {config.max_positions}")
    x = weights.word_rows(ids)
    x += weights.positions[:length]
    x += weights.token_type
    x = x.reshape(batch * length, config.hidden)
    _layer_norm(x, *weights.embedding_norm, config.eps)
    bias = np.where(mask, np.float32(0.0), np.float32(-np.inf)).astype(np.float32)[:, None, None, :]
    for layer in weights.layers:
        x = _layer(layer, x, bias, batch, config.heads, config.eps)
    return x.reshape(batch, length, config.hidden)


def _layer(layer: Layer, x: np.ndarray, bias: np.ndarray, batch: int, heads: int, eps: float) -> np.ndarray:
    """One encoder layer on x [batch * length, hidden]."""
    tokens, hidden = x.shape
    length, size = tokens // batch, hidden // heads
    qkv = x @ layer.qkv_w.T
    qkv += layer.qkv_b
    q, k, v = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)  # each [batch, heads, L, size]
    scores = q @ k.transpose(0, 1, 3, 2)
    scores *= np.float32(1.0 / np.sqrt(size))
    scores += bias
    _softmax(scores)
    context = (scores @ v).transpose(0, 2, 1, 3).reshape(tokens, hidden)
    attended = context @ layer.out_w.T
    attended += layer.out_b
    attended += x
    _layer_norm(attended, *layer.attn_norm, eps)
    middle = attended @ layer.ffn_in_w.T
    middle += layer.ffn_in_b
    _gelu(middle)
    out = middle @ layer.ffn_out_w.T
    out += layer.ffn_out_b
    out += attended
    _layer_norm(out, *layer.ffn_norm, eps)
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> None:
    """Normalise each row of x in place to zero mean and unit variance, then scale and shift."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.mean(np.square(x), axis=-1, keepdims=True)
    x *= 1.0 / np.sqrt(variance + np.float32(eps))
    x *= weight
    x += bias


def _softmax(x: np.ndarray) -> None:
    """Softmax over the last axis, in place (a row of -inf but one finite value is fine)."""
    x -= x.max(axis=-1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)


def _gelu(x: np.ndarray) -> None:
    """GELU with the exact erf form, in place: x * (1 + erf(x / sqrt 2)) / 2."""
    z = x * SQRT_HALF
    a = np.abs(z)
    t = a * ERF_P
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = ERF_A[0] * t
    for coefficient in ERF_A[1:]:
        poly += coefficient
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a  # 1 - erf(|z|)
    np.subtract(np.float32(1.0), poly, out=poly)
    np.copysign(poly, z, out=poly)  # erf(z)
    poly += np.float32(1.0)
    x *= poly
    x *= np.float32(0.5)
