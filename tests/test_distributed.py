"""Data-parallel training on 2 CPU processes (gloo): one distributed step is one single-process step, the noise is added
once, the ledger is the single-process ledger, a dying worker fails the run clearly, and the lazy dataset shards."""
import math, os, warnings
from pathlib import Path
import numpy as np
import pytest
import torch
import torch.distributed as dist
from prism.clip import ClipSpec
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from prism.distributed import (GenericClips, WorkerFailed, dist_env, launch, rank0_write, train_distributed,
                               write_synthetic_generic)
from prism.privacy import (DistributedPoissonSampler, PersonDataset, PrivacyPreservingTrainer, collate_persons,
                           create_privacy_config, secret_generator)

for m in ["Optimal order is the largest alpha", "Full backward hook"]:
    warnings.filterwarnings("ignore", message=m)   # in the spawned processes, which import this module
pytestmark = [pytest.mark.filterwarnings(f"ignore:{m}") for m in ["Optimal order", "Full backward hook"]]

SIGMA, N_NOISE, RUNS = 2.0, 64, 3          # noise test: sigma, clips (q = 1, one step), runs per setting
N_CLIPS = 20_000                           # the lazy dataset


# ------------------------------------------------------------------ what every process runs (importable by name)
def _data(n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g) * 3
    return TensorDataset(x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long())

def _linear(seed=0, d=5, k=3, bias=True):
    torch.manual_seed(seed); return nn.Linear(d, k, bias=bias)

def _step(model, dataset, config, **kw):
    "Final weights (flat) and results of one epoch = one step (batch = the whole set) of plain SGD with lr 1."
    r = train_distributed(model, dataset, config, batch_size=len(dataset), lr=1.0, momentum=0.0, track_epsilon=False, **kw)
    return torch.cat([v.flatten() for v in r["state_dict"].values()]), r

def _scenarios(clips_dir=None):
    "Everything the tests compare, run in one process or in each process of a group (rank 0's result is returned)."
    out = {}
    # 1. noise off (clipping active): the update is a deterministic function of the global batch
    cfg0 = create_privacy_config(None, 1e-3, max_grad_norm=0.1, noise_multiplier=0.0)
    out["dp_noise_off"] = _step(_linear(), _data(), cfg0)[0]
    for mode in ("functorch", "ghost"):   # the other per-sample gradient engines
        cfg = create_privacy_config(None, 1e-3, max_grad_norm=0.1, noise_multiplier=0.0, grad_sample_mode=mode)
        out[f"dp_noise_off_{mode}"] = _step(_linear(), _data(), cfg)[0]
    d = _data(48)   # the person as privacy unit: 12 people of 4 clips, all sampled (q = 1)
    cfgp = create_privacy_config(None, 1e-3, max_grad_norm=0.1, noise_multiplier=0.0, unit="person")
    m = _linear()
    PrivacyPreservingTrainer(m, cfgp, lr=1.0, momentum=0.0, track_epsilon=False).train(
        DataLoader(PersonDataset(*d.tensors, torch.arange(48) % 12), batch_size=12, collate_fn=collate_persons), num_epochs=1)
    out["dp_noise_off_person"] = torch.cat([p.detach().flatten() for p in m.parameters()])
    # 2. non-private (torch DDP): the same
    out["non_private"] = _step(_linear(), _data(), None)[0]
    # 3. reproducible noise (NOT private): rank 0 has the single-process generator, so the noise is added exactly once
    cfgr = create_privacy_config(None, 1e-3, max_grad_norm=0.1, noise_multiplier=SIGMA, reproducible=True)
    out["dp_reproducible"] = _step(_linear(), _data(), cfgr, seed=5)[0]
    # 4. secret noise: zero inputs, no bias, so the update is the noise alone: -sigma * C * Z / E per weight
    zeros = TensorDataset(torch.zeros(N_NOISE, 200), torch.arange(N_NOISE) % 25)
    cfgn = create_privacy_config(None, 1e-3, max_grad_norm=1.0, noise_multiplier=SIGMA)
    w0 = torch.cat([p.detach().flatten() for p in _linear(0, 200, 25, bias=False).parameters()])
    out["noise"] = torch.stack([_step(_linear(0, 200, 25, bias=False), zeros, cfgn)[0] - w0 for _ in range(RUNS)])
    # 5. the ledger of a private run targeting epsilon (secret randomness, 4 steps per epoch, 2 epochs)
    cfge = create_privacy_config(2.0, 1e-3, max_grad_norm=1.0, accountant="rdp")
    out["ledger"] = train_distributed(_linear(), _data(64), cfge, batch_size=16, num_epochs=2, lr=0.5, track_epsilon=False)["ledger"]
    # 6. the lazy dataset over 20,000 clips: each rank samples (and reads) only its shard, a few clips per step
    if clips_dir is not None:
        world = dist.get_world_size() if dist.is_initialized() else 1
        clips = _LoggedClips(clips_dir, ClipSpec(channels="pos", frames=4))
        sampler = DistributedPoissonSampler(len(clips), 0.005, secret_generator())   # as the trainer makes it, at q = 0.005
        batches = [len(b[1]) for _, b in zip(range(3), DataLoader(clips, batch_sampler=sampler))]
        mine = {"shard": sampler.shard(), "read": clips.read, "batches": batches}
        # and DP training on a part of it, read through the same lazy dataset (Opacus's loader reads clip 0 once on each rank)
        clips.read = []
        part = Subset(clips, range(400))
        r = train_distributed(nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 15, 4)), part,
                              create_privacy_config(None, 1e-3, noise_multiplier=1.0), batch_size=100, lr=0.1)
        mine.update(train_read=clips.read, steps=r["ledger"]["steps"], sample_rate=r["ledger"]["sample_rate"])
        every = [None] * world
        dist.all_gather_object(every, mine)
        out["lazy"] = every
    return out

