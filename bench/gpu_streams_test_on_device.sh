#!/bin/bash
# The multi-stream late ensemble chosen on validation people (bench/ablate_streams.py summary: the early-fused model
# with one model per stream, fused + pos + vel + bone) trained on the whole training side and scored on the test people,
# 3 draws (seeds) per dataset, one process per run on a lent GPU. Prepare as bench/gpu_streams_on_device.sh says, then:
#
#   (device) bash bench/gpu_streams_test_on_device.sh   # carry .gpu/data, .gpu/arrays_j and .whl; files in $OUT/stream_runs.tgz
#   tar xzf stream_runs.tgz -C results/benchmarks && python bench/ablate_streams.py summary --runs results/benchmarks/stream_runs --out results/benchmarks/streams_test.csv
#
# A: seconds after which no run starts (default 120); B: when every process is stopped (240).
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }; left() { local x=$(( $1 - $(el) )); [ $x -lt 1 ] && x=1; echo $x; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PRISM_DATA=$PWD/.gpu/data PRISM_CACHE=/tmp/prism_cache
G=.gpu/out3; mkdir -p $G/stream_runs $G/logs
for ds in utd msr jhmdb; do for st in fused pos vel bone; do for s in 0 1 2; do
  timeout $(left ${B:-240}) python3 bench/ablate_streams.py run --test --arrays .gpu/arrays_j --out $G/stream_runs --device cuda \
    --deadline $(left ${A:-120}) --datasets $ds --streams $st --seeds $s > $G/logs/t_${ds}_${st}_$s.log 2>&1 &
done; done; done
wait
grep -h "acc\|deadline\|Error" $G/logs/t_*.log
echo "end at $(el) s"
tar czf $OUT/stream_runs.tgz -C $G stream_runs logs
