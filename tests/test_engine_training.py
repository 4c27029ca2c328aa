"""Two-stage training, the entity loss, determinism, cancellation, checkpoints and the scoring API."""
from __future__ import annotations

import threading

import pytest
import torch

from engine import relation_extraction as re_task
from engine.backbones import load_backbone
from engine.checkpoint import CheckpointError, load_checkpoint, read_meta, save_checkpoint
from engine.classifier import PromptClassifier
from engine.prompt import collate
from engine.training import TrainingCancelled
from engine.types import EntityText
from tests.engine_helpers import EXAMPLES, RELATIONS, tiny_config


def _snapshot(model) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.module.named_parameters()}


def test_stage_one_changes_only_the_prompt_rows():
    config = tiny_config(stage1_epochs=3, stage2_epochs=0, entity_loss=False, patience=10)
    model = re_task.build("knowco", RELATIONS, config, no_relation=False)
    before = _snapshot(model)
    re_task.fit(model, EXAMPLES, EXAMPLES, config)
    after = _snapshot(model)
    names = {id(p): n for n, p in model.module.named_parameters()}
    embedding = names[id(model.backbone.model.get_input_embeddings().weight)]
    bias = names[id(model.backbone.model.get_output_embeddings().bias)]
    row_sets = {embedding: model.prompt_rows(), bias: model.label_ids}
    for name in before:
        rows = torch.tensor(row_sets.get(name, []), dtype=torch.long)
        frozen = torch.ones(before[name].size(0), dtype=torch.bool)
        frozen[rows] = False
        assert torch.equal(before[name][frozen], after[name][frozen]), f"{name} changed outside the prompt rows"
    assert not torch.equal(before[embedding][torch.tensor(model.prompt_rows())],
                           after[embedding][torch.tensor(model.prompt_rows())]), "prompt rows trained"


def test_entity_loss_is_positive_and_trains_the_lm():
    config = tiny_config()
    model = PromptClassifier(load_backbone("splade-tiny"), RELATIONS, config)
    batch = collate([model.encode_sentence(x) for x in EXAMPLES[:4]], model.pad_id)
    model.module.train()
    loss = model.auxiliary_loss(batch, torch.Generator().manual_seed(0))
    assert loss.item() > 0
    loss.backward()
    layer = model.backbone.model.base_model.encoder.layer[0].attention.self.query.weight
    assert layer.grad is not None and layer.grad.abs().sum() > 0
    assert model.auxiliary_loss(collate([model.encode_sentence(EXAMPLES[0])], model.pad_id),
                                torch.Generator()) is not None
    assert PromptClassifier(load_backbone("splade-tiny"), RELATIONS, tiny_config(entity_loss=False)) \
        .auxiliary_loss(batch, torch.Generator()) is None


def _train(config):
    model = re_task.build("knowco", RELATIONS, config, no_relation=False)
    result = re_task.fit(model, EXAMPLES, EXAMPLES, config)
    return model, result


def test_training_is_deterministic_for_a_seed():
    first, first_result = _train(tiny_config())
    second, second_result = _train(tiny_config())
    assert [r.train_loss for r in first_result.history] == [r.train_loss for r in second_result.history]
    for (name, a), (_, b) in zip(first.module.named_parameters(), second.module.named_parameters()):
        assert torch.equal(a, b), name


def test_smoke_two_relations_four_examples_each_with_progress():
    seen = []
    config = tiny_config()
    model = re_task.build("knowco", RELATIONS, config, no_relation=False)
    result = re_task.fit(model, EXAMPLES, EXAMPLES, config, progress=lambda step, total, loss: seen.append((step, total)))
    assert seen and seen[-1][0] == seen[-1][1] == 8
    assert [r.stage for r in result.history] == ["stage1", "stage1", "stage2", "stage2"]
    metrics, _ = re_task.evaluate(model, EXAMPLES)
    assert set(metrics) == {"micro_f1", "accuracy"} and 0.0 <= metrics["accuracy"] <= 1.0
    distribution = model.relation_distribution(EXAMPLES[:2])
    assert set(distribution[0]) == {"treats", "causes"} and abs(sum(distribution[0].values()) - 1) < 1e-5


