#!/usr/bin/env bash
# Usage: run.sh MODE SECONDS [SHARDS|null]
#   MODE: none | zlib-native | zlib-sync | identify
# Builds cmd/fakediscord, starts it (FAKEARGS overrides its flags), runs
# run.js against it for SECONDS, prints run.js's JSON summary, stops the fake.
# Needs Node 20+ and `npm install` in this folder first. Not run by CI.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
mode=$1 secs=$2 shards=${3:-16}
go build -o ./fakediscord ../../cmd/fakediscord
# shellcheck disable=SC2086
./fakediscord ${FAKEARGS:--shards 16 -guilds 2000 -max-concurrency 4 -rate 100} > fake.out 2> fake.err &
fpid=$!
trap 'kill -TERM $fpid 2>/dev/null; wait $fpid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ "$(wc -l < fake.out)" -ge 2 ] && break; sleep 0.1; done
url=$(sed -n 1p fake.out | awk '{print $2}')
token=$(sed -n 2p fake.out | awk '{print $2}')
timeout $((secs + 30)) node run.js "$url" "$token" "$mode" "$secs" "$shards" "debug-$mode.log"
