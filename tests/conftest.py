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
