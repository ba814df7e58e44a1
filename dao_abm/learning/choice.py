"""Random choices among options, shared by the rules: softmax and epsilon-greedy draws."""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis, proportional to exp(``logits``)."""
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_softmax(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(...)`` one index per row drawn with probability softmax(``logits`` ``(..., O)``)."""
    return sample(softmax(logits), rng)


def sample(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(...)`` one index per row drawn from ``probabilities`` ``(..., O)`` (one uniform per
    row, inverse CDF)."""
    cdf = np.cumsum(probabilities, axis=-1)
    u = rng.random(cdf.shape[:-1])[..., None] * cdf[..., -1:]
    return np.minimum((cdf <= u).sum(axis=-1), probabilities.shape[-1] - 1)


def greedy(q: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(...)`` an index of the largest entry of each row of ``q`` ``(..., O)``, ties drawn
    uniformly at random."""
    noise = rng.random(q.shape)
    return np.where(q == q.max(axis=-1, keepdims=True), noise, -1.0).argmax(axis=-1)


def epsilon_greedy(q: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """``(...)`` with probability ``epsilon`` a uniformly random index, else ``greedy``."""
    best = greedy(q, rng)
    explore = rng.random(q.shape[:-1]) < epsilon
    return np.where(explore, rng.integers(q.shape[-1], size=q.shape[:-1]), best)
