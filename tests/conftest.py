import os
from pathlib import Path
import pytest

@pytest.fixture(scope="session")
def data_root() -> Path:
    "The real data root from PRISM_DATA; skips (saying why) when it is not set."
    root = os.environ.get("PRISM_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("PRISM_DATA is not set to the data folder (utd_mhad/, msr_action3d/, ...); see README 'Set up and run'")
    return Path(root)


def tiny_models(n:int, fit_norm:bool=False) -> tuple:
    "(X, y, stgcn, lstm): n random (9, 16, 15) clips of 4 classes and a small STGCN_PRISM and LSTMBaseline for them, seeded."
    import numpy as np, torch
    from prism.models import LSTMBaseline, STGCN_PRISM
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 9, 16, 15)).astype(np.float32)
    y = np.arange(n) % 4
    torch.manual_seed(0)
    stgcn = STGCN_PRISM(num_joints=15, in_channels=9, num_classes=4, layout="prism15", channels=(8, 16)).eval()
    lstm = LSTMBaseline(num_joints=15, in_channels=9, num_classes=4, hidden_size=16).eval()
    if fit_norm:
        for m in (stgcn, lstm): m.input_norm.fit(X * 3 + 1)   # a non-trivial input standardisation
    return X, y, stgcn, lstm


@pytest.fixture(scope="session")
def make_tiny():
    "`tiny_models` as a fixture, so test modules need not import conftest."
    return tiny_models
