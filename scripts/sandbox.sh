#!/usr/bin/env bash
# Brings up a local sandbox cluster (real ZooKeeper + Kafka processes on 127.0.0.1), writes a
# kafsh context named "sandbox" for it, and runs a real runbook against it.
#
#   scripts/sandbox.sh                 # ZooKeeper-mode Kafka 3.9: 3 ZooKeeper servers, 3 brokers
#   scripts/sandbox.sh kraft           # KRaft Kafka 4: 3 combined nodes
#   scripts/sandbox.sh down            # stop and remove the sandbox
#
# Then: target/debug/kafsh --context sandbox
set -euo pipefail
cd "$(dirname "$0")/.."

kind="${1:-zookeeper}"
scripts/install-deps.sh
cargo build --workspace --quiet
sandbox=target/debug/kafsh-sandbox
kafsh=target/debug/kafsh
dir="${KAFSH_SANDBOX_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/kafsh/sandbox}"

if [ "$kind" = down ]; then
    "$sandbox" down --dir "$dir"
    exit 0
fi

if [ -f "$dir/sandbox.json" ]; then
    echo "sandbox: reusing the cluster in $dir (scripts/sandbox.sh down removes it)"
fi
"$sandbox" up --kind "$kind" --dir "$dir" >/dev/null
"$sandbox" status --dir "$dir"
eval "$("$sandbox" env --dir "$dir")"

# Write the "sandbox" context: addresses plus an inventory whose restart commands drive
# this sandbox the way ssh/systemctl would drive real servers.
config="${KAFSH_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/kafsh/config.toml}"
mkdir -p "$(dirname "$config")"
touch "$config"
others="$(awk '
    /^\[+contexts\.sandbox[].]/ { skip = 1; next }
    /^\[/ { skip = 0 }
    /^current_context *=/ { next }
    !skip { print }
' "$config")"
{
    echo 'current_context = "sandbox"'
    printf '%s\n' "$others" | sed '/./,$!d'
    echo
    echo '[contexts.sandbox]'
    echo "bootstrap_servers = \"${KAFSH_BOOTSTRAP:-}\""
    echo "zookeeper = \"${KAFSH_ZOOKEEPER:-127.0.0.1:2181}\""
    "$sandbox" status --dir "$dir" | awk -v sb="$(pwd)/$sandbox" -v dir="$dir" '
        $1 == "zk" {
            split($7, hp, ":")
            printf "\n[[contexts.sandbox.zookeeper_servers]]\nid = %s\nhost = \"%s\"\nclient_port = %s\npeer_port = %s\nelection_port = %s\n", $2, hp[1], hp[2], $9, $11
            printf "restart = \"%s restart zk %s --dir %s\"\nstart = \"%s start zk %s --dir %s\"\nstop = \"%s stop zk %s --dir %s\"\n", sb, $2, dir, sb, $2, dir, sb, $2, dir
        }
        $1 == "broker" {
            split($6, hp, ":")
            printf "\n[[contexts.sandbox.brokers]]\nid = %s\nhost = \"%s\"\n", $2, hp[1]
            printf "restart = \"%s restart broker %s --dir %s\"\nstart = \"%s start broker %s --dir %s\"\nstop = \"%s stop broker %s --dir %s\"\n", sb, $2, dir, sb, $2, dir, sb, $2, dir
        }'
} > "$config.new"
mv "$config.new" "$config"
chmod 600 "$config"
echo "sandbox: wrote context \"sandbox\" to $config"

echo
echo "+ kafsh --context sandbox run scripts/cluster_report.rhai"
"$kafsh" --context sandbox run scripts/cluster_report.rhai
echo
echo "Try it: $kafsh --context sandbox"
