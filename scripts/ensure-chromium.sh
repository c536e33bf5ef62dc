#!/usr/bin/env bash
# Installs Debian's chromium for the real-browser tests when it is missing and we can
# (root with apt-get).  Never downloads a browser build of its own.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Note: /usr/bin/chromium is missing and cannot be installed here (not root);" \
       "the e2e browser tests will be reported as skipped." >&2
fi
