#!/usr/bin/env bash
# docs/migrations.md's transcripts, run and compared (check-docs.py).
#   Usage: check-docs.sh path/to/corm
set -eu
exec python3 "$(dirname "$0")/check-docs.py" "${1:?usage: check-docs.sh CORM}"
