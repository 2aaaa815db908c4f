#!/usr/bin/env bash
# The whole test suite, from a fresh machine: install what the tests need, then run them.
# Run it in the Python environment to test (a virtualenv): it pip-installs into it.
# Arguments go to pytest (bash scripts/test.sh -k redis -x).
set -euo pipefail
cd "$(dirname "$0")/.."

# The RedisLimiter tests start a real redis-server on 127.0.0.1 (never a mock).
if [ -z "${MOOR7_TEST_REDIS_SERVER:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "scripts/test.sh: install redis-server (apt-get install redis-server," \
      "brew install redis) or set MOOR7_TEST_REDIS_SERVER to its path" >&2
    exit 1
  fi
fi

python -m pip install --quiet -e '.[test]'
python -m pytest "$@"
