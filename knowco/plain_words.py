"""Figures in a curator's words: what a number means for them ("right about 6 times in 10 on the 48 items it did
not learn from"), so that the pages and the command line say the same thing; the technical names (accuracy,
micro-F1, held-out items) stay in the admins' details."""
from __future__ import annotations

from typing import Optional


def times_in_ten(share: float) -> str:
    """0.62 → 'about 6 times in 10'; the ends say what they mean."""
    tenths = round(share * 10)
    if share >= 0.995:
        return "every time"
    if share <= 0.005:
        return "never"
    if tenths == 10:
        return "nearly every time"
    if tenths == 0:
        return "almost never"
    return f"about {tenths} time{'s' if tenths != 1 else ''} in 10"


def quality_words(accuracy: Optional[float], items: int, source: str = "labels") -> str:
    """How often a version was right where it could be checked, or why that cannot be said; `source` says what
    was kept aside where it was not labels alone (facts say how well it knows the KG, not what is missing)."""
    if accuracy is None or not items:
        return "not checked: nothing could be kept aside to check it on"
    if source == "cross-validation":  # nothing was kept aside from the version itself: it learned from every label
        return (f"right {times_in_ten(accuracy)} in {items} checks of its labels, each label (with its reverse and "
                "made-up wrong triples) checked by a model trained without it")
    kept = {"facts": " (facts of your KG and made-up wrong ones, no label)"}.get(source, "")
    return (f"right {times_in_ten(accuracy)} on the {items} item{'s' if items != 1 else ''}{kept} kept aside from "
            "its training")


def checked_items(items: int, source: str) -> str:
    """What a version was checked on, in a few words: "40 items kept aside" or, where every label trained it,
    "120 checks of a cross-validation" (a trial's Train page said "120 held-out items" beside "48 labels" and
    "the version learned from every label")."""
    return f"{items} checks of a cross-validation" if source == "cross-validation" else f"{items} items kept aside"


def found_words(micro_f1: Optional[float]) -> str:
    """Micro-F1 as what it means for a curator: how well the model finds the relations the items state."""
    if micro_f1 is None:
        return ""
    return f"finds the stated relations {times_in_ten(micro_f1)} (counting misses and false finds alike)"
