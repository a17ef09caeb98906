"""The math layer imports numpy only (checked in a fresh interpreter)."""
import json
import subprocess
import sys

HEAVY = ["scipy", "matplotlib", "ipywidgets", "IPython", "sklearn", "torch", "pandas"]


def test_math_layer_imports_numpy_only():
    code = (
        "import sys, json\n"
        "import lossbook, lossbook.losses, lossbook.regularization, lossbook.gradcheck, "
        "lossbook.canonical, lossbook._validation\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_losses_package_reexports_every_public_function():
    import lossbook.losses as L
    from lossbook.losses import classification, margin, regression, robust
    for module in (regression, classification, margin, robust):
        for name in module.__all__:
            assert getattr(L, name) is getattr(module, name)
            assert name in L.__all__
    for name in L.__all__:
        obj = getattr(L, name)
        if callable(obj) and name.endswith("_grad"):
            base = name[: -len("_grad")]
            assert base in L.__all__ or name == "bce_with_logits_grad", name
