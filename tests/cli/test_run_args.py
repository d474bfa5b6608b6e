"""``wasmdbg run``'s command line: where options end, --dir and --env forms, what reaches WasiConfig."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from side_by_side import PROBE, run_in_process

import wasmdbg
from wasmdbg.cli.run import RunOptions, UsageError, parse_run_args


@pytest.mark.parametrize(
    ("argv", "module", "args"),
    [
        (["m.wasm"], "m.wasm", ()),
        (["m.wasm", "--help", "-x", "--", "a"], "m.wasm", ("--help", "-x", "--", "a")),
        (["--", "m.wasm", "--", "a"], "m.wasm", ("--", "a")),
        (["--", "--odd-name.wasm"], "--odd-name.wasm", ()),
        (["--invoke", "f", "m.wasm", "1", "--invoke", "g"], "m.wasm", ("1", "--invoke", "g")),
        (["--env=A=1", "--dir", "d", "m.wasm"], "m.wasm", ()),
        (["-", "x"], "-", ("x",)),
    ],
)
def test_options_end_at_the_module(argv: list[str], module: str, args: tuple[str, ...]) -> None:
    opts = parse_run_args(argv)
    assert (opts.module, opts.args) == (module, args)


def test_dir_and_env_forms() -> None:
    opts = parse_run_args(
        ["--dir", "a", "--dir=b::/g", "--dir", "c::d::e", "--env", "X=1", "--env", "Y", "--env=Z=", "--env", "W=a=b",
         "--invoke", "f", "--argv0", "zz", "m.wasm"]
    )
    assert opts == RunOptions(
        module="m.wasm", invoke="f", argv0="zz",
        dirs=(("a", "a"), ("b", "/g"), ("c", "d::e")),
        env=(("X", "1"), ("Y", None), ("Z", ""), ("W", "a=b")),
    )


@pytest.mark.parametrize(
    "argv",
    [[], ["--dir"], ["--dir", "::g", "m"], ["--dir", "h::", "m"], ["--env", "=v", "m"], ["--nope", "m"],
     ["--invoke"], ["--dir", "x"]],
)
def test_usage_errors(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_run_args(argv)


def test_dirs_env_and_argv_reach_the_wasi_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the CLI hands to WasiConfig (the filesystem itself is the WASI layer's)."""
    seen: dict[str, Any] = {}
    real_set_wasi = wasmdbg.Store.set_wasi

    def set_wasi(self: Any, wasi: Any) -> None:
        seen["argv"], seen["env"] = wasi.argv, wasi.env
        seen["dirs"] = [(os.fsdecode(p.host_path), os.fsdecode(p.guest_path)) for p in wasi.preopens]
        real_set_wasi(self, wasi)

    monkeypatch.setattr(wasmdbg.Store, "set_wasi", set_wasi)
    (tmp_path / "sub").mkdir()
    result = run_in_process(
        ["run", "--dir", str(tmp_path), "--dir", f"{tmp_path / 'sub'}::/data", "--env", "A=1", "--env", "KEEP",
         "--env", "ABSENT", "--argv0", "prog", str(PROBE), "args", "x"],
        env={"KEEP": "kept", "OTHER": "not passed"},
    )
    assert result.status == 0, result.err
    assert result.out == "argv[0]=prog\nargv[1]=args\nargv[2]=x\n"
    assert seen == {
        "dirs": [(str(tmp_path), str(tmp_path)), (str(tmp_path / "sub"), "/data")],
        "argv": ["prog", "args", "x"],
        "env": [("A", "1"), ("KEEP", "kept")],
    }


def test_non_utf8_words_reach_the_guest_as_bytes() -> None:
    """wasmtime refuses such words; wasmdbg passes the bytes through (os.fsencode of argv)."""
    word = os.fsdecode(b"caf\xe9\xff")
    result = run_in_process(["run", "--env", f"V={word}", str(PROBE), "args", word])
    assert result.status == 0, result.err
    assert result.out.encode(errors="surrogateescape").splitlines()[2] == b"argv[2]=caf\xe9\xff"