class _LoggedClips(GenericClips):
    "GenericClips that remembers which clips this process read."
    def __init__(self, *a, **kw): self.read = []; super().__init__(*a, **kw); self.read = []
    def record(self, i):
        self.read.append(int(i)); return super().record(i)

class _DiesOnRank1(Dataset):
    "A dataset whose 20th read kills rank 1's process outright (no exception, no clean-up): a crashed worker."
    def __init__(self): self.x, self.y, self.n = torch.randn(64, 5), torch.arange(64) % 3, 0
    def __len__(self): return 64
    def __getitem__(self, i):
        self.n += 1
        if self.n == 20 and dist.get_rank() == 1: os._exit(3)
        return self.x[i], self.y[i]


# ------------------------------------------------------------------ fixtures: one 2-process run for all comparisons
@pytest.fixture(scope="module")
def clips_dir(tmp_path_factory):
    return write_synthetic_generic(tmp_path_factory.mktemp("clips") / "synthetic", N_CLIPS, frames=4)

@pytest.fixture(scope="module")
def runs(clips_dir):
    two = launch(_scenarios, 2, clips_dir, threads=1)
    one = _scenarios()
    return one, two

def test_one_distributed_step_is_one_single_process_step(runs):
    one, two = runs
    for k in ("dp_noise_off", "dp_noise_off_functorch", "dp_noise_off_ghost", "dp_noise_off_person", "non_private"):
        assert torch.allclose(one[k], two[k], atol=1e-6, rtol=0), (k, (one[k] - two[k]).abs().max())
    init = torch.cat([p.detach().flatten() for p in _linear().parameters()])
    assert (one["dp_noise_off"] - init).abs().max() > 1e-3 and (one["non_private"] - init).abs().max() > 1e-3   # the step moved them

def test_noise_is_added_once(runs):
    one, two = runs
    # reproducible mode: rank 0 draws exactly the single-process noise, the other rank adds none
    assert torch.allclose(one["dp_reproducible"], two["dp_reproducible"], atol=1e-6, rtol=0)
    assert not torch.allclose(one["dp_reproducible"], one["dp_noise_off"], atol=1e-3)     # there was noise

def test_secret_noise_has_the_single_process_spread(runs):
    one, two = runs
    expected = SIGMA * 1.0 / N_NOISE                      # sigma * C / E, lr 1: the std of every weight's update
    s1, s2 = one["noise"].std().item(), two["noise"].std().item()
    # 15,000 draws each: the std is known to ~0.6%; noise on both ranks would be sqrt(2) = 41% too large
    assert abs(s1 / expected - 1) < 0.05 and abs(s2 / expected - 1) < 0.05, (s1, s2, expected)
    assert abs(s2 / s1 - 1) < 0.07
    assert abs(two["noise"].mean().item()) < 4 * expected / math.sqrt(two["noise"].numel())
    for runs_ in (one["noise"], two["noise"]):              # secret: every run draws other noise
        assert not torch.allclose(runs_[0], runs_[1]) and not torch.allclose(runs_[1], runs_[2])

