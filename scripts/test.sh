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
cargo test --workspace --no-fail-fast
