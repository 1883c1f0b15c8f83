"Per-sample gradients, Opacus validation and input contracts of prism.models."
import warnings
import pytest
import torch
from torch import nn
from opacus import GradSampleModule
from opacus.validators import ModuleValidator
from prism.models import STGCN_PRISM, LSTMBaseline, GraphConv, resolve_layout, model_cost

warnings.filterwarnings("ignore", message="Full backward hook")

def _loop_grads(model, x, y):
    "Per-sample gradients by backpropagating one example at a time."
    params = [p for p in model.parameters() if p.requires_grad]
    per = [torch.autograd.grad(nn.functional.cross_entropy(model(x[i:i+1]), y[i:i+1]), params) for i in range(len(x))]
    return [torch.stack([g[j] for g in per]) for j in range(len(params))]

def _opacus_grads(model, x, y, mode):
    gsm = GradSampleModule(model, loss_reduction="mean", force_functorch=(mode == "functorch"))
    nn.functional.cross_entropy(gsm(x), y).backward()
    out = [p.grad_sample.clone() for p in model.parameters() if p.requires_grad]
    gsm._close()
    return out

def _small_stgcn():
    torch.manual_seed(0)
    return STGCN_PRISM(num_joints=15, in_channels=6, num_classes=4, channels=(8, 16, 16), temporal_kernel=3, dropout=0.0).double()

def _small_learned():
    "A small ST-GCN that learns its graph, the learnt edges made non-zero so that they shape every gradient."
    torch.manual_seed(0)
    m = STGCN_PRISM(num_joints=15, in_channels=6, num_classes=4, channels=(8, 16), temporal_kernel=3, learn_topology=True).double()
    with torch.no_grad():
        for b in m.blocks: b.gcn.topology.B.normal_(0, 0.1)
    return m

def _small_lstm():
    torch.manual_seed(0)
    return LSTMBaseline(num_joints=15, in_channels=3, num_classes=4, hidden_size=8, num_layers=2).double()

@pytest.mark.parametrize("mode", ["hooks", "functorch"])
@pytest.mark.parametrize("make,c", [(_small_stgcn, 6), (_small_learned, 6), (_small_lstm, 3)])
def test_per_sample_gradients_match_explicit_loop(make, c, mode):
    torch.manual_seed(1)
    x, y = torch.randn(5, c, 10, 15, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 1])
    ref = _loop_grads(make(), x, y)
    got = _opacus_grads(make(), x, y, mode)
    assert len(ref) == len(got) and len(ref) > 4
    # Opacus scales by the batch size under loss_reduction="mean": per-sample grads of the per-sample loss
    for r, g in zip(ref, got):
        assert g.shape == r.shape
        assert torch.allclose(g, r, atol=1e-6, rtol=1e-6), (g - r).abs().max()

def test_float32_per_sample_gradients_close():
    torch.manual_seed(0)
    m = STGCN_PRISM(num_joints=20, in_channels=9, num_classes=27, channels=(16, 32), temporal_kernel=5)
    x, y = torch.randn(3, 9, 16, 20), torch.tensor([0, 5, 26])
    for r, g in zip(_loop_grads(m, x, y), _opacus_grads(m, x, y, "hooks")):
        assert torch.allclose(g, r, atol=1e-5, rtol=1e-4)

@pytest.mark.parametrize("model", [
    STGCN_PRISM(num_joints=33, in_channels=4, num_classes=101),
    STGCN_PRISM(num_joints=20, in_channels=9, num_classes=27, partition="uniform"),
    STGCN_PRISM(num_joints=15, in_channels=9, num_classes=27, partition="distance", channels=(8,)),
    STGCN_PRISM(num_joints=20, in_channels=9, num_classes=27, learn_topology=True),
    LSTMBaseline(num_joints=20, in_channels=9, num_classes=27, bidirectional=True, num_layers=2)])
def test_opacus_validator_strict(model):
    assert ModuleValidator.validate(model, strict=True) == []

def test_no_batchnorm_no_inplace():
    for m in [STGCN_PRISM(), LSTMBaseline()]:
        assert not any(isinstance(x, nn.modules.batchnorm._BatchNorm) for x in m.modules())
        assert not any(getattr(x, "inplace", False) for x in m.modules())

def test_seed_contract_and_layouts():
    m = STGCN_PRISM(num_joints=33, in_channels=4, num_classes=101)
    assert m.layout.name == "mediapipe33" and m(torch.randn(2, 4, 20, 33)).shape == (2, 101)
    assert STGCN_PRISM(num_joints=20, in_channels=3, num_classes=5).layout.name == "kinect20_utd"
    assert STGCN_PRISM(num_joints=15, in_channels=3, num_classes=5).layout.name == "prism15"
    assert resolve_layout(20, "kinect20_msr").name == "kinect20_msr"
    with pytest.raises(ValueError, match="num_joints=25 has no default layout"): STGCN_PRISM(num_joints=25)
    with pytest.raises(ValueError, match="has 33 joints but num_joints=20"): STGCN_PRISM(num_joints=20, layout="mediapipe33")
    with pytest.raises(ValueError, match="strides has 1 entries"): STGCN_PRISM(channels=(8, 16), strides=(1,))
    with pytest.raises(ValueError): STGCN_PRISM(partition="nope")

@pytest.mark.parametrize("make", [lambda: STGCN_PRISM(num_joints=15, in_channels=3, num_classes=4, channels=(8, 8)),
                                  lambda: LSTMBaseline(num_joints=15, in_channels=3, num_classes=4, hidden_size=8)])
