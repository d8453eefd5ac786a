#!/usr/bin/env bash
# A second virtual environment, .venv-colab, with the package versions Google Colab ships that the book's
# notebooks touch (ipywidgets 7.7.1, numpy 2.1, matplotlib 3.10, ipykernel 6.17, IPython 7.34, Keras
# 3.10), plus what the notebook tests need to drive a kernel. With --test, run every chapter there as a
# student would: the lesson worked in order, which executes the full chapter. (The blank "Run all" runs
# only in .venv: where it stops depends on the lesson, not on the package versions.)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv=.venv-colab

"$python" -m venv "$venv"
if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
  "$venv/bin/python" -m pip install -q --index-url "$TORCH_INDEX_URL" "torch>=2.4,<=2.13.0"
fi
"$venv/bin/python" -m pip install -q \
  "ipywidgets==7.7.1" "numpy==2.1.*" "matplotlib==3.10.*" "ipykernel==6.17.*" "ipython==7.34.0" \
  "keras==3.10.0" "torch>=2.4,<=2.13.0" scikit-learn scipy pillow \
  nbformat nbclient pytest pytest-timeout pytest-xdist pyyaml
KERAS_BACKEND=torch "$venv/bin/python" - <<'PY'
import IPython, ipykernel, ipywidgets, keras, matplotlib, numpy, torch
print("Colab-like environment:", ", ".join(f"{m.__name__} {m.__version__}" for m in
      (ipywidgets, numpy, matplotlib, ipykernel, IPython, keras, torch)))
assert ipywidgets.__version__ == "7.7.1" and numpy.__version__.startswith("2.1.")
assert IPython.__version__ == "7.34.0" and ipykernel.__version__.startswith("6.17.")
assert matplotlib.__version__.startswith("3.10.") and keras.__version__ == "3.10.0"
PY
if [[ "${1:-}" == "--test" ]]; then
  "$venv/bin/python" -m pytest tests/test_notebooks.py -p no:cacheprovider -q -n 2 \
    -o addopts="" -o "testpaths=tests" \
    -k "works_in_order or environment_is_live"
fi
