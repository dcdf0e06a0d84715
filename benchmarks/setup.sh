#!/usr/bin/env bash
# Installs what the benchmark drives its servers with, from Debian packages,
# when missing: wrk (the HTTP load generator) and a C compiler (for sockbench).
set -euo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v "${CC:-cc}" >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "benchmarks/setup.sh: installing ${missing[*]} with apt-get" >&2
sudo_if_needed=""
[ "$(id -u)" = 0 ] || sudo_if_needed="sudo"
$sudo_if_needed apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y -qq "${missing[@]}"
