"""Small display helpers: curator text is always shown as text, and errors as one sentence, never a traceback."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Callable, Iterator

import streamlit as st

from knowco.services import CURATOR_ERRORS, report_internal

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def md(text: object) -> str:
    """`text` escaped for st.markdown, so names like `<img ...>` or `**x**` show exactly as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def reason_words(reason: str) -> str:
    """A reject reason as a curator reads it ("false" is the stored, exported name of "it does not hold")."""
    return "it does not hold" if reason == "false" else reason


@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Run a curator's action: known problems become their own sentence, anything else a short apology (the
    traceback goes to the server log, never to the page)."""
    try:
        yield
    except CURATOR_ERRORS as exc:
        st.error(f"Could not {what}: {exc}", icon=":material/error:")
    except Exception as exc:
        st.error(f"Could not {what}: {report_internal(exc, what)}; please report it.", icon=":material/bug_report:")


#: tokens written against the word before them ("cause ." reads "cause.")
CLOSING = {".", ",", ";", ":", "!", "?", ")", "]", "}", "%", "'s", "n't", "'re", "'ve", "'ll", "'d", "'m"}
#: tokens written against the word after them
OPENING = {"(", "[", "{"}


def marked_sentence(tokens: list[str], head: tuple[int, int], tail: tuple[int, int]) -> str:
    """The sentence as markdown, the head mention in bold and the tail mention in italics (the rest escaped): a
    word that occurs twice is not ambiguous, and which is the head is plain. Sentences are stored as tokens so
    that spans cannot drift; they are shown with punctuation against its word, as they were written."""
    words = [md(w) for w in tokens]
    for (start, end), mark in ((head, "**"), (tail, "_")):
        words[start] = mark + words[start]
        words[end - 1] = words[end - 1] + mark
    text = words[0] if words else ""
    for i, (before, token, word) in enumerate(zip(tokens, tokens[1:], words[1:]), start=1):
        text += word if token in CLOSING or before in OPENING or _in_plus_run(tokens, i) else " " + word
    return text


def _in_plus_run(tokens: list[str], i: int) -> bool:
    """Whether token `i` is one of two or more "+" written against the word before ("C++", which the tokenizer
    cuts into "C", "+", "+"; a curator's trial read "C + +" on every card), unlike the "+" of "a + b"."""
    return tokens[i] == "+" and (tokens[i - 1] == "+" or (i + 1 < len(tokens) and tokens[i + 1] == "+"))


def flash(message: str, icon: str = ":material/check:") -> None:
    """A message that survives the rerun an action triggers."""
    st.session_state.setdefault("_flash", []).append((message, icon))


def act(what: str, action: Callable[[], str]) -> None:
    """Do a curator's action, say what it did after the rerun it triggers (or why it could not be done)."""
    with guarded(what):
        flash(action())
        st.rerun()


def show_flashes() -> None:
    for message, icon in st.session_state.pop("_flash", []):
        st.toast(message, icon=icon)
