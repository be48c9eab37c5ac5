#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this). Needs only the Rust toolchain,
# python3 and pip: the pinned third-party checkers are installed by scripts/tools.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/tools.sh
export ACME_TOOLS_DIR="${ACME_TOOLS_DIR:-$root/target/tools}"

# Every target's crates, not only this machine's: the crypto-backend test reads the whole
# graph with `cargo tree --offline`.
cargo fetch --locked

# --all-targets also builds the examples and runs each benchmark once, so they keep working.
cargo test --workspace --all-targets --locked --no-fail-fast
