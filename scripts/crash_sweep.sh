#!/usr/bin/env bash
# The full crash-point sweep: every mutating runbook killed (SIGKILL) after each of its
# mutations in turn, run again, and compared with an uninterrupted run. CI tries a sample
# of kill points per runbook; this tries every one (tens of minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export KAFSH_CRASH_SWEEP=full
cargo test --test zk_mode increase_replication_factor_survives -- --test-threads=1
cargo test --test kraft increase_replication_factor_survives -- --test-threads=1
cargo test --test scale_out -- killed_anywhere rolling_restart --test-threads=1
cargo test --test zk_runbooks -- --test-threads=1
