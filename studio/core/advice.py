"""Advice for a learner when training fails: one message and one thing to try, for the GUI and the command line.

An exception raised while training (or by any job) and a fit that ends in a way that is a failure for the
learner (the loss became NaN) both get advice here, so the window and ``studio train`` say the same thing.
Rules are tried in order; the first that matches gives the hint. A rule is a predicate over the exception
plus the hint, so adding a new case is one ``register`` line, not another ``elif``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from studio.core.errors import StudioError
from studio.core.events import FitEnd
from studio.core.registry import Registry
from studio.core.vocab import EndReason

BUG_HINT = "This is a bug in Training Studio. Please report it together with your project file."


@dataclass(frozen=True)
class AdviceRule:
    """``matches(exc)`` decides whether ``hint`` applies to the exception."""

    name: str
    matches: Callable[[BaseException], bool]
    hint: str


RULES: Registry[AdviceRule] = Registry("advice rule")


def register(name: str, matches: Callable[[BaseException], bool], hint: str) -> None:
    """Add a rule after the others; names are unique so a rule cannot silently shadow another."""
    RULES.register(name, AdviceRule(name, matches, hint))


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__} {exc}".lower()


# Fits that end "normally" for the engine but are a failure for the learner, by FitEnd.reason.
FIT_END_HINTS: dict[EndReason, str] = {
    EndReason.NON_FINITE: "The loss became NaN or infinite: training diverged. Try a lower learning rate or add "
                          "normalisation.",
}

register(
    "out_of_memory",
    lambda exc: isinstance(exc, MemoryError) or "out of memory" in _text(exc) or "outofmemory" in _text(exc),
    "The computer ran out of memory. Try a smaller batch size, fewer or smaller layers, or a smaller dataset.",
)
register(
    "non_finite",
    lambda exc: any(word in _text(exc) for word in ("non-finite", "nonfinite", " nan", "infinite", "diverg")),
    FIT_END_HINTS[EndReason.NON_FINITE],
)
register(
    "shape",
    lambda exc: not isinstance(exc, StudioError) and "shape" in _text(exc) and "mismatch" in _text(exc),
    "Two layers do not fit together. Check the shapes column of the layer stack.",
)


def hint_for(exc: BaseException) -> str:
    """The first matching rule's hint, or "" when no rule knows the exception."""
    return next((rule.hint for _, rule in RULES.items() if rule.matches(exc)), "")


def is_bug(exc: BaseException) -> bool:
    """True when ``exc`` is neither a user error nor a failure a rule explains: the studio itself is at fault."""
    return not isinstance(exc, StudioError) and not hint_for(exc)


def explain(exc: BaseException) -> tuple[str, str]:
    """``(message, what_to_try)`` for ``exc``; user errors keep their own message, bugs say so."""
    if is_bug(exc):
        return f"internal error ({type(exc).__name__}: {exc})", BUG_HINT
    return str(exc) or type(exc).__name__, hint_for(exc)


def end_advice(end: FitEnd) -> str:
    """What to try after a fit that ended as a failure for the learner (a diverged loss); "" otherwise."""
    return FIT_END_HINTS.get(end.reason, "")
