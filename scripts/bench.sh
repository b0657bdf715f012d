#!/usr/bin/env bash
# Benchmarks (not tests): kafsh against Kafka's own command-line classes from the same jars,
# on one sandbox cluster (ZooKeeper mode, 5 brokers), alternating runs; prints medians and
# ratios. Sections (default: all):
#   startup   `kafsh -e` list_topics / describe_topic / describe_group vs kafka-topics and
#             kafka-consumer-groups, plus kafsh's peak memory
#   describe  describe_topics of 10,000 partitions in 500 topics vs TopicCommand --describe
#   lag       lag() of 200 groups over 2,000 partitions vs ConsumerGroupCommand --all-groups
#   lag4      on a KRaft Kafka 4 cluster: lag() of 200 groups of mixed types (100 classic, 60
#             on the KIP-848 consumer protocol, 40 share groups; their clients from
#             bench/MixedGroups.java) vs ConsumerGroupCommand --all-groups --describe (which
#             covers the consumer groups) and ShareGroupCommand --all-groups --describe
#   messages  produce and consume MSG_RECORDS (default 1,000,000) records of 1 KB with lz4:
#             kafsh (produce() in calls of 10,000 queued, one flush(); also each call
#             waiting for its deliveries; tail() printing each record) vs kcat
#             (Debian's package) vs kafka-console-producer / kafka-console-consumer, each
#             producer writing to a fresh topic, every consumer reading the same topic
#   reassign  replica moves, bytes copied and spreads of kafsh's plans (balance count and
#             bytes) vs ReassignPartitionsCommand --generate and the lower bounds, for 300
#             partitions of skewed sizes going from 3 to 5 brokers; the planner's time for
#             100,000 partitions over 50 -> 60 brokers; and `kafsh -e` planning a saved plan
#             of 1,000,000 partitions from 200 onto 240 brokers (time and peak memory)
#   quorum    quorum_status() vs kafka-metadata-quorum.sh describe --status, through the
#             brokers and through the controllers, on a KRaft cluster of its own (3
#             controllers with a dynamic quorum, 3 brokers)
#
#   scripts/bench.sh [--runs N] [section...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5
if [ "${1:-}" = "--runs" ]; then runs="$2"; shift 2; fi
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(startup describe lag lag4 messages reassign quorum)
scripts/install-deps.sh
command -v /usr/bin/time >/dev/null 2>&1 || {
    echo "bench: /usr/bin/time is needed for peak memory (apt-get install time)" >&2
    exit 2
}
cargo build --release --quiet --workspace
sandbox=target/release/kafsh-sandbox
kafsh=target/release/kafsh
dir="$(mktemp -d)/bench"
export KAFSH_CONFIG=/nonexistent KAFSH_STATE_DIR="$dir-state"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tool() { "$sandbox" tool --dir "$dir" "$@"; }
k() { "$kafsh" --bootstrap-server "$KAFSH_BOOTSTRAP" "$@"; }
# compare LABEL_OURS LABEL_THEIRS "kafsh command" "tool command": alternating runs, medians.
compare() {
    local ours=() theirs=() t0 t1 t2
    for _ in $(seq "$runs"); do
        t0=$(now); eval "$3" >/dev/null 2>&1; t1=$(now)
        eval "$4" >/dev/null 2>&1; t2=$(now)
        ours+=($(( (t1 - t0) / 1000000 ))); theirs+=($(( (t2 - t1) / 1000000 )))
    done
    local mo mt
    mo=$(printf '%s\n' "${ours[@]}" | median); mt=$(printf '%s\n' "${theirs[@]}" | median)
    printf '  %-44s median %6s ms  (%s)\n' "$1" "$mo" "${ours[*]}"
    printf '  %-44s median %6s ms  (%s)\n' "$2" "$mt" "${theirs[*]}"
    awk -v a="$mt" -v b="$mo" 'BEGIN { printf "  ratio: kafsh %.1fx faster\n", a / (b > 0 ? b : 1) }'
}
peak_kib() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }

kraft="$dir-kraft"
trap '"$sandbox" down --dir "$dir" >/dev/null 2>&1 || true; "$sandbox" down --dir "$kraft" >/dev/null 2>&1 || true; rm -rf "$dir-state"' EXIT
needs_zookeeper_mode=false
for section in "${sections[@]}"; do
    case "$section" in lag4|quorum) ;; *) needs_zookeeper_mode=true ;; esac
