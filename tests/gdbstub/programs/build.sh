#!/bin/sh
# Rebuild the programs the LLDB tests debug (the .wasm files are committed).
# Toolchain (Debian): apt-get install clang-22 lld-22 wasi-libc libclang-rt-22-dev-wasm32
#   demo.O0.wasm   -O0 -g
#   demo.O2.wasm   -O2 -g
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang-22}
# -fdebug-prefix-map keeps the build directory out of DWARF (comp_dir becomes ".").
COMMON="-fdebug-prefix-map=$(pwd)=. --target=wasm32-wasi -Wno-deprecated -std=c11 -Wall -Wextra -g"
for opt in O0 O2; do
    echo "build demo.$opt.wasm"
    # shellcheck disable=SC2086
    $CC $COMMON -$opt -o "demo.$opt.wasm" demo.c
done
