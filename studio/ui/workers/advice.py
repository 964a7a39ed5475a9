"""Turn an exception raised by a worker job into a message and a hint a learner can act on.

Rules are tried in order; the first that matches gives the hint. A rule is a predicate over the
exception plus the hint, so adding a new case is one ``register`` line, not another ``elif``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from studio.core.errors import StudioError


@dataclass(frozen=True)
class AdviceRule:
    """``matches(exc)`` decides whether ``hint`` applies to the exception."""

    name: str
    matches: Callable[[BaseException], bool]
    hint: str


RULES: list[AdviceRule] = []


def register(name: str, matches: Callable[[BaseException], bool], hint: str) -> None:
    """Add a rule; names are unique so a rule cannot silently shadow another."""
    if any(rule.name == name for rule in RULES):
        raise ValueError(f"advice rule {name!r} is already registered")
    RULES.append(AdviceRule(name, matches, hint))


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__} {exc}".lower()


# Fits that end "normally" for the engine but need the learner's attention, by FitEnd.reason.
FIT_END_HINTS: dict[str, str] = {
    "non_finite": "The loss became NaN or infinite: training diverged. Try a lower learning rate or add normalisation.",
}

register(
    "out_of_memory",
    lambda exc: isinstance(exc, MemoryError) or "out of memory" in _text(exc) or "outofmemory" in _text(exc),
    "The computer ran out of memory. Try a smaller batch size, fewer or smaller layers, or a smaller dataset.",
)
register(
    "non_finite",
    lambda exc: any(word in _text(exc) for word in ("non-finite", "nonfinite", " nan", "infinite", "diverg")),
    FIT_END_HINTS["non_finite"],
)
register(
    "shape",
    lambda exc: not isinstance(exc, StudioError) and "shape" in _text(exc) and "mismatch" in _text(exc),
    "Two layers do not fit together. Check the shapes column of the layer stack.",
)


def explain(exc: BaseException) -> tuple[str, str]:
    """``(message, what_to_try)`` for ``exc``; user errors keep their own message, bugs say so."""
    hint = next((rule.hint for rule in RULES if rule.matches(exc)), "")
    if isinstance(exc, StudioError) or hint:
        return str(exc) or type(exc).__name__, hint
    message = f"internal error ({type(exc).__name__}: {exc})"
    return message, "This is a bug in Training Studio. Please report it together with your project file."