done
if $needs_zookeeper_mode; then
    "$sandbox" up --kind zookeeper --brokers 5 --dir "$dir" >/dev/null
    eval "$("$sandbox" env --dir "$dir")"
    echo "kafsh bench: ZooKeeper-mode Kafka, 5 brokers on 127.0.0.1, $runs alternating runs, $(nproc) cores"
fi

for section in "${sections[@]}"; do
case "$section" in
startup)
    echo "== start-up and one admin call"
    k -e 'create_topic("bench-one", #{partitions: 6, replication_factor: 2, if_not_exists: true})' >/dev/null
    k -e 'reset_offsets("bench-one-g", #{topic: "bench-one", to: "earliest", execute: true})' >/dev/null
    compare "kafsh -e 'list_topics()'" "TopicCommand --list" \
        "k -e 'list_topics()'" "tool org.apache.kafka.tools.TopicCommand --bootstrap-server @bootstrap --list"
    compare "kafsh -e 'describe_topic(\"bench-one\")'" "TopicCommand --describe --topic" \
        "k -e 'describe_topic(\"bench-one\")'" \
        "tool org.apache.kafka.tools.TopicCommand --bootstrap-server @bootstrap --describe --topic bench-one"
    compare "kafsh -e 'describe_group(\"bench-one-g\")'" "ConsumerGroupCommand --describe --group" \
        "k -e 'describe_group(\"bench-one-g\")'" \
        "tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server @bootstrap --describe --group bench-one-g"
    echo "  kafsh peak memory: list_topics $(peak_kib "$kafsh" --bootstrap-server "$KAFSH_BOOTSTRAP" -e 'list_topics()') KiB," \
        "describe_group $(peak_kib "$kafsh" --bootstrap-server "$KAFSH_BOOTSTRAP" -e 'describe_group("bench-one-g")') KiB"
    ;;
describe)
    echo "== describe 10,000 partitions in 500 topics"
    k run scripts/bench/describe_setup.rhai --arg topics=500 --arg partitions=20 2>&1 | grep -v '^note' || true
    n=$(k -e 'describe_topics("bench-d.*").len()')
    echo "  topics described: $n"
    compare "kafsh describe_topics(\"bench-d.*\")" "TopicCommand --describe --topic 'bench-d.*'" \
        "k -e 'describe_topics(\"bench-d.*\")'" \
        "tool org.apache.kafka.tools.TopicCommand --bootstrap-server @bootstrap --describe --topic 'bench-d.*'"
    echo "  kafsh peak memory: $(peak_kib "$kafsh" --bootstrap-server "$KAFSH_BOOTSTRAP" -e 'describe_topics("bench-d.*")') KiB"
    ;;
lag)
    echo "== lag of 200 groups over 2,000 partitions"
    k run scripts/bench/lag_setup.rhai --arg topics=20 --arg partitions=100 --arg groups=200 2>&1 | grep -v '^note' || true
    echo "  groups: $(k -e 'lag().len()')"
    compare "kafsh lag()" "ConsumerGroupCommand --all-groups --describe" \
        "k -e 'lag()'" \
        "tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server @bootstrap --all-groups --describe"
    ;;
lag4)
    echo "== KRaft Kafka 4: lag of 200 groups of mixed types over 2,000 partitions"
    "$sandbox" up --kind kraft --dir "$dir-kraft" >/dev/null
    kbs="$("$sandbox" env --dir "$dir-kraft" | sed -n 's/^KAFSH_BOOTSTRAP=//p')"
    k4() { "$kafsh" --bootstrap-server "$kbs" "$@"; }
    k4 run scripts/bench/lag_setup.rhai --arg topics=20 --arg partitions=100 --arg groups=100 2>&1 | grep -v '^note' || true
    java -Xmx512m -cp "$("$sandbox" jars --kind kraft)/*" scripts/bench/MixedGroups.java "$kbs" bench 60 40 20 2>/dev/null
    echo "  groups: $(k4 -e 'let n = #{}; for g in lag() { let t = g.type; n[t] = if t in n { n[t] + 1 } else { 1 }; } n')"
    compare "kafsh lag() (every type)" "ConsumerGroupCommand --all-groups --describe" \
        "k4 -e 'lag()'" \
        "\"$sandbox\" tool --dir \"$dir-kraft\" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server @bootstrap --all-groups --describe"
    compare "kafsh lag() (every type)" "ShareGroupCommand --all-groups --describe" \
        "k4 -e 'lag()'" \
        "\"$sandbox\" tool --dir \"$dir-kraft\" org.apache.kafka.tools.consumer.group.ShareGroupCommand --bootstrap-server @bootstrap --all-groups --describe"
    echo "  kafsh peak memory: lag() $(peak_kib "$kafsh" --bootstrap-server "$kbs" -e 'lag()') KiB"
    "$sandbox" down --dir "$dir-kraft" >/dev/null
    ;;