def test_ledger_is_the_single_process_ledger(runs):
    one, two = runs
    assert two["ledger"] == one["ledger"]
    led = two["ledger"]
    assert led["sample_rate"] == 0.25 and led["steps"] == 8 and led["num_samples"] == 64 and led["unit"] == "clip"
    assert led["private"] and led["randomness"].startswith("secret") and "add/remove one unit" in led["neighbouring"]
    assert abs(led["epsilon_rdp"] - 2.0) < 0.05 and led["calibrated_with"] == "rdp"

def test_lazy_dataset_shards_20000_clips(runs, clips_dir):
    _, two = runs
    r0, r1 = two["lazy"]
    assert len(r0["shard"]) == len(r1["shard"]) == N_CLIPS // 2
    assert set(r0["shard"]).isdisjoint(r1["shard"]) and set(r0["shard"]) | set(r1["shard"]) == set(range(N_CLIPS))
    for r in (r0, r1):   # read lazily: only the sampled clips, all from this rank's shard
        assert len(r["read"]) == sum(r["batches"]) < 200 and set(r["read"]) <= set(r["shard"])
        assert sum(r["batches"]) > 0
        assert r["steps"] == 4 and r["sample_rate"] == 0.25                 # training on 400 of them: the global rate
    trained = [set(r["train_read"]) - {0} for r in (r0, r1)]             # clip 0: read once by Opacus's loader on each rank
    assert trained[0] and trained[1] and trained[0].isdisjoint(trained[1]) and trained[0] | trained[1] <= set(range(400))
    clips = GenericClips(clips_dir, ClipSpec(channels="pos", frames=4))
    assert len(clips) == N_CLIPS and clips.reads == 0                     # built lazily: nothing read
    x, y = clips[12345]
    assert tuple(x.shape) == (3, 4, 15) and y == 12345 % 4 and clips.reads == 1

def test_dying_worker_fails_the_run_clearly(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(WorkerFailed) as e:
        launch(train_distributed, 2, _linear(), _DiesOnRank1(), None, batch_size=8, num_epochs=2, out_dir=out, threads=1)
    msg = str(e.value)
    assert e.value.rank == 1 and msg.startswith("distributed run failed: rank 1 of 2 died (exit code 3)"), msg
    assert 0 in e.value.ranks                                 # and says what became of rank 0
    assert not out.exists()                                   # no run file, no checkpoint, no temporary file


# ------------------------------------------------------------------ in one process
def test_sampler_keeps_every_step():
    s = [DistributedPoissonSampler(3, 0.05, torch.Generator().manual_seed(r), rank=r, world_size=2) for r in range(2)]
    batches = [list(x) for x in s]
    assert [len(b) for b in batches] == [20, 20] and [] in batches[1]      # Opacus's own sampler would skip the empty ones
    with pytest.raises(ValueError, match="sample_rate must be in"): DistributedPoissonSampler(3, 0.0, rank=0, world_size=1)

def test_trainer_needs_a_group_when_told():
    assert dist_env({}) is None
    with pytest.raises(RuntimeError, match="needs a torch.distributed process group"):
        PrivacyPreservingTrainer(_linear(), distributed=True).train(torch.utils.data.DataLoader(_data(), batch_size=8))

def test_rank0_write_is_atomic(tmp_path):
    def broken(t): Path(t).write_text("half"); raise OSError("disk full")
    with pytest.raises(OSError): rank0_write(tmp_path / "x.json", broken)
    assert list(tmp_path.iterdir()) == []

def test_launch_refuses_what_it_cannot_send():
    with pytest.raises(TypeError, match="cannot be pickled"): launch(lambda: 0, 2)
    with pytest.raises(ValueError, match="nproc must be >= 1"): launch(train_distributed, 0)

def test_cli_refuses_bad_process_counts(monkeypatch, capsys):
    from prism.cli import main
    assert main(["train", "--nproc", "0"]) == 2 and "--nproc must be >= 1" in capsys.readouterr().err
    for k, v in dict(RANK="0", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT="29500").items(): monkeypatch.setenv(k, v)
    assert main(["train", "--nproc", "2"]) == 2 and "under torchrun leave it out" in capsys.readouterr().err
