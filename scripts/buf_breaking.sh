#!/usr/bin/env bash
# `buf breaking` (FILE rules, buf.yaml) of protos/ against an earlier commit, so no change to the
# API silently breaks a generated client. Run by .ci/run.
#
# The baseline is BUF_BREAKING_AGAINST (a git ref), by default HEAD~1: on main, the previous
# commit; a branch's CI can set it to `main`. Skipped, with a note, when there is no git history,
# no such commit, or the baseline has no protos/ yet (the API had not shipped).
set -euo pipefail
cd "$(dirname "$0")/.."

BUF=${BUF:-tools/buf/node_modules/.bin/buf}
AGAINST=${BUF_BREAKING_AGAINST:-HEAD~1}

if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "buf breaking: skipped (not a git checkout)"
    exit 0
fi
if ! commit=$(git rev-parse --verify --quiet "${AGAINST}^{commit}"); then
    echo "buf breaking: skipped (no commit ${AGAINST} to compare with)"
    exit 0
fi
if ! git cat-file -e "${commit}:protos" 2>/dev/null; then
    echo "buf breaking: skipped (${AGAINST} has no protos/)"
    exit 0
fi
echo "buf breaking: protos/ against ${AGAINST} (${commit:0:12})"
# A full commit id, so buf resolves it whatever the clone depth or the current branch.
exec "$BUF" breaking --against ".git#ref=${commit}"
