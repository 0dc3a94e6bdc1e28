#!/usr/bin/env bash
# The panel in a real browser (tests/browser/panel.mjs): Debian's headless
# Chromium driven by playwright-core from npm (make browser-deps installs
# both).  Argument: the build directory (its corm; screenshots go to
# BUILD/screenshots, the ones docs/inspect.md shows).
set -u
b=${1:?usage: check-browser.sh BUILD_DIR}
here=$(dirname "$0")
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "browser tests: SKIPPED: $chromium is not installed (tools/deps.sh browser could not install it)"
  exit 0
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "browser tests: FAILED: playwright-core is missing: run make browser-deps (npm ci in tests/browser)"
  exit 1
fi
exec node "$here/panel.mjs" "$b/corm" "$b/screenshots"
