#!/usr/bin/env bash
# Benchmark (not a test): lag of 200 consumer groups over topics with 2,000 partitions in all,
# kafsh's lag() against Kafka's ConsumerGroupCommand --all-groups --describe, on the same
# sandbox cluster, alternating runs; prints medians and the ratio.
#
#   scripts/bench_lag.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
scripts/install-deps.sh
cargo build --release --quiet --workspace
sandbox=target/release/kafsh-sandbox
kafsh=target/release/kafsh
dir="$(mktemp -d)/bench"
"$sandbox" up --kind zookeeper --dir "$dir" >/dev/null
trap '"$sandbox" down --dir "$dir" >/dev/null 2>&1 || true' EXIT
eval "$("$sandbox" env --dir "$dir")"
export KAFSH_CONFIG=/nonexistent
"$kafsh" --bootstrap-server "$KAFSH_BOOTSTRAP" run scripts/bench/lag_setup.rhai \
    --arg topics=20 --arg partitions=100 --arg groups=200 2>&1 | grep -v '^note' || true

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ours=(); theirs=()
for i in $(seq "$runs"); do
    t0=$(now)
    n=$("$kafsh" --bootstrap-server "$KAFSH_BOOTSTRAP" -e 'lag().len()')
    t1=$(now)
    "$sandbox" tool --dir "$dir" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
        --bootstrap-server @bootstrap --all-groups --describe >/dev/null 2>&1
    t2=$(now)
    ours+=($(( (t1 - t0) / 1000000 ))); theirs+=($(( (t2 - t1) / 1000000 )))
done
m_ours=$(printf '%s\n' "${ours[@]}" | median)
m_theirs=$(printf '%s\n' "${theirs[@]}" | median)
echo "groups described by kafsh: $n"
echo "kafsh lag()                                    median ${m_ours} ms  (runs: ${ours[*]})"
echo "ConsumerGroupCommand --all-groups --describe   median ${m_theirs} ms  (runs: ${theirs[*]})"
awk -v a="$m_theirs" -v b="$m_ours" 'BEGIN { printf "ratio: kafsh is %.1fx faster\n", a / b }'
