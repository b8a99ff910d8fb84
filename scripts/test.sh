#!/usr/bin/env bash
# Command two: lint and run the whole test suite.
#
# Creates .venv if missing and installs the project with its test extras; installs Debian's
# chromium and fonts-noto-cjk when the browser is missing (as root, with apt-get); runs
# `ruff check` and `ruff format --check`; runs pytest on SQLite, then again on PostgreSQL when
# TEST_DATABASE_URL is set. Extra arguments go to pytest:
#
#   bash scripts/test.sh                      # everything
#   bash scripts/test.sh tests/browser -x     # only the browser journeys, stop at the first failure
#   TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test bash scripts/test.sh
#
# Exits non-zero when any step fails, including a pytest run that collected no test (exit 5).
# Every step runs even when an earlier one failed, so one run shows every problem; the output
# ends with pytest's own summary lines.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---- environment ------------------------------------------------------------------------

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null ||
    die "$PYTHON is missing or older than 3.11; install python3 (>= 3.11)"
  say "creating .venv"
  "$PYTHON" -m venv .venv || die "could not create .venv; on Debian: apt-get install python3-venv"
fi

say "installing the portal and its test tools into .venv"
pip_log=$(mktemp)
if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" \
    >"$pip_log" 2>&1; then
  cat "$pip_log" >&2
  rm -f "$pip_log"
  die "pip install failed"
fi
rm -f "$pip_log"

missing_pkgs=()
[ -x "$CHROMIUM" ] || missing_pkgs+=(chromium fonts-noto-cjk)
if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing_pkgs[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null &&
      apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null ||
      echo "warning: apt-get could not install ${missing_pkgs[*]}" >&2
  else
    echo "warning: $CHROMIUM is missing and cannot be installed here (needs root and" \
      "apt-get): the browser tests will be skipped (or fail with REQUIRE_BROWSER=1)" >&2
  fi
fi

# ---- checks -----------------------------------------------------------------------------

failed=()

say "ruff check ."
.venv/bin/ruff check . || failed+=("ruff check")

say "ruff format --check ."
.venv/bin/ruff format --check . || failed+=("ruff format")

run_pytest() {  # run_pytest LABEL [env assignments...] -- [pytest args...]
  local label=$1 status
  shift
  local envs=()
  while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  if [ "${#failed[@]}" -gt 0 ]; then
    say "failed so far: ${failed[*]}"
  fi
  say "pytest on $label"
  env "${envs[@]}" .venv/bin/python -m pytest "$@"
  status=$?
  case $status in
    0) ;;
    5) echo "pytest on $label collected no test: that counts as a failure" >&2
       failed+=("pytest on $label (no tests)") ;;
    *) failed+=("pytest on $label (exit $status)") ;;
  esac
}

# SQLite: each test copies a template database file into its own tmp folder, so the tests run
# in parallel on every core (pytest-xdist; PYTEST_WORKERS=0 runs them in this one process).
run_pytest SQLite -u TEST_DATABASE_URL -- -n "${PYTEST_WORKERS:-auto}" "$@"

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  # PostgreSQL: each xdist worker uses its own database next to TEST_DATABASE_URL's (test_gw0,
  # test_gw1 …, created on first use; see tests/conftest.py), truncated per test. The axe sweep
  # checks markup only, which does not depend on the database: it ran in the SQLite pass.
  run_pytest "PostgreSQL ($TEST_DATABASE_URL)" "TEST_DATABASE_URL=$TEST_DATABASE_URL" -- \
    -n "${PYTEST_WORKERS:-auto}" -m "not markup_sweep" "$@"
fi

if [ "${#failed[@]}" -gt 0 ]; then
  exit 1
fi
exit 0
