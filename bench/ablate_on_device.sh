#!/bin/bash
# Issue 15's ingredient ablation (bench/ablate_recipe.py) on a lent GPU: every variant x dataset x 3 seeds of the ST-GCN,
# and the LSTM's baseline beside it, on validation people of the training side; several processes share the GPU.
# Prepare here (with the data), then run there:
#
#   PRISM_DATA=/path/to/data python bench/sweep_device.py pack --out .gpu/arrays --datasets utd msr jhmdb
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 -d .whl opacus==1.6.0
#   (device) bash bench/ablate_on_device.sh     # carry .gpu and .whl; the run files come back in $OUT/ablation.tgz
#   tar xzf ablation.tgz -C results/benchmarks/tune && python bench/ablate_recipe.py summary
#
# DEADLINE: seconds after which no new run starts (default 420); KILL: hard stop of each process (default 540 s).
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, opacus, prism.experiments; print('torch', torch.__version__, 'opacus', opacus.__version__, torch.cuda.is_available())" || exit 1
mkdir -p .gpu/ablation .gpu/logs
i=0
for ds in utd msr jhmdb; do
  for vs in "baseline warmup5" "label_smoothing rotate45" "rotate60 learned_topology" "wide epochs150" "deep"; do
    i=$((i+1))
    timeout ${KILL:-540} python3 bench/ablate_recipe.py run --arrays .gpu/arrays --out .gpu/ablation --device cuda --deadline ${DEADLINE:-420} \
      --datasets $ds --variants $vs > .gpu/logs/a$i.log 2>&1 &
  done
  i=$((i+1))
  timeout ${KILL:-540} python3 bench/ablate_recipe.py run --arrays .gpu/arrays --out .gpu/ablation --device cuda --deadline ${DEADLINE:-420} \
    --datasets $ds --kind lstm --variants baseline > .gpu/logs/a$i.log 2>&1 &
done
wait
grep -h "acc\|deadline\|Error\|error" .gpu/logs/a*.log | grep -v Warning | tail -100
find .gpu/ablation -name "*.json" | wc -l
tar czf $OUT/ablation.tgz -C .gpu ablation && tar czf $OUT/logs.tgz -C .gpu logs
