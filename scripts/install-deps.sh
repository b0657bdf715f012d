#!/usr/bin/env bash
# Installs what kafsh's build, sandbox and tests need on a Debian machine: a C toolchain,
# make, pkg-config, OpenSSL's and Cyrus SASL's headers (librdkafka, the data path, is built
# from source with them), MIT Kerberos (GSSAPI), Java 17 and Maven (the Kafka and ZooKeeper jars come from Maven Central at
# first use), and Rust's rustfmt and clippy components. Already-present tools are left alone.
set -euo pipefail

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v pkill >/dev/null 2>&1 || missing+=(procps)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# Kerberos (SASL GSSAPI): MIT krb5's GSS library and headers (bindgen reads them through
# libclang); the tests run a realm of their own with krb5kdc, kdb5_util, kadmin.local, kinit.
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
# GSSAPI on the data path: librdkafka through Cyrus SASL (headers at build time, its
# GSSAPI plugin at run time).
dpkg -s libsasl2-dev >/dev/null 2>&1 || missing+=(libsasl2-dev)
dpkg -s libsasl2-modules-gssapi-mit >/dev/null 2>&1 || missing+=(libsasl2-modules-gssapi-mit)
command -v krb5kdc >/dev/null 2>&1 || missing+=(krb5-kdc)
command -v kadmin.local >/dev/null 2>&1 || missing+=(krb5-admin-server)
command -v kinit >/dev/null 2>&1 || missing+=(krb5-user)
# The keystore tests make JKS and PKCS12 stores with the JDK's keytool.
command -v keytool >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
# The audit tests run kafsh through sudo as another user.
command -v sudo >/dev/null 2>&1 || missing+=(sudo)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "install-deps: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 2
fi
if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi
