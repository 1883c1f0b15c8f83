#!/bin/bash
# Issue 15's GPU configuration (bench/gpu_config.py) in one call on a lent GPU: the device's epoch times (and a smoke test),
# the candidates on validation people of every dataset (3 seeds, several processes sharing the GPU), the choice, the test runs.
# Prepare here (with the data), then run there:
#
#   PRISM_DATA=/path/to/data python bench/sweep_device.py pack --out .gpu/arrays --datasets utd msr jhmdb
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 -d .whl opacus==1.6.0
#   (device) bash bench/gpu_config_on_device.sh        # carry .gpu/arrays and .whl; everything comes back in $OUT/gpu.tgz
#   tar xzf gpu.tgz -C results/benchmarks && python bench/gpu_config.py summary
#
# A: seconds after which no validation run starts (default 250); B: when the validation processes are stopped (380);
# END: when the test processes are stopped (555). Whatever finished comes back, also when a phase runs out of time.
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }; left() { local x=$(( $1 - $(el) )); [ $x -lt 1 ] && x=1; echo $x; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
G=.gpu/out; mkdir -p $G/tune/gpu_ablation $G/gpu_runs $G/logs
pack() { tar czf $OUT/gpu.tgz -C $G tune gpu_runs gpu_epoch_times.json logs 2>/dev/null; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
timeout 150 python3 bench/gpu_config.py epoch-times --arrays .gpu/arrays --out $G/gpu_epoch_times.json --device cuda 2>&1 | tee $G/logs/epoch_times.log | grep -v Warn
[ -f $G/gpu_epoch_times.json ] || { echo "SMOKE FAILED at $(el) s"; tail -30 $G/logs/epoch_times.log; pack; exit 1; }
echo "phase A at $(el) s"
for ds in utd msr jhmdb; do
  for v in combined combined_wide combined_deep combined_epochs150; do
    timeout $(left ${B:-380}) python3 bench/ablate_recipe.py run --arrays .gpu/arrays --out $G/tune/gpu_ablation --device cuda \
      --deadline $(left ${A:-250}) --datasets $ds --variants $v > $G/logs/val_${ds}_$v.log 2>&1 &
  done
done
wait
grep -h "acc\|deadline\|Error" $G/logs/val_*.log
pack
V=$(python3 bench/gpu_config.py choose --runs $G/tune/gpu_ablation); V=${V:-combined}
echo "phase B at $(el) s: chosen $V"
for ds in utd msr jhmdb; do for s in 0 1 2; do
  timeout $(left ${END:-555}) python3 bench/gpu_config.py test --arrays .gpu/arrays --out $G/gpu_runs --variant $V --device cuda \
    --datasets $ds --seeds $s > $G/logs/test_${ds}_s$s.log 2>&1 &
done; done
wait
grep -h "acc\|Error" $G/logs/test_*.log
echo "end at $(el) s"
pack
