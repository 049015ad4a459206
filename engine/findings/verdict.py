"""The headline: the most important finding, said about the whole run in one sentence."""

from __future__ import annotations

from . import Finding
from .facts import Facts


def headline(facts: Facts, found: list[Finding]) -> str:
    """``found`` is most important first (``find``); the headline is its first finding,
    prefixed with what ran and how long it took."""
    if facts.n == 0:
        return (
            "Stopped before any request finished."
            if facts.record.stopped
            else ("Nothing finished: no request got an answer.")
        )
    if not found:
        return f"{facts.lead}."
    return f"{facts.lead}: {found[0].sentence}."


def listed(found: list[Finding]) -> list[str]:
    """The findings under the headline, as the window and the text summary list them."""
    return [f"{f.sentence[:1].upper()}{f.sentence[1:]}." for f in found[1:]]
