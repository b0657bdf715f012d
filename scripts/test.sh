#!/usr/bin/env bash
# Runs every check and test of kafsh: formatting, clippy, unit tests, and the integration
# tests against real ZooKeeper and Kafka (ZooKeeper-mode 3.9 and KRaft 4) started on
# 127.0.0.1 by the sandbox harness. The Kafka jars are fetched with Maven on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "== jars"
cargo build --quiet -p kafsh-sandbox
target/debug/kafsh-sandbox jars --kind zookeeper
target/debug/kafsh-sandbox jars --kind kraft
echo "== rustfmt"
cargo fmt --all --check
echo "== clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== tests"
cargo test --workspace --no-run --quiet

# Two lanes side by side: the cluster tests spend most of their time waiting on the JVMs,
# so two binaries at a time fit in 2 cores and the suite takes about half as long. Each
# lane has its own port range (below the kernel's ephemeral ports), so their sandboxes
# never pick the same port. Lane one takes the longest binaries; lane two everything else,
# so a new test file runs without being listed here. kafsh's own doc comments carry Rhai
# examples, which tests/docs.rs compiles; only the sandbox crate has Rust doc tests.
lane_one=(scale_out zk_to_kraft version_matrix package degraded)
lane_two=()
for file in tests/*.rs; do
    name=$(basename "$file" .rs)
    [[ " ${lane_one[*]} " == *" $name "* ]] || lane_two+=("$name")
done

run_lane() {
    local label=$1 ports=$2
    shift 2
    (
        export KAFSH_SANDBOX_PORTS=$ports
        status=0
        for args in "$@"; do
            # shellcheck disable=SC2086 # each entry is a list of cargo arguments
            cargo test --no-fail-fast $args || status=1
        done
        exit $status
    ) 2>&1 | sed -u "s/^/[$label] /"
    return "${PIPESTATUS[0]}"
}

run_lane one 20000-25999 "-p kafsh ${lane_one[*]/#/--test }" &
lane_one_pid=$!
run_lane two 26000-31999 \
    "-p kafsh --lib --bins ${lane_two[*]/#/--test }" \
    "-p kafsh-sandbox" &
lane_two_pid=$!
failed=0
wait "$lane_one_pid" || failed=1
wait "$lane_two_pid" || failed=1
if [[ $failed != 0 ]]; then
    echo "== tests FAILED (search this log for 'FAILED' and 'panicked')"
    exit 1
fi
echo "== tests passed"
