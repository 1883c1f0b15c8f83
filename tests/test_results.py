"""The committed results record settings as data (issue 19, item 6)."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEGACY_DATE = "2026-11-26"   # the runs made before settings were recorded as data; issue 14's re-make replaces them
LEGACY_MAX = 39               # how many remain (99 when this test was written; 60 re-made on CPU since): the number can only fall


def test_results_record_settings_as_data():
    """No results file holds an object's default repr (`<... object at 0x...>`: a memory address, not a setting), except
    the older run files listed by date, and `prism.io.write_json_atomic` refuses to write a new one."""
    found = sorted(p for p in (ROOT / "results").rglob("*.json") if " object at 0x" in p.read_text())
    newer = [str(p.relative_to(ROOT)) for p in found if not json.loads(p.read_text()).get("date", "").startswith(LEGACY_DATE)]
    assert not newer, f"results files record object reprs: {newer[:5]}"
    assert len(found) <= LEGACY_MAX, f"{len(found)} older files with object reprs, more than the {LEGACY_MAX} known"
