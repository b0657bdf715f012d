#!/usr/bin/env bash
# Builds kafsh's Debian package: target/debian/kafsh_<version>_<arch>.deb, holding the
# binary (profile `dist`: thin LTO, stripped), bash/zsh/fish completions, the man page, the
# runbooks under /usr/share/kafsh/runbooks, an example config.toml, the README, the function
# reference and the licence. Prints the package's path last. KAFSH_PACKAGE_PROFILE=dev packs
# the debug build instead (the package test checks the packaging, not the optimizer, and
# the test suite has that build already).
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
profile=${KAFSH_PACKAGE_PROFILE:-dist}
cargo build --quiet --profile "$profile" --bin kafsh
case $profile in
dev) bin=target/debug/kafsh ;;
*) bin=target/$profile/kafsh ;;
esac

root=target/debian/kafsh_${version}_${arch}
rm -rf "$root"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/kafsh/runbooks" \
    "$root/usr/share/doc/kafsh/examples" "$root/usr/share/man/man1" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
install -m 0755 "$bin" "$root/usr/bin/kafsh"
"$bin" completions bash > "$root/usr/share/bash-completion/completions/kafsh"
"$bin" completions zsh > "$root/usr/share/zsh/vendor-completions/_kafsh"
"$bin" completions fish > "$root/usr/share/fish/vendor_completions.d/kafsh.fish"
"$bin" man | gzip -9n > "$root/usr/share/man/man1/kafsh.1.gz"
install -m 0644 scripts/*.rhai "$root/usr/share/kafsh/runbooks/"
install -m 0644 README.md docs/functions.md "$root/usr/share/doc/kafsh/"
install -m 0644 docs/config.example.toml "$root/usr/share/doc/kafsh/examples/config.toml"
{
    echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    echo "Upstream-Name: kafsh"
    echo
    echo "Files: *"
    echo "License: Apache-2.0"
    echo " On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0."
} > "$root/usr/share/doc/kafsh/copyright"
find "$root/usr" -type f -exec chmod go-w {} +

installed_kb=$(du -sk "$root/usr" | cut -f1)
# Depends: the libraries kafsh links, and Cyrus SASL's GSSAPI plugin (librdkafka loads it
# for Kerberos on the data path). Recommends: kinit, which librdkafka runs to log in from a
# keytab (the ticket cache case needs none).
cat > "$root/DEBIAN/control" <<CONTROL
Package: kafsh
Version: ${version}
Architecture: ${arch}
Maintainer: kafsh developers <kafsh@localhost>
Installed-Size: ${installed_kb}
Depends: libc6, libssl3, zlib1g, libgssapi-krb5-2, libsasl2-2, libsasl2-modules-gssapi-mit
Recommends: krb5-user
Section: admin
Priority: optional
Homepage: https://github.com/kafsh/kafsh
Description: scriptable admin shell for Apache Kafka and ZooKeeper
 A REPL hosting a Rhai engine with Kafka and ZooKeeper functions (topics,
 configs, consumer groups and lag, reassignment with a minimal-move planner,
 ZooKeeper status and znodes), runbooks for rolling restarts and scale-outs that
 survive being killed, and an audit trail of every change.
CONTROL

deb="target/debian/kafsh_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "binary: $(stat -c %s "$bin") bytes; package: $(stat -c %s "$deb") bytes" >&2
echo "$deb"
