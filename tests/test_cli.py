"The `prism` command as a newcomer meets it: README's main job in a fresh folder, and Ctrl-C in a long run."
import datetime, os, signal, subprocess, sys, time
import pytest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    "This working copy's `prism` (not an installed one), unbuffered so that a test can read its progress."
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), "PYTHONUNBUFFERED": "1"}


def _prism(*argv) -> list:
    return [sys.executable, "-m", "prism.cli", *map(str, argv)]


def _git_status() -> str:
    "Every change to the repository's files, tracked or not (ignored files, such as prism-output/, excluded)."
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def test_main_job_writes_its_own_folder_and_leaves_the_repository_alone(data_root, tmp_path):
    """README's first command, `prism reproduce` with its default output folder, on a one-epoch setting: it says where its
    run is, writes nothing else, and the committed tables keep their own provenance."""
    from prism.report import results_markdown
    before, committed = _git_status(), results_markdown(ROOT / "results")
    argv = ["reproduce", "--datasets", "msr", "--models", "stgcn", "--epochs", "1"]
    r = subprocess.run(_prism(*argv), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    out = tmp_path / "prism-output"
    assert r.stdout.startswith("prism reproduce: writing to prism-output/")
    assert f"Your run is in prism-output/ ({out.resolve()})" in r.stdout
    for f in ("benchmarks/utility.csv", "benchmarks/efficiency.csv", "benchmarks/reproduce.json", "benchmarks/runs/msr_stgcn_epsnone_s0.json"):
        assert (out / f).is_file(), f
    assert _git_status() == before, "the main job changed the repository's files"
    assert results_markdown(ROOT / "results") == committed, "the committed tables' provenance changed"
    # the user's own tables name the command that made them, today; rewritten by anything else, they no longer do
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    assert f"made by `prism {' '.join(argv)}` on {today}" in results_markdown(out)
    with open(out / "benchmarks/utility.csv", "a") as f: f.write("msr,lstm,8.0,0.5,0,0.5,0,0.5,0,0.5,0,0.5,0,1\n")
    assert "made by `? (changed after `prism reproduce" in results_markdown(out)


def test_ctrl_c_in_train_leaves_nothing_half_written(data_root, tmp_path):
    "SIGINT while `prism train` trains: exit code 130, one line on what was kept and how to resume, no partial or temporary file."
    out, ck = tmp_path / "runs", tmp_path / "ck" / "model"
    p = subprocess.Popen(_prism("train", "--dataset", "msr", "--model", "stgcn", "--epochs", "100", "--out", out, "--checkpoint", ck),
                         cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         # a job started in the background of a non-interactive shell inherits SIGINT ignored; a user's terminal does not
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = p.stdout.readline()
        assert line.startswith("training stgcn on msr"), (line, p.stderr.read() if p.poll() is not None else "")
        time.sleep(3)                        # inside the training loop (100 epochs take minutes)
        assert p.poll() is None, "training ended before the interrupt"
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=120)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == 130, stderr[-3000:]
    assert "prism train: interrupted; an unfinished run writes nothing, so nothing half-written is left; run the same command again" in stderr, stderr
    assert "Traceback" not in stderr, stderr
    left = sorted(str(f.relative_to(tmp_path)) for f in tmp_path.rglob("*") if f.is_file())
    assert left == [], f"files left after the interrupt: {left}"


def test_arguments_are_refused_before_any_data_is_loaded(tmp_path, capsys):
    "Zero epochs, a delta outside (0, 1): refused by the parser, before the (missing) data root is even looked at."
    from prism.cli import main
    for argv, says in [(["train", "--epochs", "0"], "must be a positive integer"), (["reproduce", "--epochs", "-1"], "must be a positive integer"),
                       (["train", "--delta", "1.5"], "delta must be strictly between 0 and 1"),
                       (["train", "--config", "tpu"], "invalid choice: 'tpu'"), (["train", "--mirror", "2"], "must be a number from 0 to 1")]:
        with pytest.raises(SystemExit) as e: main([*argv, "--data", str(tmp_path / "no-data")])
        err = capsys.readouterr().err
        assert e.value.code == 2 and says in err and "Data root" not in err, err
    # a late ensemble under DP: refused by the command, still before the data is looked at
    assert main(["train", "--streams", "pos+vel+bone", "vel", "--epsilon", "8", "--data", str(tmp_path / "no-data")]) == 2
    err = capsys.readouterr().err
    assert "--streams trains a late ensemble" in err and "Data root" not in err, err
    for argv, says in [(["--view", "body", "--no-depth"], "which needs depth"), (["--model", "pyramid_ncm", "--mirror", "0.5"], "--mirror mirrors")]:
        assert main(["train", *argv, "--data", str(tmp_path / "no-data")]) == 2
        err = capsys.readouterr().err
        assert says in err and "Data root" not in err, err


def test_own_data_from_files_to_a_private_run(data_root, tmp_path):
    """Issue 18 through the command line: `prism convert` a folder of your files (real UTD-MHAD takes as Kinect text and
    CSV), then `prism train --data --split` non-private without public data and private on a public checkpoint."""
    import numpy as np, pandas as pd
    from prism.io import read_json
    from prism.skeleton import get_layout
    from prism.data import read_utd_mhad_file
    utd, sdk = get_layout("kinect20_utd"), get_layout("kinect20_sdk")
    raw = tmp_path / "my files"
    for a, name in ((3, "wave"), (4, "clap")):
        for s in (1, 2, 3, 4):
            x = read_utd_mhad_file(data_root / "utd_mhad/Skeleton" / f"a{a}_s{s}_t1_skeleton.mat")[:, [utd.index(j) for j in sdk.joints]]
            (raw / name).mkdir(parents=True, exist_ok=True)
            if s % 2: np.savetxt(raw / name / f"s{s}_t1.txt", x.reshape(-1, 3))
            else:
                T = len(x)
                pd.DataFrame({"frame": np.repeat(np.arange(T), 20), "joint": np.tile(np.arange(20), T), "x": x[..., 0].ravel(),
                              "y": x[..., 1].ravel(), "z": x[..., 2].ravel()}).to_csv(raw / name / f"s{s}_t1.csv", index=False)
    pattern = r"s(?P<subject>\d+)_t(?P<trial>\d+)"
    r = subprocess.run(_prism("convert", raw, tmp_path / "mine", "--layout", "kinect20_sdk", "--pattern", pattern, "--name", "mine"),
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.startswith("read 8 sequences of 4 subject(s) and 2 class(es) (clap, wave)") and f"written: {tmp_path / 'mine'}/" in r.stdout
    r = subprocess.run(_prism("convert", raw, tmp_path / "wrong", "--layout", "kinect20_utd", "--pattern", pattern),
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "warning: my files: joint order looks like kinect20_sdk, not kinect20_utd" in r.stderr, r.stderr
    (tmp_path / "split.txt").write_text("wave/s4_t1\nclap/s4_t1.csv\n")
    r = subprocess.run(_prism("train", "--data", tmp_path / "mine", "--split", "file:split.txt", "--model", "stgcn", "--epochs", "1",
                              "--out", tmp_path / "runs"), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "split: mine, the split file split.txt: 2 test sequences listed; input statistics: mine training split (not covered by epsilon)" in r.stdout
    run = read_json(tmp_path / "runs" / "mine_stgcn_epsnone_s0.json")
    assert (run["num_train"], run["num_test"], run["classes"]) == (6, 2, ["clap", "wave"])
    r = subprocess.run(_prism("train", "--data", tmp_path / "mine", "--split", "file:split.txt", "--model", "stgcn", "--epochs", "1",
                              "--view", "body", "--mirror", "0.5", "--out", tmp_path / "body", "--checkpoint", tmp_path / "body" / "mine_body"),
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "clips in the body's frame" in r.stdout, r.stderr[-3000:]
    from prism.checkpoint import load_checkpoint, card_contract
    assert read_json(tmp_path / "body" / "mine_stgcn_epsnone_s0.json")["view"] == "body" and "view" not in run
    assert read_json(tmp_path / "body" / "mine_stgcn_epsnone_s0.json")["settings"]["augment"]["mirror"] == 0.5
    r = subprocess.run(_prism("train", "--data", tmp_path / "mine", "--split", "file:split.txt", "--model", "lstm", "--epochs", "1",
                              "--no-depth", "--mirror", "0.5", "--out", tmp_path / "flat"), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "; 2-D clips (depth set to 0); 0.5 of the training clips mirrored" in r.stdout, r.stderr[-3000:]
    flat = read_json(tmp_path / "flat" / "mine_lstm_epsnone_s0.json")
    assert (flat["depth"], flat["settings"]["augment"]["mirror"]) == (False, 0.5)
    assert "mirror" not in run["settings"]["augment"]
    assert card_contract(load_checkpoint(tmp_path / "body" / "mine_body")[1]).view == "body"
    assert "**View**: the body's frame" in (tmp_path / "body" / "mine_body.md").read_text()
    r = subprocess.run(_prism("train", "--data", tmp_path / "mine", "--split", "subject", "--model", "stgcn_ncm", "--epsilon", "8",
                              "--out", tmp_path / "runs"), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "a private run on --data needs --public" in r.stderr, r.stderr
    r = subprocess.run(_prism("train", "--data", tmp_path / "mine", "--split", "subject", "--model", "stgcn_ncm", "--mirror", "0.5"),
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--mirror mirrors the training clips of a network trained end to end" in r.stderr, r.stderr
    r = subprocess.run(_prism("train", "--data", tmp_path / "mine", "--split", "subject", "--model", "stgcn_ncm", "--epsilon", "8",
                              "--public", ROOT / "results/zoo/utd_private", "--out", tmp_path / "runs"),
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    run = read_json(tmp_path / "runs" / "mine_stgcn_ncm_eps8_s0.json")
    assert run["private"] and run["ledger"]["epsilon_prv"] <= 8 + 1e-6 and run["public_backbone"] == "utd_private"
    assert run["protocol"] == "mine, cross-subject, alternate subjects in natural order (train 1, 3; test 2, 4)"


def test_help_and_refused_arguments_load_no_torch():
    """`prism --help`, a subcommand's help, `--version` and a refused argument answer before anything heavy is imported:
    torch, torch-geometric, Opacus, numpy and the commands stay unloaded (`python -X importtime` lists every module imported)."""
    for argv, rc in ((["--help"], 0), (["train", "--help"], 0), (["--version"], 0), (["train", "--epochs", "0"], 2),
                     (["predict", "--top", "0", "a", "b"], 2)):
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "prism.cli", *argv], env=_env(), capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == rc, r.stderr[-2000:]
        loaded = {l.split("|")[-1].strip() for l in r.stderr.splitlines() if l.startswith("import time:")}
        assert "prism.cli" in loaded or "prism" in loaded, r.stderr[-2000:]
        heavy = sorted(loaded & {"torch", "torch_geometric", "opacus", "numpy", "pandas", "prism.commands"})
        assert not heavy, f"prism {' '.join(argv)} imported {heavy}"
