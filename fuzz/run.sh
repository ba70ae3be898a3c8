#!/usr/bin/env bash
# Runs each fuzz target for a short while (default 60 s each; FUZZ_SECONDS overrides).
# Needs cargo-fuzz (`cargo install cargo-fuzz`); a stable toolchain works with RUSTC_BOOTSTRAP.
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SECONDS:-60}"
targets=("$@")
((${#targets[@]})) || targets=(parse_fragmented sip_parse manscdp_parse ps_demux)
echo "fuzz: building ${targets[*]}"
for t in "${targets[@]}"; do RUSTC_BOOTSTRAP=1 cargo fuzz build "$t"; done
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${secs}s"
  RUSTC_BOOTSTRAP=1 timeout $((secs + 120)) cargo fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048
done
