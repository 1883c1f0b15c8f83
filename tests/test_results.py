"""The committed results record settings as data (issue 19, item 6)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_results_record_settings_as_data():
    """No results file holds an object's default repr (`<... object at 0x...>`: a memory address, not a setting); the 99
    older run files that did were all re-made through the one path (issue 14)."""
    found = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "results").rglob("*.json") if " object at 0x" in p.read_text())
    assert not found, f"{len(found)} results files record object reprs: {found[:5]}"
