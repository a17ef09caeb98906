"""Execute course notebooks top to bottom and store their outputs, deterministically.

    .venv/bin/python -m tools.run_notebooks notebooks/02_mse.ipynb solutions/*.ipynb

Each notebook runs in a fresh kernel in its own folder (as nbval and JupyterLab run
it), with the progress store in a temporary folder. Outputs that only make sense in a
live kernel are dropped: widget views (without saved widget state JupyterLab would show
"model not found" when the notebook is opened) and the text repr that stands in for
them. Cells whose output nbval compares (tag ``nbval-check-output``, e.g. every ``check``
cell) keep the text of a rich output and not its HTML: the HTML of ``check``'s verdict is
the same verdict rendered for JupyterLab, nbval compares only the text
(conftest.py), and a second copy would change with every style tweak. Execution counts are
renumbered and volatile metadata removed, so running twice gives the same file.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Rich renderings dropped from compared cells when the output also has ``text/plain``.
NOT_COMPARED = ("text/html",)


def _keep_text_only(cell) -> None:
    """A compared cell stores the text nbval compares, not a second (HTML) rendering."""
    from lossbook.notebook_roles import CHECK_OUTPUT_TAG, tags_of

    if CHECK_OUTPUT_TAG not in tags_of(cell):
        return
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "text/plain" in data:
            for mime in NOT_COMPARED:
                data.pop(mime, None)


def _strip_live_outputs(cell) -> None:
    """Drop widget views; merge consecutive stream chunks (their split depends on timing)."""
    kept = []
    for output in cell.get("outputs", []):
        if WIDGET_VIEW in output.get("data", {}):
            continue
        previous = kept[-1] if kept else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
            continue
        kept.append(output)
    cell["outputs"] = kept


def _normalise(nb) -> None:
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata.get("language_info", {}).pop("version", None)
    count = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            _strip_live_outputs(cell)
            _keep_text_only(cell)
            if cell.get("execution_count") is not None:
                count += 1
                cell["execution_count"] = count
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output["execution_count"] = cell["execution_count"]


def run(path: Path, timeout: int = 600) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="lossbook-progress-") as progress:
        os.environ["LOSSBOOK_PROGRESS_DIR"] = progress
        try:
            NotebookClient(
                nb, timeout=timeout, kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
        finally:
            os.environ.clear()
            os.environ.update(env_before)
    _normalise(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        run(path, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
