#!/usr/bin/env bash
# Does the seed's whole chapter ("6장, 카프카 운영 가이드") in kafsh, in order, on a fresh
# sandbox cluster (ZooKeeper-mode Kafka 3.9, 3 ZooKeeper servers, 3 brokers, chroot
# /peter-kafka, ACLs enforced by AclAuthorizer; kafsh connects as a super user), then a short
# part on who may do what, and prints it as Markdown: every step's command and the output it really
# printed. The README's walkthrough is this script's output.
#
#   scripts/walkthrough.sh              # print the Markdown
#   scripts/walkthrough.sh --readme     # and replace the walkthrough section of README.md
#
# Takes about three minutes; the cluster is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

update_readme=false
[ "${1:-}" = --readme ] && update_readme=true

scripts/install-deps.sh >&2
cargo build --workspace --quiet
export PATH="$root/target/debug:$PATH"

work="$(mktemp -d /tmp/kafsh-walkthrough.XXXXXX)"
cluster="$work/cluster"
cleanup() {
    kafsh-sandbox down --dir "$cluster" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
export KAFSH_CONFIG="$work/config.toml" KAFSH_STATE_DIR="$work/state"
# Tables as a terminal would show them, without colour.
export NO_COLOR=1 COLUMNS=120

echo "walkthrough: starting a sandbox cluster in $cluster" >&2
kafsh-sandbox up --dir "$cluster" --chroot /peter-kafka --authorizer >/dev/null 2>"$work/up.log" ||
    { cat "$work/up.log" >&2; exit 1; }

# The kafsh context for the sandbox, rewritten whenever servers are added.
write_context() {
    { echo 'current_context = "sandbox"'; kafsh-sandbox context sandbox --dir "$cluster"; } \
        >"$KAFSH_CONFIG"
}
write_context

out="$work/walkthrough.md"
exec 3>"$out"
md() { printf '%s\n' "$@" >&3; }

# Runs a command line as shown, and records it with its output (stdout and stderr).
# Paths of this temporary run are shortened so the text does not change between runs.
run() {
    local line="$1" status=0
    echo "walkthrough: \$ $line" >&2
    {
        echo '```console'
        echo "\$ $line" | sed -e "s#$work#/tmp/walkthrough#g"
        (cd "$work" && bash -c "$line" 2>&1) | sed -e "s#$work#/tmp/walkthrough#g" \
            -e "s#$root/target/debug/##g" || status=$?
        echo '```'
    } >&3
    if [ "$status" -ne 0 ]; then
        echo "walkthrough: failed ($status): $line; the walkthrough so far:" >&2
        cat "$out" >&2
        exit 1
    fi
}

cp scripts/*.rhai "$work/"

md "Each step is the seed's command and the kafsh that replaces it. The output is pasted from" \
    "a real run on the sandbox (\`scripts/walkthrough.sh\` regenerates this section), so ports" \
    "are the sandbox's. \`kafsh\` uses the current context (\`[contexts.sandbox]\`, written by" \
    "\`kafsh-sandbox context\`); \`--json\` prints any result as JSON instead of a table." ""

md "### 6.1.1 Create a topic" "" \
    "\`kafka-topics.sh --create --replication-factor 1 --partitions 1 --topic peter-topic\`:" ""
run "kafsh -e 'create_topic(\"peter-topic\", #{partitions: 1, replication_factor: 1})'"

md "" "### 6.1.2 List topics" "" "\`kafka-topics.sh --list\`:" ""
run "kafsh -e 'list_topics()'"

md "" "### 6.1.3 Describe a topic" "" \
    "\`kafka-topics.sh --topic peter-topic --describe\`: partitions, leaders, replicas, ISR:" ""
run "kafsh -e 'describe_topic(\"peter-topic\")'"

md "" "### 6.1.4 Change a topic's retention" "" \
    "\`kafka-configs.sh --alter --entity-type topics --entity-name peter-topic --add-config" \
    "retention.ms=3600000\`, checked with describe, then \`--delete-config retention.ms\`." \
    "Changes are incremental: configs not named keep their values." ""
run "kafsh -e 'set_config(\"peter-topic\", \"retention.ms\", 3600000)'"
run "kafsh -e 'describe_config(\"topic\", \"peter-topic\")'"
run "kafsh -e 'delete_config(\"peter-topic\", \"retention.ms\")'"

md "" "### 6.1.5 Add partitions" "" \
    "\`kafka-topics.sh --alter --topic peter-topic --partitions 2\`. Partitions can be added," \
    "never removed, and keyed messages may map to other partitions afterwards." ""
run "kafsh -e 'add_partitions(\"peter-topic\", 2)'"
run "kafsh -e 'describe_topic(\"peter-topic\")'"

md "" "### 6.1.6 Raise the replication factor" "" \
    "The seed writes rt.json by hand, keeping each partition's current leader first, and runs" \
    "\`kafka-reassign-partitions.sh --execute\`. kafsh computes that file:" ""
run "kafsh -e 'print(plan_json(plan_replication_factor(\"peter-topic\", 2)))'"
md "" "and the runbook executes it throttled, waits, and removes the throttle:" ""
run "kafsh run increase_replication_factor.rhai --arg topic=peter-topic --arg rf=2"
run "kafsh -e 'describe_topic(\"peter-topic\")'"

md "" "### 6.1.7 List consumer groups" "" \
    "First some traffic: Kafka's own tools write 17 messages and a consumer in" \
    "\`peter-consumer-group\` reads them." ""
run "kafsh-sandbox tool --dir $cluster org.apache.kafka.tools.VerifiableProducer --bootstrap-server @bootstrap --topic peter-topic --max-messages 17 --acks -1 >/dev/null 2>&1"
run "kafsh-sandbox tool --dir $cluster org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server @bootstrap --topic peter-topic --group peter-consumer-group --from-beginning --max-messages 17 --timeout-ms 20000 2>/dev/null | wc -l"
md "" "\`kafka-consumer-groups.sh --list\`:" ""
run "kafsh -e 'list_groups()'"

md "" "### 6.1.8 A group's state, offsets and lag" "" \
    "\`kafka-consumer-groups.sh --group peter-consumer-group --describe\`. The consumer has" \
    "exited, so the group has no active members and its lag is 0:" ""
run "kafsh -e 'describe_group(\"peter-consumer-group\")'"
md "" "Five more messages that nobody reads yet are a lag of 5:" ""
run "kafsh-sandbox tool --dir $cluster org.apache.kafka.tools.VerifiableProducer --bootstrap-server @bootstrap --topic peter-topic --max-messages 5 --acks -1 >/dev/null 2>&1"
run "kafsh -e 'describe_group(\"peter-consumer-group\")'"
md "" "\`lag()\` reports the same totals for every group at once, in a few batched requests."

md "" "### 6.2 Grow ZooKeeper from 3 to 5 servers" "" \
    "\`zkServer.sh status\` on each server, in one call:" ""
run "kafsh -e 'zk_status()'"
md "" "The new servers 4 and 5 are installed but not started (on real hosts: install ZooKeeper;" \
    "here the sandbox makes their directories and ports):" ""
run "kafsh-sandbox add zk --id 4 --dir $cluster && kafsh-sandbox add zk --id 5 --dir $cluster"
write_context
md "" "The inventory now lists five servers, each with the commands that install a zoo.cfg," \
    "write a myid, start and restart it (on real hosts: ssh and systemctl). Server 4's:" ""
run "kafsh -e 'inventory().zookeeper_servers[3]'"
md "" "The runbook writes \`myid\` and the \`server.1\`–\`server.5\` lines, starts the new" \
    "servers, and restarts the old ones with the leader last, one new server at a time so two" \
    "quorums can never exist at once. \`zoo.base.cfg\` holds the settings other than the server lines:" ""
printf 'tickTime=2000\ninitLimit=10\nsyncLimit=5\n' >"$work/zoo.base.cfg"
run "cat zoo.base.cfg"
run "kafsh run zk_scale_out.rhai --arg new_servers=4,5 --arg base=zoo.base.cfg"
md "" "\`echo mntr | nc localhost 2181 | grep zk_synced_followers\`, on the leader, is now 4:" ""
run "kafsh -e 'zk_status().filter(|s| s.mode == \"leader\").map(|s| #{server: s.server, synced_followers: s.synced_followers})'"

md "" "### 6.3 Add two brokers and rebalance" "" \
    "A topic with 5 partitions and replication factor 2 on brokers 1–3:" ""
run "kafsh -e 'create_topic(\"peter5\", #{partitions: 5, replication_factor: 2})'"
run "kafsh -e 'describe_topic(\"peter5\")'"
md "" "The new brokers need \`broker.id\` values nobody uses; kafsh finds them and renders the" \
    "settings of server.properties:" ""
run "kafsh -e 'free_broker_ids(2)'"
run "kafsh -e 'print(server_properties(#{broker_id: 4, host: \"peter-kafka004\", log_dirs: \"/data/kafka\"}))'"
md "" "Start them (here: the sandbox adds brokers 4 and 5), and check they joined, as" \
    "\`ls /peter-kafka/brokers/ids\` does:" ""
run "kafsh-sandbox add broker --dir $cluster && kafsh-sandbox add broker --dir $cluster"
write_context
run "kafsh -e 'zk_brokers().map(|b| b.id)'"
md "" "Nothing moved to them by itself:" ""
run "kafsh -e 'describe_topic(\"peter5\")'"
md "" "Instead of writing partition.json by hand, the scale-out runbook plans the fewest replica" \
    "moves that balance replicas and leaders over five brokers, runs them throttled in" \
    "batches, elects preferred leaders and removes the throttles:" ""
run "kafsh run kafka_scale_out.rhai --arg new_brokers=4,5"
run "kafsh -e 'describe_topic(\"peter5\")'"

md "" "### 6.4 Who may do what" "" \
    "Not in the guide, but the next question on a secured cluster. This sandbox enforces ACLs" \
    "(AclAuthorizer); user \`bob\` has no rights, and the context names the brokers' super users." \
    "\`kafka-acls.sh --add --allow-principal User:bob --consumer --topic peter-topic --group" \
    "peter-consumer-group\`:" ""
run "kafsh -e 'allow_consumer(\"User:bob\", \"peter-topic\", \"peter-consumer-group\")'"
md "" "\`kafka-acls.sh --list --topic peter-topic\`:" ""
run "kafsh -e 'list_acls(#{topic: \"peter-topic\"})'"
md "" "May bob write? No, and no binding allows it; may he read? Yes, and this binding decides:" ""
run "kafsh -e 'can(\"User:bob\", \"write\", #{topic: \"peter-topic\"})'"
run "kafsh -e 'can(\"User:bob\", \"read\", #{topic: \"peter-topic\"})'"
md "" "Who may read the topic (the super users, then bob through his binding):" ""
run "kafsh -e 'who_can(\"read\", #{topic: \"peter-topic\"})'"
md "" "Removing bob's rights shows exactly what goes before anything goes:" ""
run "kafsh --dry-run -e 'delete_acls(#{principal: \"User:bob\"})'"
run "kafsh -e 'delete_acls(#{principal: \"User:bob\"})'"

exec 3>&-
cat "$out"
if $update_readme; then
    begin='<!-- walkthrough:begin (scripts/walkthrough.sh --readme) -->'
    end='<!-- walkthrough:end -->'
    grep -qF "$begin" README.md || { echo "walkthrough: README.md has no '$begin' line" >&2; exit 1; }
    awk -v begin="$begin" -v end="$end" -v file="$out" '
        $0 == begin { print; while ((getline line < file) > 0) print line; skip = 1; next }
        $0 == end { skip = 0 }
        !skip { print }
    ' README.md >"$work/README.md"
    cp "$work/README.md" README.md
    echo "walkthrough: README.md updated" >&2
fi
