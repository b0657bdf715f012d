#!/usr/bin/env bash
# Brings up a local sandbox cluster (real ZooKeeper + Kafka processes on 127.0.0.1), writes a
# kafsh context named "sandbox" for it, and runs a real runbook against it.
#
#   scripts/sandbox.sh                 # ZooKeeper-mode Kafka 3.9: 3 ZooKeeper servers, 3 brokers
#   scripts/sandbox.sh zk-reconfig     # the same with ZooKeeper's dynamic reconfiguration enabled
#   scripts/sandbox.sh kraft           # KRaft Kafka 4: 3 combined nodes
#   scripts/sandbox.sh kraft-controllers  # KRaft Kafka 4: 3 controllers (dynamic quorum), 3 brokers
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
case "$kind" in
    kraft-controllers) up=(--kind kraft --controllers 3 --quorum dynamic) ;;
    zk-reconfig) up=(--kind zookeeper --zk-reconfig) ;;
    *) up=(--kind "$kind") ;;
esac
"$sandbox" up "${up[@]}" --dir "$dir" >/dev/null
"$sandbox" status --dir "$dir"

# Write the "sandbox" context: addresses plus an inventory whose commands drive this
# sandbox the way ssh/systemctl would drive real servers.
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
    "$sandbox" context sandbox --dir "$dir"
} > "$config.new"
mv "$config.new" "$config"
chmod 600 "$config"
echo "sandbox: wrote context \"sandbox\" to $config"

echo
echo "+ kafsh --context sandbox run scripts/cluster_report.rhai"
"$kafsh" --context sandbox run scripts/cluster_report.rhai
echo
echo "Try it: $kafsh --context sandbox"
