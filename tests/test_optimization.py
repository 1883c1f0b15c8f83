"prism.optimization: the exact aggregation rewrite, int8, TorchScript/ONNX round trips, the optimisation table, checkpoints and their refusals."
import copy, json, os
from pathlib import Path

import numpy as np
import pytest
import torch

from prism.clip import make_loader, ClipSpec
from prism.models import LSTMBaseline, STGCN_PRISM
from prism.optimization import (LinearGraphConv, OnnxModel, STGCNCore, export_onnx, export_torchscript, optimize_stgcn_model,
                                quantize_dynamic_lstm, quantize_static_int8, int8_feature_error)
from prism.checkpoint import checkpoint_paths, load_checkpoint, model_config, save_checkpoint, update_card


@pytest.fixture(scope="module")
def setup(make_tiny):
    return make_tiny(16, fit_norm=True)   # a non-trivial input standardisation travels with every form


def no_tmp(d: Path): return not [p for p in Path(d).rglob("*") if p.name.endswith(".tmp")]


def test_linear_aggregation_is_exact(setup):
    X, _, stgcn, _ = setup
    x = torch.from_numpy(X)
    with torch.no_grad():
        assert torch.allclose(STGCNCore(stgcn)(x), stgcn(x), atol=1e-5)
        assert torch.allclose(STGCNCore(stgcn, linear_aggregation=False)(x), stgcn(x), atol=1e-6)
    assert isinstance(STGCNCore(stgcn).blocks[1].gcn, LinearGraphConv)


def test_learnt_topology_survives_every_form(setup, tmp_path):
    "A model with a learnt graph correction: the linear rewrite folds B in, int8, TorchScript and ONNX keep it."
    X, y, _, _ = setup
    torch.manual_seed(0)
    m = STGCN_PRISM(num_joints=X.shape[3], in_channels=X.shape[1], num_classes=int(y.max()) + 1, channels=(8, 16), learn_topology=True).eval()
    with torch.no_grad():
        for b in m.blocks: b.gcn.topology.B.normal_(0, 0.2)
    x, one = torch.from_numpy(X), torch.from_numpy(X[:1])
    with torch.no_grad():
        ref = m(x)
        assert torch.allclose(STGCNCore(m)(x), ref, atol=1e-5)
        plain = copy.deepcopy(m)   # without B it is another model, so the check above can fail
        for b in plain.blocks: b.gcn.topology = None
        assert not torch.allclose(STGCNCore(plain)(x), ref, atol=1e-3)
        q = quantize_static_int8(m, make_loader(X, y, 8))(x)
        assert (q - ref).abs().max() < 0.25 * ref.abs().max() + 0.05
    back = torch.jit.load(str(export_torchscript(m, one, tmp_path / "m.pt")["path"]))
    om = OnnxModel(export_onnx(m, one, tmp_path / "m.onnx")["path"], threads=1)
    with torch.no_grad():
        assert torch.allclose(back(one), m(one), atol=1e-4) and torch.allclose(om(x), ref, atol=1e-4)


def test_int8(setup):
    X, y, stgcn, lstm = setup
    q = quantize_static_int8(stgcn, make_loader(X, y, 8))
    with torch.no_grad():
        ref, out = stgcn(torch.from_numpy(X)), q(torch.from_numpy(X))
    assert out.shape == ref.shape and (out - ref).abs().max() < 0.25 * ref.abs().max() + 0.05
    with pytest.raises(ValueError, match="yielded no clips"): quantize_static_int8(stgcn, [])
    with pytest.raises(TypeError, match="needs an STGCN_PRISM"): quantize_static_int8(lstm, X)
    lq = quantize_dynamic_lstm(lstm)
    with torch.no_grad(): assert torch.allclose(lq(torch.from_numpy(X)), lstm(torch.from_numpy(X)), atol=0.05)
    with pytest.raises(TypeError, match="needs an LSTMBaseline"): quantize_dynamic_lstm(stgcn)


@pytest.mark.parametrize("which", ["stgcn", "lstm"])
def test_torchscript_and_onnx_round_trips(setup, tmp_path, which):
    X, _, stgcn, lstm = setup
    m = stgcn if which == "stgcn" else lstm
    one = torch.from_numpy(X[:1])
    ts = export_torchscript(m, one, tmp_path / "m.pt")
    back = torch.jit.load(str(ts["path"]))
    with torch.no_grad(): assert torch.allclose(back(one), m(one), atol=1e-4)
    ox = export_onnx(m, one, tmp_path / "m.onnx")
    om = OnnxModel(ox["path"], threads=1)
    with torch.no_grad(): assert torch.allclose(om(torch.from_numpy(X)), m(torch.from_numpy(X)), atol=1e-4)  # dynamic batch
    assert no_tmp(tmp_path) and sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.pt"]
    with pytest.raises(FileNotFoundError, match="no ONNX file"): OnnxModel(tmp_path / "none.onnx")


