#!/usr/bin/env bash
# Set up everything the book needs in ./.venv; with --browser, also Chromium and ChromeDriver for the
# browser test (Debian or Ubuntu, installed with apt-get, as root or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--browser" ]] && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
  sudo_cmd=""
  [[ "$(id -u)" == 0 ]] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q -r requirements.txt
.venv/bin/python -c "import torch, numpy, jupyter_book; print('torch', torch.__version__, '| numpy', numpy.__version__)"
