#!/bin/sh
# Rebuild the trap program (tests/programs/trap) from C.
#
# Toolchain (Debian): apt-get install clang-22 lld-22 wasi-libc libclang-rt-22-dev-wasm32
#   trap.O0.wasm   -O0 -g
#   trap.O2.wasm   -O2 -g
# -fdebug-prefix-map keeps the build directory out of DWARF (reproducible bytes).
# The 1 MiB shadow stack holds the default 1000-deep recursion at -O0.
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang-22}
COMMON="-fdebug-prefix-map=$(pwd)=. --target=wasm32-wasi -Wno-deprecated -fno-sanitize=undefined
        -std=c11 -Wall -Wextra -g -Wl,-z,stack-size=1048576"
for opt in O0 O2; do
    echo "build trap.$opt.wasm"
    # shellcheck disable=SC2086
    $CC $COMMON -$opt -o "trap.$opt.wasm" trap.c
done