messages)
    n="${MSG_RECORDS:-1000000}"
    command -v kcat >/dev/null 2>&1 || { echo "bench: kcat is needed (apt-get install kcat)" >&2; exit 2; }
    echo "== messages: $n records of 1 KB, lz4, acks=all (6 partitions, RF 1: the clients are measured, not replication)"
    line=$(awk 'BEGIN { s = ""; while (length(s) < 1000) s = s "kafsh bench record 0123456789 "; print substr(s, 1, 1000) }')
    # n copies of the line (awk, not yes | head: no SIGPIPE under pipefail).
    lines() { awk -v n="$n" -v l="$line" 'BEGIN { for (i = 0; i < n; i++) print l }'; }
    fresh() { k -e "create_topic(\"$1\", #{partitions: 6, replication_factor: 1})" >/dev/null; }
    seq_no=0
    next_topic() { seq_no=$((seq_no + 1)); topic="bench-m$seq_no"; fresh "$topic"; }
    produce_kafsh() { next_topic; k run scripts/bench/produce.rhai --arg topic="$topic" --arg records="$n" --arg compression=lz4 >/dev/null; }
    produce_kcat() { next_topic; lines | kcat -P -b "$KAFSH_BOOTSTRAP" -t "$topic" -z lz4 -X acks=all -X enable.idempotence=true; }
    produce_console() { next_topic; lines | tool kafka.tools.ConsoleProducer --bootstrap-server @bootstrap --topic "$topic" --compression-codec lz4 --producer-property acks=all; }
    produce_kafsh_waiting() { next_topic; k run scripts/bench/produce.rhai --arg topic="$topic" --arg records="$n" --arg compression=lz4 --arg wait=true >/dev/null; }
    # One unmeasured load first: the brokers' JIT is cold on a fresh cluster, and the first
    # pair of runs (kafsh's first) took half as long again as the rest.
    produce_kcat
    compare "kafsh produce(wait: false) + flush() $n x 1 KB lz4" "kcat -P -z lz4" "produce_kafsh" "produce_kcat"
    compare "kafsh produce() waiting per call of 10,000" "kcat -P -z lz4" "produce_kafsh_waiting" "produce_kcat"
    compare "kafsh produce(wait: false) + flush() $n x 1 KB lz4" "kafka-console-producer" "produce_kafsh" "produce_console"
    read_topic=bench-m2
    echo "  records in $read_topic: $(k -e "count(\"$read_topic\").records")"
    compare "kafsh tail() printing $n records" "kcat -C -e" \
        "k -e 'tail(\"$read_topic\", #{from: \"earliest\", limit: $n})'" \
        "kcat -C -b \"\$KAFSH_BOOTSTRAP\" -t $read_topic -o beginning -e -q"
    compare "kafsh tail() printing $n records" "kafka-console-consumer" \
        "k -e 'tail(\"$read_topic\", #{from: \"earliest\", limit: $n})'" \
        "tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server @bootstrap --topic $read_topic --from-beginning --max-messages $n"
    echo "  kafsh peak memory: tail() of $n records $(peak_kib "$kafsh" --bootstrap-server "$KAFSH_BOOTSTRAP" -e "tail(\"$read_topic\", #{from: \"earliest\", limit: $n})") KiB"
    echo "  kcat peak memory: -C -e of $n records $(peak_kib kcat -C -b "$KAFSH_BOOTSTRAP" -t "$read_topic" -o beginning -e -q) KiB"
    ;;
