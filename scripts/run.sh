#!/usr/bin/env bash
# Command one: run the portal with demo data on http://127.0.0.1:${PORT:-5000}/
#
# From a fresh clone on a fresh machine (Debian, Python >= 3.11 with venv): creates .venv if
# missing, installs the project, applies the migrations, seeds the demo street and serves the
# app. Safe to run again: every step is idempotent.
#
#   bash scripts/run.sh            # then open http://127.0.0.1:5000/
#   PORT=8080 bash scripts/run.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT="${PORT:-5000}"
PYTHON="${PYTHON:-python3}"

say() { printf '==> %s\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: $PYTHON is missing or older than 3.11; install python3 (>= 3.11)" >&2
    exit 1
  fi
  say "creating .venv"
  if ! "$PYTHON" -m venv .venv; then
    echo "error: could not create .venv; on Debian: apt-get install python3-venv" >&2
    exit 1
  fi
fi

say "installing the portal into .venv"
pip_log=$(mktemp)
if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e . >"$pip_log" 2>&1
then
  cat "$pip_log" >&2
  rm -f "$pip_log"
  echo "error: pip install failed" >&2
  exit 1
fi
rm -f "$pip_log"

export FLASK_APP=portal
say "applying database migrations"
.venv/bin/flask --app portal db upgrade
say "seeding the demo data"
.venv/bin/flask --app portal demo

say "serving on http://127.0.0.1:${PORT}/ (Ctrl-C stops)"
exec .venv/bin/flask --app portal run --host 127.0.0.1 --port "$PORT"
