#!/usr/bin/env bash
# Installs the pinned third-party checkers into virtual environments under target/tools.
# Each tool gets its own venv: checkov pins an old boto3 that moto cannot share.
# Idempotent: a venv whose stamp matches its pin is kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${ACME_TOOLS_DIR:-$root/target/tools}"
mkdir -p "$tools"

install() { # name, pip requirement...
  local name="$1"; shift
  local venv="$tools/$name" stamp="$*"
  if [[ -f "$venv/.stamp" && "$(cat "$venv/.stamp")" == "$stamp" ]]; then return; fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
  echo "$stamp" > "$venv/.stamp"
  echo "installed $name: $stamp" >&2
}

install cfn-lint "cfn-lint==1.58.0"
install checkov "checkov==3.3.30"
install kubernetes-validate "kubernetes-validate==1.37.0"
install moto "moto[server]==5.2.5"
