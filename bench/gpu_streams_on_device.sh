#!/bin/bash
# Issue 15's remaining ingredients in one call on a lent GPU, on validation people of the training side: multi-stream late
# ensembles (bench/ablate_streams.py) and the default recipe on twice the frames (bench/ablate_recipe.py combined_frames64);
# and the GPU configuration through the command line (prism train --config gpu --device cuda, without and with DP).
# Prepare here (the raw UTD-MHAD and MSR Action3D skeletons and JHMDB's packed poses travel; the data is not committed):
#
#   mkdir -p .gpu/data .gpu/arrays_j && cp -r $PRISM_DATA/utd_mhad $PRISM_DATA/msr_action3d .gpu/data/
#   python bench/sweep_device.py pack --out .gpu/arrays --datasets utd msr jhmdb && cp .gpu/arrays/jhmdb.npz .gpu/arrays_j/
#   (device) bash bench/gpu_streams_on_device.sh     # carry .gpu/data, .gpu/arrays_j and .whl; files come back in $OUT/streams.tgz
#   tar xzf streams.tgz -C results/benchmarks/tune && python bench/ablate_streams.py summary
#   python bench/ablate_recipe.py summary --runs results/benchmarks/tune/gpu_ablation --out results/benchmarks/gpu_ablation.csv
#
# A: seconds after which no run starts (default 200); B: when every process is stopped (360).
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }; left() { local x=$(( $1 - $(el) )); [ $x -lt 1 ] && x=1; echo $x; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PRISM_DATA=$PWD/.gpu/data PRISM_CACHE=/tmp/prism_cache
G=.gpu/out2; mkdir -p $G/streams $G/gpu_ablation $G/logs
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
run() { local log=$1; shift; timeout $(left ${B:-360}) "$@" > $G/logs/$log.log 2>&1 & }
for ds in utd msr jhmdb; do
  run s_${ds}_f0 python3 bench/ablate_streams.py run --arrays .gpu/arrays_j --out $G/streams --device cuda --deadline $(left ${A:-200}) --datasets $ds --streams fused --seeds 0 1 2
  run s_${ds}_f1 python3 bench/ablate_streams.py run --arrays .gpu/arrays_j --out $G/streams --device cuda --deadline $(left ${A:-200}) --datasets $ds --streams fused --seeds 3 4 5
  for st in pos vel bone; do
    run s_${ds}_$st python3 bench/ablate_streams.py run --arrays .gpu/arrays_j --out $G/streams --device cuda --deadline $(left ${A:-200}) --datasets $ds --streams $st
  done
done
for ds in utd msr; do
  run f64_$ds python3 bench/ablate_recipe.py run --out $G/gpu_ablation --device cuda --deadline $(left ${A:-200}) --datasets $ds --variants combined_frames64
done
(timeout 150 python3 -m prism.cli train --dataset msr --config gpu --device cuda --epochs 3 --out /tmp/cli \
 && timeout 150 python3 -m prism.cli train --dataset msr --config gpu --device cuda --epochs 2 --epsilon 8 --out /tmp/cli_dp) > $G/logs/cli.log 2>&1 &
wait
grep -v Warn $G/logs/cli.log | tail -12
grep -h "acc\|deadline\|Error" $G/logs/s_*.log $G/logs/f64_*.log
echo "end at $(el) s"
tar czf $OUT/streams.tgz -C $G streams gpu_ablation logs
