#!/usr/bin/env bash
# The browser journeys of uslugi, from a bare machine to node's test summary.
#
#   bash e2e/run.sh                      # everything
#   bash e2e/run.sh --test-name-pattern='desktop-js-ru'   # extra args go to `node --test`
#
# Installs what is missing (Chromium from Debian's packages, the npm packages
# from package-lock.json), builds the release binary (cargo does nothing when
# it is up to date), starts nothing by hand: the suite starts its own server.
#
# Environment:
#   USLUGI_BIN        test this binary instead of building target/release/uslugi
#   E2E_BUILD=debug   build and test target/debug/uslugi (no release compile;
#                     `cargo test` has usually built it already)
#   E2E_SKIP_BUILD=1  do not run cargo (use the binary as it is)
#   E2E_CONCURRENCY   journeys at a time (default 3)
#   E2E_RUN_ID        name of the screenshot folder e2e/artifacts/<run-id>/
#   E2E_UPDATE_SCREENS=1  also rewrite docs/screens/ (the README's pictures)
#   CHROMIUM_PATH     Chromium to drive (default /usr/bin/chromium)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
cd "$HERE"
started=$(date +%s)

say() { printf '[e2e] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else say "need root for: $*"; return 1
  fi
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q >/dev/null
  as_root apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# --- Chromium: Debian's own build (Playwright's browser downloads cannot be reached)
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export CHROMIUM_PATH
if [ ! -x "$CHROMIUM_PATH" ]; then
  say "installing chromium from Debian's packages"
  apt_install chromium fonts-dejavu-core fonts-liberation ca-certificates
fi

# --- node and npm
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "installing nodejs and npm from Debian's packages"
  apt_install nodejs npm
fi

# --- npm packages, exactly as locked
if [ ! -f node_modules/playwright-core/package.json ] || [ ! -f node_modules/axe-core/axe.min.js ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- the binary under test
if [ -z "${USLUGI_BIN:-}" ]; then
  case "${E2E_BUILD:-release}" in
    release) profile_flag=--release; profile_dir=release ;;
    debug) profile_flag=; profile_dir=debug ;;
    *) say "E2E_BUILD must be release or debug"; exit 2 ;;
  esac
  if [ "${E2E_SKIP_BUILD:-}" != 1 ]; then
    say "cargo build $profile_flag --bin uslugi"
    (cd "$ROOT" && cargo build $profile_flag --bin uslugi --quiet)
  fi
  export USLUGI_BIN="$ROOT/target/$profile_dir/uslugi"
fi
[ -x "$USLUGI_BIN" ] || { say "no binary at $USLUGI_BIN"; exit 1; }

# --- keep the last few runs' screenshots, drop older ones
export E2E_RUN_ID="${E2E_RUN_ID:-$(date -u +%Y%m%dT%H%M%SZ)}"
if [ -d artifacts ]; then
  ls -1dt artifacts/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
fi

say "$(node --version), $("$CHROMIUM_PATH" --version 2>/dev/null | head -1), binary $USLUGI_BIN"
say "screenshots: e2e/artifacts/$E2E_RUN_ID/"
status=0
# The journeys take a few minutes; the guard only stops a run that hangs.
timeout --kill-after=20 900 node --test --test-reporter=spec "$@" tests/ || status=$?
say "finished in $(( $(date +%s) - started )) s with status $status"
exit "$status"
