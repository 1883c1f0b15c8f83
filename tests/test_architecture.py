"The house rules that keep PRISM one pipeline: a chain of modules, each importing only the ones above it, at the top."
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the chain of CONTRIBUTING.md: a module may import only modules that come before it
ORDER = ["io", "skeleton", "kinematics", "pose", "data", "jhmdb", "clip", "userdata", "models", "checkpoint", "privacy", "distributed", "benchmarks",
         "experiments", "optimization", "attacks", "audit", "report", "cli"]
HEAVY = {"cv2", "mediapipe", "onnxruntime", "onnx", "onnxscript", "torch.ao.quantization", "torch.ao.quantization.quantize_fx",
         "torch.profiler", "logging", "mediapipe.python.solutions"}


def _imports(path: Path):
    "(prism modules imported at the top, prism modules imported inside functions, other in-function imports)."
    tree = ast.parse(path.read_text())
    top, inner, other = set(), set(), set()
    def prism_mods(node):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: return {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
            if node.module and node.module.startswith("prism"):
                return {node.module.split(".")[1]} if "." in node.module else {a.name for a in node.names}
        if isinstance(node, ast.Import): return {a.name.split(".")[1] for a in node.names if a.name.startswith("prism.")}
        return set()
    for node in tree.body:
        top |= prism_mods(node)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    m = prism_mods(sub)
                    if m or (isinstance(sub, ast.ImportFrom) and sub.level): inner |= m or {"?"}
                    else: other |= {sub.module if isinstance(sub, ast.ImportFrom) else sub.names[0].name}
    return top - {"__version__", "__distribution__"}, inner, other


def test_every_module_is_in_the_chain():
    mods = {p.stem for p in (ROOT / "prism").glob("*.py") if not p.stem.startswith("_")}
    assert mods == set(ORDER), f"modules not in the chain: {sorted(mods ^ set(ORDER))} (update ORDER and CONTRIBUTING.md)"


def test_modules_import_only_modules_above_them():
    bad = []
    for i, m in enumerate(ORDER):
        top, inner, _ = _imports(ROOT / "prism" / f"{m}.py")
        bad += [f"{m} imports {x}" for x in sorted(top) if x in ORDER and ORDER.index(x) >= i]
    assert not bad, "upward imports (a lower module importing a higher one): " + "; ".join(bad)


def test_no_prism_imports_hidden_in_functions():
    bad = {m: sorted(_imports(ROOT / "prism" / f"{m}.py")[1]) for m in ORDER}
    bad = {m: v for m, v in bad.items() if v}
    assert not bad, f"imports of PRISM modules inside functions (put them at the top): {bad}"


def test_only_heavy_optional_dependencies_are_imported_in_functions():
    bad = {m: sorted(o - HEAVY) for m in ORDER for o in [_imports(ROOT / "prism" / f"{m}.py")[2]] if o - HEAVY}
    assert not bad, f"imports inside functions that are not heavy optional dependencies: {bad}"
