"""Label words, template rows and the restriction of the MLM head to label tokens."""
from __future__ import annotations

import pytest
import torch

from engine.backbones import load_backbone
from engine.classifier import PromptClassifier
from engine.label_words import LabelWordError
from engine.prompt import collate
from engine.template import TEMPLATE_WORDS
from engine.verbalizer import with_no_relation
from engine.types import RelationSpec, SentenceExample
from engine.vocabulary import word_piece_ids
from tests.engine_helpers import EXAMPLES, RELATIONS, tiny_config

DIRECTED = [RelationSpec("Cause-Effect(e1,e2)", "cause to effect"), RelationSpec("Cause-Effect(e2,e1)", "effect from cause")]


@pytest.fixture(scope="module")
def pristine():
    """The unmodified backbone, to compare prompt rows against."""
    return load_backbone("splade-tiny")


def test_label_rows_are_the_mean_of_real_sub_tokens(pristine):
    model = PromptClassifier(load_backbone("splade-tiny"), with_no_relation(DIRECTED), tiny_config())
    original = pristine.model.get_input_embeddings().weight
    rows = model.backbone.model.get_input_embeddings().weight
    for spec, row in zip(model.classes, model.label_ids):
        pieces = word_piece_ids(pristine.tokenizer, spec.words)
        assert pristine.tokenizer.pad_token_id not in pieces and pieces
        assert torch.allclose(rows[row], original[pieces].mean(0))
    first, second = model.label_ids[:2]
    assert not torch.allclose(rows[first], rows[second]), "the two directions start different"
    for word, row in zip(TEMPLATE_WORDS, model.template_ids):
        assert torch.allclose(rows[row], original[word_piece_ids(pristine.tokenizer, word)].mean(0))


def test_prompt_rows_are_unused_vocabulary_rows():
    model = PromptClassifier(load_backbone("splade-tiny"), RELATIONS, tiny_config())
    tokens = model.backbone.tokenizer.convert_ids_to_tokens(model.template_ids + model.label_ids)
    assert all(t.startswith("[unused") for t in tokens)
    assert len(model.backbone.tokenizer) == 30522


def test_identical_label_words_are_refused():
    with pytest.raises(LabelWordError, match="same embedding"):
        PromptClassifier(load_backbone("splade-tiny"),
                         [RelationSpec("a", "cause effect"), RelationSpec("b", "effect cause")], tiny_config())


def test_random_label_init_ignores_the_words(pristine):
    model = PromptClassifier(load_backbone("splade-tiny"), RELATIONS, tiny_config(label_init="random"))
    rows = model.backbone.model.get_input_embeddings().weight
    words_mean = pristine.model.get_input_embeddings().weight[word_piece_ids(pristine.tokenizer, "treats")].mean(0)
    assert not torch.allclose(rows[model.label_ids[0]], words_mean)


def test_logits_are_the_mlm_head_restricted_to_label_tokens():
    model = PromptClassifier(load_backbone("splade-tiny"), RELATIONS, tiny_config())
    batch = collate([model.encode_sentence(x) for x in EXAMPLES[:3]], model.pad_id)
    model.module.eval()
    with torch.no_grad():
        full = model.backbone.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
        at_mask = full[torch.arange(3), batch.mask_positions]
        assert torch.allclose(model.logits(batch), at_mask[:, model.label_ids], atol=1e-5)
    assert model.logits(batch).shape == (3, len(RELATIONS))


def test_mask_sits_between_the_template_tokens():
    model = PromptClassifier(load_backbone("splade-tiny"), RELATIONS, tiny_config())
    encoded = model.encode_sentence(SentenceExample(tuple("coffee relieves pain".split()), (0, 1), (2, 3), "treats"))
    tokens = model.backbone.tokenizer.convert_ids_to_tokens(encoded.input_ids)
    t1, t2, t3 = model.backbone.tokenizer.convert_ids_to_tokens(model.template_ids)
    assert tokens[encoded.mask_position] == "[MASK]"
    assert tokens[encoded.mask_position - 3 : encoded.mask_position + 3] == ["coffee", t1, t2, "[MASK]", t3, "pain"]
    assert [tokens[s:e] for s, e in encoded.entity_spans] == [["coffee"], ["pain"]]


def test_fixed_template_uses_the_real_words():
    model = PromptClassifier(load_backbone("splade-tiny"), RELATIONS, tiny_config(adaptive_template=False))
    assert model.backbone.tokenizer.convert_ids_to_tokens(model.template_ids) == list(TEMPLATE_WORDS)
    assert model.prompt_rows() == model.label_ids
