"""The interface every constraint backend implements, and the mask helper they share.

A `Constraint` is compiled once per grammar; `start()` gives a fresh `ConstraintState` per output.
The decode loop asks the state whether the greedy token is allowed *before* computing any mask:
with a well-prompted model it nearly always is, so the full-vocabulary mask is rarely needed.
"""

from __future__ import annotations

from typing import Protocol

import llama_cpp  # noqa: F401  (import order: llama_cpp before numpy)
import numpy as np


class ConstraintState(Protocol):
    """The matcher for one output in progress."""

    def accepts(self, token: int) -> bool:
        """Would `token` be allowed next? (Does not advance.)"""
        ...

    def advance(self, token: int) -> None:
        """Commit `token`; raises ConstraintViolation if it was not allowed."""
        ...

    def mask_logits(self, logits: np.ndarray) -> None:
        """Set the logit of every disallowed token to -inf, in place."""
        ...

    def forced_tokens(self) -> list[int]:
        """Tokens the grammar forces from here (fast-forward); empty if none or unsupported."""
        ...

    def is_finished(self) -> bool:
        """True when the output is complete and nothing but end-of-sequence may follow."""
        ...


class Constraint(Protocol):
    """A compiled grammar for one vocabulary."""

    backend: str

    def start(self) -> ConstraintState:
        """A fresh matcher at the start of the output."""
        ...


def apply_bitmask(logits: np.ndarray, bitmask: np.ndarray) -> None:
    """Mask `logits` in place with a little-endian bit-per-token int32 mask (1 = allowed)."""
    allowed = np.unpackbits(bitmask.view(np.uint8), bitorder="little")[: logits.shape[0]]
    logits[allowed == 0] = -np.inf
