#!/bin/sh
# Rebuild the CLI tests' probe program (tests/cli/programs) from C.
#
# Toolchain (Debian): apt-get install clang-22 lld-22 wasi-libc libclang-rt-22-dev-wasm32
# -fdebug-prefix-map keeps the build directory out of DWARF (reproducible bytes).
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang-22}
echo "build probe.wasm"
$CC -fdebug-prefix-map="$(pwd)"=. --target=wasm32-wasi -Wno-deprecated -fno-sanitize=undefined \
    -std=c11 -Wall -Wextra -O2 -g -o probe.wasm probe.c
