#!/usr/bin/env bash
# Installs every system dependency of moe-mlir, idempotently.
#
# Python: the project uses Debian's /usr/bin/python3 everywhere (lit runs under
# it, and numpy/pytest come from Debian's python3-* packages, so their versions
# are pinned by the distribution release).
set -euo pipefail

PKGS=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  cmake ninja-build g++ clang-format
  # The fuzzer: clang with libFuzzer and the sanitizer runtimes.
  clang-22 libclang-rt-22-dev
  python3 python3-numpy python3-pytest python3-hypothesis
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all system packages present"
fi