def test_optimize_table(setup, tmp_path):
    X, y, stgcn, _ = setup
    r = optimize_stgcn_model(stgcn, X, make_loader(X, y, 8), model_name="t", out_dir=tmp_path, reps=3, warmup=1, batch_size=4)
    t = r["table"]
    assert list(t.index) == ["fp32", "fp32 TorchScript", "int8 (FX static)", "int8 (FX static, einsum fp32)", "int8 (FX static, fp32 pooling and head)",
                             "int8 (FX static, 7-bit activations)", "ONNX Runtime fp32"]
    assert t.loc["fp32", "latency_ratio_vs_fp32"] == 1.0 and t.loc["ONNX Runtime fp32", "acc_change_points"] == 0.0
    s = json.loads((tmp_path / "t" / "optimization.json").read_text())
    assert s["recommended"] in t.index and "command" in s and s["threads"] == 1
    assert (tmp_path / "t" / "table.csv").exists() and no_tmp(tmp_path)
    with pytest.raises(TypeError, match="handles STGCN_PRISM, LSTMBaseline, StreamEnsemble, got Linear"):
        optimize_stgcn_model(torch.nn.Linear(2, 2), X, make_loader(X, y, 8), out_dir=tmp_path)


@pytest.mark.parametrize("which", ["stgcn", "lstm"])
def test_checkpoint_round_trip(setup, tmp_path, which):
    X, _, stgcn, lstm = setup
    m = stgcn if which == "stgcn" else lstm
    card = save_checkpoint(m, tmp_path / "ck_eps0.5", {"dataset": "synthetic", "epsilon": 0.5, "accuracy": 0.25,
                                                       "ledger": {"epsilon_prv": 0.49, "epsilon_rdp": 0.6, "delta": 1e-5, "privacy_unit": "clip",
                                                                  "private": True, "randomness": "secret: test"}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck_eps0.5.json", "ck_eps0.5.md", "ck_eps0.5.safetensors"]
    back, c = load_checkpoint(tmp_path / "ck_eps0.5.safetensors")
    assert type(back) is type(m) and c["sha256"] == card["sha256"] and c["model"] == model_config(m)
    x = torch.from_numpy(X[:2])
    with torch.no_grad(): assert torch.equal(back(x), m(x))
    load_checkpoint(tmp_path / "ck_eps0.5", type(m)(**{k: v for k, v in model_config(m).items() if k != "class"}
                                                    | ({"channels": (8, 16), "strides": (1, 2)} if which == "stgcn" else {})))
    assert "0.49" in (tmp_path / "ck_eps0.5.md").read_text()


def test_checkpoint_refusals(setup, tmp_path):
    _, _, stgcn, lstm = setup
    stem = tmp_path / "ck"
    save_checkpoint(stgcn, stem, {})
    with pytest.raises(ValueError, match="class: card 'STGCN_PRISM', model 'LSTMBaseline'"): load_checkpoint(stem, lstm)
    with pytest.raises(ValueError, match="in_channels: card 9, model 6"):
        load_checkpoint(stem, STGCN_PRISM(num_joints=15, in_channels=6, num_classes=4, layout="prism15", channels=(8, 16)))
    with pytest.raises(ValueError, match="num_classes: card 4, model 5"):
        load_checkpoint(stem, STGCN_PRISM(num_joints=15, in_channels=9, num_classes=5, layout="prism15", channels=(8, 16)))
    with pytest.raises(ValueError, match="layout: card 'prism15', model 'kinect20_utd'"):
        load_checkpoint(stem, STGCN_PRISM(num_joints=20, in_channels=9, num_classes=4, channels=(8, 16)))
    p = checkpoint_paths(stem)
    card = json.loads(p["card"].read_text())
    k = next(iter(card["tensors"])); card["tensors"][k] = [1, 2, 3]
    p["card"].write_text(json.dumps(card))
    with pytest.raises(ValueError, match=f"tensor {k!r}: card says \\[1, 2, 3\\]"): load_checkpoint(stem)
    card["format"] = "other"; p["card"].write_text(json.dumps(card))
    with pytest.raises(ValueError, match="not a PRISM model card"): load_checkpoint(stem)
    save_checkpoint(stgcn, stem, {})
    p["weights"].write_bytes(p["weights"].read_bytes() + b" ")
    with pytest.raises(ValueError, match="sha256 differs"): load_checkpoint(stem)
    p["weights"].unlink()
    with pytest.raises(FileNotFoundError, match="weights file .*ck.safetensors is missing"): load_checkpoint(stem)
    with pytest.raises(TypeError, match="no checkpoint config for Linear"): save_checkpoint(torch.nn.Linear(2, 2), tmp_path / "x")
    assert no_tmp(tmp_path)


def test_zoo_refuses_models_whose_epsilon_does_not_hold(setup, tmp_path):
    "A reproducible (seeded) private run and a ledger that does not name its randomness are refused; nothing is written."
    X, y, stgcn, _ = setup
    seeded = {"epsilon_prv": 4.0, "delta": 1e-5, "private": False, "randomness": "reproducible from seed 0: NOT PRIVATE"}
    with pytest.raises(ValueError, match="NOT PRIVATE"): save_checkpoint(stgcn, tmp_path / "a", {"epsilon": 4.0, "ledger": seeded})
    with pytest.raises(ValueError, match="does not say where its noise came from"):
        save_checkpoint(stgcn, tmp_path / "b", {"epsilon": 4.0, "ledger": {"epsilon_prv": 4.0, "delta": 1e-5}})
    assert list(tmp_path.iterdir()) == []
    import prism.experiments as B
    data = B.Protocol("utd", "synthetic", X, y, X, y, np.arange(len(y)) % 4, np.arange(len(y)) % 4, tuple("abcd"), ClipSpec(frames=X.shape[2]))
    s = B.recipe("lstm", epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="refusing to publish"):
        B.run_experiment(data, "lstm", 4.0, 0, s, checkpoint=tmp_path / "c", reproducible=True)
    assert not (tmp_path / "c.json").exists()
    out = B.run_experiment(data, "lstm", 4.0, 0, s, checkpoint=tmp_path / "d")   # the same run with secret randomness is kept
    _, card = load_checkpoint(tmp_path / "d")
    assert card["ledger"]["randomness"].startswith("secret") and card["private"] and out["private"]
    card = update_card(tmp_path / "d", release_ledger={"this_repository": {"epsilon": float("inf"), "delta": 1e-5, "text": "infinite: test"}})
    load_checkpoint(tmp_path / "d")                                  # hash unchanged by the card update
    md = (tmp_path / "d.md").read_text()
    assert "Role**: benchmark artefact" in md and "Person-level" in md and "Release ledger" in md and "Randomness**: secret" in md


def test_int8_feature_error(setup):
    X, _, stgcn, _ = setup
    fe = int8_feature_error(stgcn, X, X)
    assert 0 <= fe["median"] <= fe["max"] and fe["features"] == stgcn.head.in_features


def test_a_private_card_refuses_a_temperature_fitted_on_private_clips(setup, tmp_path):
    "A temperature fitted on private clips is a release the ledger does not count: refused on a private card, kept on a public one."
    X, y, stgcn, _ = setup
    led = {"epsilon_prv": 4.0, "delta": 1e-5, "private": True, "randomness": "secret: OS entropy"}
    cal = {"temperature": 1.8, "fitted_on": "validation clips of the private training side"}
    with pytest.raises(ValueError, match="one more release"):
        save_checkpoint(stgcn, tmp_path / "a", {"epsilon": 4.0, "ledger": led, "calibration": cal})
    assert list(tmp_path.iterdir()) == []
    save_checkpoint(stgcn, tmp_path / "b", {"epsilon": 4.0, "ledger": led, "calibration": {**cal, "public_data": True}})
    save_checkpoint(stgcn, tmp_path / "c", {"epsilon": None, "calibration": cal})   # a non-private model may use its own clips


def test_the_zoo_video_model_is_chosen_and_calibrated_on_validation():
    """results/zoo/jhmdb_nodp: trained on JHMDB's MediaPipe poses, the kind chosen by validation accuracy (not test), its
    temperature fitted on the validation side, and its test predictions and ECE on the card agree with each other."""
    from prism.checkpoint import card_temperature
    from prism.benchmarks import expected_calibration_error
    card = json.loads((Path(__file__).resolve().parents[1] / "results/zoo/jhmdb_nodp.json").read_text())
    assert card["dataset"] == "jhmdb" and card["epsilon"] is None and card["role"] == "video"
    v = card["validation"]
    assert v["chosen"] == max(v["scores"], key=v["scores"].get) and "test side unused" in v["split"]
    assert card["model"]["class"] == {"stgcn": "STGCN_PRISM", "stgcn_streams": "StreamEnsemble", "lstm": "LSTMBaseline"}[v["chosen"]]
    assert card["depth"] is False and card["settings"]["augment"]["mirror"] == 0.5, "the video configuration: 2-D clips, mirrored"
    cal, pred = card["calibration"], card["test_predictions"]
    assert card_temperature(card) == cal["temperature"] and "validation side" in cal["fitted_on"]
    ok = np.array(pred["y_true"]) == np.array(pred["y_pred"])
    assert abs(ok.mean() - card["accuracy"]) < 1e-9 and len(ok) == card["num_test"]
    assert abs(expected_calibration_error(pred["confidence"], ok) - cal["ece_test"]["scaled"]) < 1e-4
    assert abs(expected_calibration_error(pred["confidence_raw"], ok) - cal["ece_test"]["raw"]) < 1e-4
