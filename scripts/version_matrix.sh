#!/usr/bin/env bash
# Runs the version matrix (tests/version_matrix.rs: a lean smoke of every function area
# against Kafka 2.3.1, 2.8.2, 3.6.2, 3.9.2 in ZooKeeper mode and KRaft, 4.0.2 and 4.4.0, one
# small sandbox cluster at a time, each answer compared with that version's own tools) and
# prints the compatibility table it wrote to target/version-matrix.md.
#
#   scripts/version_matrix.sh              # run it and print the table
#   scripts/version_matrix.sh --readme     # and replace the table in README.md
#   KAFSH_MATRIX=2.8.2 scripts/version_matrix.sh   # one version (or a comma-separated list)
#
# Takes about four minutes on 2 cores (the jars of each version are fetched once with mvn).
set -euo pipefail
cd "$(dirname "$0")/.."

update_readme=false
[ "${1:-}" = --readme ] && update_readme=true
if $update_readme && [ -n "${KAFSH_MATRIX:-}" ]; then
    echo "version_matrix: --readme wants the whole matrix; unset KAFSH_MATRIX" >&2
    exit 2
fi

scripts/install-deps.sh >&2
table="$(cargo metadata --format-version 1 --no-deps | sed -e 's/.*"target_directory":"\([^"]*\)".*/\1/')/version-matrix.md"
rm -f "$table"
status=0
cargo test --test version_matrix -- --nocapture >&2 || status=$?
[ -f "$table" ] || { echo "version_matrix: the test wrote no $table" >&2; exit 1; }
cat "$table"
if [ $status -ne 0 ]; then
    echo "version_matrix: the matrix failed (see above); README.md left alone" >&2
    exit $status
fi
if $update_readme; then
    begin='<!-- version-matrix:begin (scripts/version_matrix.sh --readme) -->'
    end='<!-- version-matrix:end -->'
    grep -qF "$begin" README.md || { echo "version_matrix: README.md has no '$begin' line" >&2; exit 1; }
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    {
        echo "Measured $(date -u +%Y-%m-%d) by \`scripts/version_matrix.sh\` (Java $(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p')):"
        echo
        cat "$table"
    } >"$work/table.md"
    awk -v begin="$begin" -v end="$end" -v file="$work/table.md" '
        $0 == begin { print; while ((getline line < file) > 0) print line; skip = 1; next }
        $0 == end { skip = 0 }
        !skip { print }
    ' README.md >"$work/README.md"
    cp "$work/README.md" README.md
    echo "version_matrix: README.md updated" >&2
fi