reassign)
    echo "== reassignment plan: 300 partitions (RF 2) from brokers 1-3 onto 1-5, topics of skewed sizes"
    k run scripts/bench/reassign_setup.rhai --arg topics=10 --arg partitions=30 2>&1 | grep -v '^note' || true
    # Topic t gets 150 (t + 1)^2 records of 1 KB (ProducerPerformance, acks=all): 0.15 to 15 MB.
    for t in $(seq 0 9); do
        tool org.apache.kafka.tools.ProducerPerformance --topic "bench-r$t" \
            --num-records $(( 150 * (t + 1) * (t + 1) )) --record-size 1000 --throughput -1 \
            --producer-props "bootstrap.servers=$KAFSH_BOOTSTRAP" acks=all compression.type=none >/dev/null 2>&1
    done
    topics='list_topics().filter(|n| n.starts_with("bench-r"))'
    ours=$(k -e "let p = plan_reassignment(#{topics: $topics, brokers: [1, 2, 3, 4, 5]}); write_file(\"$dir/count.json\", plan_json(p)); \`\${p.moves} \${p.lower_bound}\`")
    bytes=$(k -e "let p = plan_reassignment(#{topics: $topics, brokers: [1, 2, 3, 4, 5], balance: \"bytes\"}); write_file(\"$dir/bytes.json\", plan_json(p)); \`\${p.bytes_lower_bound / 1048576}\`")
    topics_json="$dir/topics.json"
    k -e 'let t = list_topics().filter(|n| n.starts_with("bench-r")).map(|n| #{topic: n}); #{version: 1, topics: t}' --json > "$topics_json"
    tool org.apache.kafka.tools.reassign.ReassignPartitionsCommand --bootstrap-server @bootstrap \
        --topics-to-move-json-file "$topics_json" --broker-list 1,2,3,4,5 --generate \
        | sed -n '/Proposed partition reassignment configuration/{n;p}' > "$dir/generated.json"
    echo "  lower bounds                          ${ours#* } replica moves, $bytes MiB"
    echo "  kafsh balance: count                  $(k run scripts/bench/plan_compare.rhai --arg plan="$dir/count.json")"
    echo "  kafsh balance: bytes                  $(k run scripts/bench/plan_compare.rhai --arg plan="$dir/bytes.json")"
    echo "  ReassignPartitionsCommand --generate  $(k run scripts/bench/plan_compare.rhai --arg plan="$dir/generated.json")"
    echo "== planner: 100,000 partitions (RF 3) from 50 onto 60 brokers"
    "$kafsh" --json run scripts/bench/planner_scale.rhai
    echo "== planner end to end: a saved plan of 1,000,000 partitions (RF 3) from 200 onto 240 brokers"
    "$kafsh" run scripts/bench/million_plan.rhai --arg out="$dir/million.json" --arg topics=1000 --arg partitions=1000 --arg brokers=200
    million="let b = []; for i in 1..=240 { b.push(i); } let p = plan_reassignment(#{assignment: parse_plan(read_file(\"$dir/million.json\")), brokers: b}); \`\${p.moves} moves, lower bound \${p.lower_bound}\`"
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '  %e s, peak %M KiB' "$kafsh" -e "$million" 2>&1
    done
    echo
    ;;
quorum)
    echo "== KRaft quorum status (Kafka 4, 3 controllers with a dynamic quorum, 3 brokers)"
    "$sandbox" up --kind kraft --controllers 3 --brokers 3 --quorum dynamic --dir "$kraft" >/dev/null
    kb=$("$sandbox" env --dir "$kraft" | sed -n 's/^KAFSH_BOOTSTRAP=//p')
    kc=$("$sandbox" status --dir "$kraft" | awk '/^controller/ { for (i = 1; i <= NF; i++) if ($i ~ /^127\.0\.0\.1:/) print $i }' | paste -sd, -)
    kt() { "$sandbox" tool --dir "$kraft" "$@"; }
    compare "kafsh quorum_status() (brokers)" "MetadataQuorumCommand describe --status" \
        "$kafsh --bootstrap-server $kb -e 'quorum_status()'" \
        "kt org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server @bootstrap describe --status"
    compare "kafsh quorum_status() (controllers)" "MetadataQuorumCommand --bootstrap-controller" \
        "$kafsh --bootstrap-controller $kc -e 'quorum_status()'" \
        "kt org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-controller @bootstrap-controller describe --status"
    ;;
*) echo "bench: unknown section $section (startup, describe, lag, lag4, messages, reassign, quorum)" >&2; exit 2 ;;
esac
done