def test_input_contract(make):
    m = make().eval()
    x = torch.randn(2, 3, 12, 15)
    assert m(x).shape == (2, 4)
    assert torch.allclose(m(x.unsqueeze(-1)), m(x), atol=1e-6)
    two = torch.stack([x, x], -1)                     # two identical bodies average to the same logits
    assert torch.allclose(m(two), m(x), atol=1e-5)
    with pytest.raises(ValueError, match="expects in_channels=3"): m(torch.randn(2, 4, 12, 15))
    with pytest.raises(ValueError, match="expects num_joints=15"): m(torch.randn(2, 3, 12, 14))
    with pytest.raises(ValueError, match=r"\(N, C, T, V\)"): m(torch.randn(3, 12, 15))

def test_graph_is_a_buffer_and_aggregation_matches_dense_formula():
    A = torch.rand(3, 6, 6)
    g = GraphConv(2, 4, A).double()
    x = torch.randn(2, 2, 5, 6, dtype=torch.float64)
    y = g(x)
    z = g.conv(x).view(2, 3, 4, 5, 6)
    ref = sum(z[:, k] @ A[k].double() for k in range(3))
    assert torch.allclose(y, ref)
    assert "A" in dict(g.named_buffers()) and "A" not in dict(g.named_parameters())

def test_model_cost():
    c = model_cost(STGCN_PRISM(num_joints=20, in_channels=9, num_classes=27), (9, 32, 20))
    assert c["params"] == sum(p.numel() for p in STGCN_PRISM(num_joints=20, in_channels=9, num_classes=27).parameters())
    assert 1e6 < c["flops"] < 1e9


def test_pyramid_ncm_features_are_a_unit_kernel_map():
    "PyramidNCM: public map, kernel features of length 1 (the sensitivity bound), <phi(a), phi(b)> = <g_a, g_b>^degree."
    from prism.models import PyramidNCM, run_model
    torch.manual_seed(0)
    m = PyramidNCM(num_joints=15, in_channels=9, num_classes=3, channels=range(6), dims=6, degree=3)
    m.fit_public(torch.randn(40, 9, 16, 15), torch.arange(40) % 4)
    X = torch.randn(5, 9, 16, 15)
    phi, (g, _) = run_model(m, X, method="features"), m.embed(X)
    assert phi.shape == (5, 56) and torch.allclose(phi.norm(dim=1), torch.ones(5), atol=1e-4)
    assert torch.allclose(phi @ phi.T, (g @ g.T) ** 3, atol=1e-4)
    assert m(X).shape == (5, 3) and model_cost(m, (9, 16, 15))["params"] == 56 * 3 + 3
    with pytest.raises(ValueError, match="too short"): m(torch.randn(1, 9, 4, 15))
    with pytest.raises(ValueError, match="dims=6 needs"): PyramidNCM(num_joints=15, in_channels=9, dims=6).fit_public(torch.randn(5, 9, 16, 15), torch.arange(5) % 2)


def test_pyramid_ncm_extras_keep_the_bound_and_round_trip(tmp_path):
    "PyramidNCM with joint distances and random kernels: unit-length features, kernels from the seed, biases from public clips, checkpoint round trip."
    from prism.models import PyramidNCM, RandomKernels, run_model
    from prism.checkpoint import load_checkpoint, model_config, save_checkpoint
    torch.manual_seed(0)
    m = PyramidNCM(num_joints=15, in_channels=9, num_classes=3, channels=range(6), dims=6, degree=2,
                   extras=("distances", "kernels"), pos_channels=range(3), kernel_seed=3)
    assert m.pyramid_dim == 1260 + 1470 + 1512 and torch.equal(m.kernels.mask, RandomKernels(135, seed=3).mask)
    Xp = torch.randn(40, 9, 32, 15)
    m.fit_public(Xp, torch.arange(40) % 4).eval()
    assert m.kernels.bias.abs().sum() > 0                                # fitted on the public clips
    X = torch.randn(5, 9, 32, 15)
    phi = run_model(m, X, method="features")
    assert torch.allclose(phi.norm(dim=1), torch.ones(5), atol=1e-4)    # the sensitivity bound holds with the extras
    d = m.pyramid(X)[0][:, 1260:2730].view(5, 7, 2, 105)[:, 0, 0]       # level 1: the mean distance of every pair
    pos = X[:, :3]; i, j = torch.triu_indices(15, 15, 1)
    assert torch.allclose(d, (pos[..., i] - pos[..., j]).norm(dim=1).mean(1), atol=1e-5)   # raw positions, not standardised
    card = save_checkpoint(m, tmp_path / "pyr", {"dataset": "utd", "epsilon": None})
    assert card["model"] == model_config(m) and card["model"]["extras"] == ["distances", "kernels"] and card["model"]["kernel_seed"] == 3
    back, _ = load_checkpoint(tmp_path / "pyr")
    assert back.extras == m.extras and back.pos_channels == (0, 1, 2) and torch.equal(back.kernels.bias, m.kernels.bias)
    with torch.no_grad(): assert torch.allclose(back(X), m(X), atol=1e-5)
    assert "extras" not in model_config(PyramidNCM(num_joints=15, in_channels=9, dims=6))   # cards without extras are as before
    with pytest.raises(ValueError, match="needs pos_channels"): PyramidNCM(extras=("distances",))
    with pytest.raises(ValueError, match="extras must be distinct"): PyramidNCM(extras=("kernels", "kernels"), pos_channels=range(3))
