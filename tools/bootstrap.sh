#!/usr/bin/env bash
# Set up everything the book needs in ./.venv: build the website, run and grade the notebooks, run the tests.
#
#   bash tools/bootstrap.sh [--browser]
#
# --browser         also install Chromium and ChromeDriver for the browser test (Debian or Ubuntu:
#                   apt-get install chromium chromium-driver, as root or through sudo)
# PYTHON=...        the interpreter to build .venv with (default: python3; 3.11 or newer)
# TORCH_INDEX_URL=  install torch from this index first, e.g. https://download.pytorch.org/whl/cpu for the
#                   CPU-only build on Linux, where PyPI's torch wheel is the large CUDA build
#
# Safe to run again: it only installs what is missing. Exit codes: 2 bad arguments, 3 no suitable Python,
# 4 no working venv module, 5 the browser could not be installed; anything else comes from pip or apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "bootstrap: $2" >&2; exit "$1"; }

browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail 2 "unknown argument '$arg' (usage: bash tools/bootstrap.sh [--browser])" ;;
  esac
done

python="${PYTHON:-python3}"
command -v "$python" >/dev/null || fail 3 "'$python' not found: install Python 3.11 or newer (or set PYTHON=/path/to/python3)"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  fail 3 "the book needs Python 3.11 or newer; '$python' is $("$python" -c 'import sys; print(sys.version.split()[0])')"

if [[ $browser == 1 ]] && ! { command -v chromium && command -v chromedriver; } >/dev/null; then
  command -v apt-get >/dev/null ||
    fail 5 "--browser installs Debian's chromium and chromium-driver with apt-get, which this system lacks; install Chromium and a matching ChromeDriver yourself"
  sudo_cmd=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || fail 5 "--browser needs root or sudo to run apt-get"
    sudo_cmd=(sudo)
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  { command -v chromium && command -v chromedriver; } >/dev/null || fail 5 "chromium or chromedriver is still missing after apt-get"
fi

if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  if ! venv_error="$("$python" -m venv .venv 2>&1)"; then
    echo "$venv_error" >&2
    rm -rf .venv
    fail 4 "'$python -m venv' does not work here; on Debian or Ubuntu: apt-get install python3-venv (as root), then run this again"
  fi
fi
.venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  fail 3 ".venv was made with a Python older than 3.11: remove it (rm -rf .venv) and run this again"

if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
  torch_requirement="$(grep -E '^torch[<>=!~ ]' requirements.txt | head -n 1)"
  .venv/bin/python -m pip install -q --index-url "$TORCH_INDEX_URL" "$torch_requirement"
fi
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -m pip check >/dev/null || { .venv/bin/python -m pip check >&2; exit 1; }
.venv/bin/python -c "import torch, numpy, jupyter_book; print('torch', torch.__version__, '| numpy', numpy.__version__)"
