"The house rules that keep PRISM one pipeline: a chain of modules, each importing only the ones above it, at the top."
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the chain of CONTRIBUTING.md: a module may import only modules that come before it
ORDER = ["io", "catalog", "skeleton", "kinematics", "pose", "data", "jhmdb", "clip", "userdata", "models", "checkpoint", "privacy",
         "distributed", "benchmarks", "experiments", "optimization", "attacks", "audit", "report", "cli", "commands"]
HEAVY = {"cv2", "mediapipe", "onnxruntime", "onnx", "onnxscript", "torch.ao.quantization", "torch.ao.quantization.quantize_fx",
         "torch.profiler", "logging", "mediapipe.python.solutions", "torch_geometric.utils"}
# the one PRISM import allowed inside a function: `prism.cli.main` imports the commands only after the arguments are checked,
# so `prism --help` and a refused argument never load torch (the commands import the whole chain)
LAZY = {"cli": {"commands"}}


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
    bad = {m: sorted(_imports(ROOT / "prism" / f"{m}.py")[1] - LAZY.get(m, set())) for m in ORDER}
    bad = {m: v for m, v in bad.items() if v}
    assert not bad, f"imports of PRISM modules inside functions (put them at the top): {bad}"


def test_the_light_modules_stay_light():
    "The catalog imports nothing, and the command line only the catalog: `prism --help` must not wait for torch."
    for m, allowed in (("catalog", set()), ("cli", {"catalog"})):
        top, inner, other = _imports(ROOT / "prism" / f"{m}.py")
        assert top <= allowed, f"prism.{m} imports {sorted(top - allowed)} at the top: it must stay light"
        tree = ast.parse((ROOT / "prism" / f"{m}.py").read_text())
        third = {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name).split(".")[0] for n in tree.body
                 if isinstance(n, (ast.Import, ast.ImportFrom)) and not (isinstance(n, ast.ImportFrom) and n.level)}
        assert third <= {"__future__", "argparse", "sys", "prism"}, f"prism.{m} imports {sorted(third)} at the top"


def test_only_heavy_optional_dependencies_are_imported_in_functions():
    bad = {m: sorted(o - HEAVY) for m in ORDER for o in [_imports(ROOT / "prism" / f"{m}.py")[2]] if o - HEAVY}
    assert not bad, f"imports inside functions that are not heavy optional dependencies: {bad}"
