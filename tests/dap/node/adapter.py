"""Starts ``wasmdbg dap`` for DebugClient, which spawns RUNTIME with one script argument."""

import sys

from wasmdbg.cli.main import main

sys.exit(main(["dap", *sys.argv[1:]]))
