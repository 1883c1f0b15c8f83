#!/bin/bash
# Re-make the benchmark runs that results/ still holds from before the one path (issue 14) on a lent GPU machine,
# through bench/sweep_device.py, several processes on one GPU. Prepare here (with the data), then run there:
#
#   PRISM_DATA=/path/to/data python bench/sweep_device.py pack --out .gpu/arrays --datasets utd msr jhmdb   # 37 MB
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 -d .whl opacus==1.6.0
#   (device) bash bench/remake_on_device.sh      # carry .gpu and .whl; the run files come back in $OUT/runs.tgz
#   tar xzf runs.tgz && cp runs/*.json results/benchmarks/runs/ && prism reproduce --full --out results   # tables
#
# Without a GPU the same runner works on CPU, one or two processes (runs whose file exists are skipped, so it resumes):
#   python bench/sweep_device.py run --arrays .gpu/arrays --out .gpu/cpu_runs --device cpu --threads 1 --job utd:stgcn:0.5,1,2,4,8:0,1,2 ...
#   then copy only the (dataset, model) groups whose runs are all re-made into results/benchmarks/runs.
#
# DEADLINE: seconds after which no new run starts (default 380); KILL: hard stop of each process (default 480 s).
# Every run file records its own command, the machine and the device; noise and sampling come from secret randomness.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, opacus, prism.experiments; print('torch', torch.__version__, 'opacus', opacus.__version__, torch.cuda.is_available())" || exit 1
mkdir -p .gpu/runs .gpu/logs
D=${DEADLINE:-380}
E="0.5,1,2,4,8"; A="none,0.5,1,2,4,8"
i=0
for jobs in "--job utd:stgcn:$E:0,1,2" "--job utd:lstm:$E:0,1,2" "--job msr:stgcn:$E:0,1,2" "--job msr:lstm:$E:0,1,2" \
            "--job jhmdb:stgcn:$A:0,1,2" "--job jhmdb:lstm:$A:0" "--job jhmdb:lstm:$A:1,2" \
            "--job utd:stgcn_ft:$A:0,1,2 --job utd:stgcn_ncm:$A:0,1,2" "--job utd:lstm_ft:$A:0,1,2" \
            "--job msr:stgcn_ft:$A:0,1,2 --job msr:stgcn_ncm:$A:0,1,2" "--job msr:lstm_ft:$A:0,1,2" \
            "--job jhmdb:stgcn_ft:$A:0,1,2 --job jhmdb:stgcn_ncm:$A:0,1,2" "--job jhmdb:lstm_ft:$A:0,1,2"; do
  i=$((i+1))
  timeout ${KILL:-480} python3 bench/sweep_device.py run --arrays .gpu/arrays --out .gpu/runs --device cuda --deadline $D $jobs > .gpu/logs/p$i.log 2>&1 &
done
wait
grep -h "acc\|deadline\|Error\|error" .gpu/logs/*.log | grep -v Warning | tail -60
ls .gpu/runs | wc -l
tar czf $OUT/runs.tgz -C .gpu runs && tar czf $OUT/logs.tgz -C .gpu logs
