"""Executes a notebook with nbclient in its own folder; fails on the first cell that raises.
Usage: python run_notebook.py NOTEBOOK"""

import sys
import time
from pathlib import Path

import nbclient
import nbformat

path = Path(sys.argv[1]).resolve()
nb = nbformat.read(path, as_version=4)
started = time.monotonic()
nbclient.NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
images = sum(1 for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
assert images >= 3, f"{path.name}: {images} plots drawn, 3 expected"
print(f"ok: {path.name}: {len(nb.cells)} cells, {images} plots, {time.monotonic() - started:.1f} s")
