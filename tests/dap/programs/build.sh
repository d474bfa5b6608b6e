#!/bin/sh
# Rebuild the DAP server's test program (tests/dap/programs) from C.
#
# Toolchain (Debian): apt-get install clang-22 lld-22 wasi-libc libclang-rt-22-dev-wasm32
#   points.O0.wasm   -O0 -g
# -fdebug-prefix-map keeps the build directory out of DWARF (reproducible bytes).
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang-22}
echo "build points.O0.wasm"
$CC -fdebug-prefix-map="$(pwd)"=. --target=wasm32-wasi -Wno-deprecated -fno-sanitize=undefined \
    -std=c11 -Wall -Wextra -g -O0 -o points.O0.wasm points.c
