"""Sentences of the curator's corpus that mention both entities of an accepted fact, as training examples
(distant supervision, Mintz et al. 2009): the facts a KG already holds say which relation such a sentence most
likely states, and which way round. Eight labelled sentences per relation cannot teach a model whether "the
flu was caused by a virus" makes the virus or the flu the cause; the corpus's hundreds of sentences about known
facts can.

A mention pair whose entities hold more than one relation that way round is left out (the sentence could state
either), and so are pairs the caller holds out (their facts measure the run, so their sentences must not train
it). The reverse order of each example is added later, with the labels' (`engine.queue.direction`).
"""
from __future__ import annotations

import random
from collections import defaultdict
from typing import Iterable, Sequence

from engine.mention_index import MentionIndex
from engine.text_candidates import MAX_MENTIONS_PER_SENTENCE
from engine.types import SentenceExample

Triple = tuple[str, str, str]
#: at most this many examples are kept (a seeded sample); each epoch draws its own few from them
MAX_FACT_SENTENCES = 50_000


def fact_sentences(sentences: Iterable[tuple[int, Sequence[str]]], index: MentionIndex, facts: Iterable[Triple],
                   skip: set[frozenset[str]] = frozenset(), seed: int = 0, limit: int = MAX_FACT_SENTENCES
                   ) -> list[SentenceExample]:
    """One example per sentence and ordered mention pair `(head, tail)` that is an accepted fact's pair and
    whose two entities are not a pair in `skip` (either way round)."""
    relations: dict[tuple[str, str], set[str]] = defaultdict(set)
    for head, relation, tail in facts:
        relations[(head, tail)].add(relation)
    rng = random.Random(seed)
    kept: list[SentenceExample] = []
    seen = 0
    for _, tokens in sentences:
        mentions = index.find(tokens)[:MAX_MENTIONS_PER_SENTENCE]
        words = None
        for head in mentions:
            for tail in mentions:
                stated = relations.get((head.entity, tail.entity)) if head.entity != tail.entity else None
                if not stated or len(stated) != 1 or frozenset((head.entity, tail.entity)) in skip:
                    continue
                words = words or tuple(tokens)
                example = SentenceExample(words, (head.start, head.end), (tail.start, tail.end), next(iter(stated)))
                seen += 1
                # reservoir sampling: a uniform sample of `limit` however big the corpus, in bounded memory
                if len(kept) < limit:
                    kept.append(example)
                elif (slot := rng.randrange(seen)) < limit:
                    kept[slot] = example
    return kept