def test_a_pool_adds_its_sample_to_every_epoch():
    from engine.training import Pool, train

    config = tiny_config()
    model = re_task.build("knowco", RELATIONS, config, no_relation=False)
    items = [(model.encode_sentence(x), model.index[x.relation]) for x in EXAMPLES]
    seen = []
    train(model, items[:2], [], batch_size=2, eval_batch_size=8, patience=10, seed=0,
          evaluate=lambda logits, labels: 0.0, pool=Pool(items[2:], per_epoch=4),
          progress=lambda step, total, loss: seen.append(total))
    epochs = config.stage1_epochs + config.stage2_epochs
    assert seen[-1] == epochs * 3  # 2 labels + 4 drawn from the pool = 3 steps of 2 per epoch


def test_cancellation_stops_between_steps():
    flag = threading.Event()
    config = tiny_config()
    model = re_task.build("knowco", RELATIONS, config, no_relation=False)

    def progress(step, total, loss):
        if step == 2:
            flag.set()

    with pytest.raises(TrainingCancelled, match="step 2 of 8"):
        re_task.fit(model, EXAMPLES, EXAMPLES, config, progress=progress, cancel=flag)


@pytest.mark.parametrize("method", ["knowco", "finetune"])
def test_checkpoint_round_trip_gives_the_same_scores(tmp_path, method):
    config = tiny_config(stage1_epochs=1, stage2_epochs=1)
    model = re_task.build(method, RELATIONS, config, no_relation=True)
    re_task.fit(model, EXAMPLES, EXAMPLES, config)
    items = [model.encode_sentence(x) for x in EXAMPLES]
    expected = model.probabilities(items)
    path = save_checkpoint(model, tmp_path / "v1", metrics={"micro_f1": 0.5})
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no staging folder left behind"
    loaded = load_checkpoint(path)
    assert torch.allclose(loaded.probabilities([loaded.encode_sentence(x) for x in EXAMPLES]), expected, atol=1e-6)
    assert read_meta(path)["metrics"] == {"micro_f1": 0.5} and read_meta(path)["backbone"] == "splade-tiny"
    save_checkpoint(model, path)
    assert load_checkpoint(path).classes == model.classes


def test_incomplete_checkpoint_is_refused(tmp_path):
    (tmp_path / "broken").mkdir()
    with pytest.raises(CheckpointError, match="not a KnowCo checkpoint"):
        load_checkpoint(tmp_path / "broken")


def test_link_prediction_scoring_api():
    model = PromptClassifier(load_backbone("splade-tiny"), RELATIONS, tiny_config())
    aspirin, pain, fever = (EntityText(n, n, f"{n} is a word") for n in ("aspirin", "pain", "fever"))
    probabilities = model.triple_probability([(aspirin, "treats", pain), (aspirin, "causes", pain)])
    assert abs(sum(probabilities) - 1.0) < 1e-5
    top = model.top_tails(aspirin, "treats", [pain, fever], k=1)
    assert len(top) == 1 and top[0][0] in {"pain", "fever"}
    assert {name for name, _ in model.top_heads(pain, "treats", [aspirin, fever])} == {"aspirin", "fever"}


def test_a_retrain_takes_the_cores_the_machine_s_load_leaves_free():
    from engine.backbones import threads_for_load

    assert threads_for_load(2, 0.1) == 2
    assert threads_for_load(2, 1.0) == 1  # another process keeps one core busy: one thread, not two fighting
    assert threads_for_load(2, 5.9) == 1
    assert threads_for_load(16, 3.2) == 13


def test_the_busy_cores_are_measured_while_this_process_waits():
    from engine.backbones import busy_cores

    assert 0.0 <= busy_cores(2, window_s=0.05) <= 2.0 + 1e-9
