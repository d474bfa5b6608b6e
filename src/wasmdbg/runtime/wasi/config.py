"""``WasiConfig``: what one Store's WASI guest may see (wasmtime-py's shape).

Arguments and environment are kept as the caller gave them and encoded to
bytes when the guest asks: a ``str`` as UTF-8 with ``surrogateescape`` (so
a name from ``os.fsdecode`` gets its original bytes back), ``bytes`` as
they are -- non-UTF-8 values reach the guest unchanged.

``preopen_dir(host, guest)`` grants the guest a host directory under a
guest name; the directory is checked when it is granted and opened again
for each Store that uses the config (see :mod:`.host`).  Standard streams
are closed (empty input, discarded output) unless inherited, redirected to
a file, or (output only) sent to a Python callback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

from ...errors import WasmError

__all__ = ["CustomOutput", "Preopen", "WasiConfig", "as_bytes"]

CustomOutput = Callable[[bytes], int | None]
StrOrBytes = str | bytes
PathArg = str | bytes | os.PathLike[str] | os.PathLike[bytes]


def as_bytes(value: StrOrBytes) -> bytes:
    """``value`` as the bytes the guest sees."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    raise TypeError(f"expected str or bytes, not {type(value).__name__}")


@dataclass
class Output:
    """Where one output stream goes: a host descriptor, a file, a callback, or nowhere."""

    fd: int | None = None
    file: IO[bytes] | None = None
    custom: CustomOutput | None = None


@dataclass
class Input:
    """Where standard input comes from: a host descriptor, a file, or nothing (EOF)."""

    fd: int | None = None
    file: IO[bytes] | None = None


@dataclass(frozen=True)
class Preopen:
    """A host directory granted to the guest under ``guest_path``."""

    host_path: bytes
    guest_path: bytes
    mutable: bool


@dataclass
class WasiConfig:
    """WASI settings for one Store (wasmtime-py's ``WasiConfig``)."""

    _argv: list[StrOrBytes] = field(default_factory=list)
    _env: list[tuple[StrOrBytes, StrOrBytes]] = field(default_factory=list)
    _stdin: Input = field(default_factory=Input)
    _stdout: Output = field(default_factory=Output)
    _stderr: Output = field(default_factory=Output)
    _preopens: list[Preopen] = field(default_factory=list)

    @property
    def argv(self) -> list[StrOrBytes]:
        """The program's arguments (``argv[0]`` included), ``str`` or ``bytes`` each."""
        return list(self._argv)

    @argv.setter
    def argv(self, argv: Iterable[StrOrBytes]) -> None:
        values = list(argv)
        for a in values:
            as_bytes(a)  # type check now, not when the guest asks
        self._argv = values

    def inherit_argv(self) -> None:
        """Use this process's ``sys.argv``."""
        self._argv = list(sys.argv)

    @property
    def env(self) -> list[tuple[StrOrBytes, StrOrBytes]]:
        """The environment as ``(name, value)`` pairs, ``str`` or ``bytes`` each."""
        return list(self._env)

    @env.setter
    def env(self, pairs: Iterable[Iterable[StrOrBytes]]) -> None:
        env: list[tuple[StrOrBytes, StrOrBytes]] = []
        for pair in pairs:
            name, value = pair
            as_bytes(name)
            as_bytes(value)
            env.append((name, value))
        self._env = env

    def inherit_env(self) -> None:
        """Use this process's whole environment (as bytes: nothing is lost)."""
        self._env = list(os.environb.items())

    def inherit_stdin(self) -> None:
        """Read this process's standard input."""
        self._stdin = Input(fd=0)

    def inherit_stdout(self) -> None:
        """Write to this process's standard output."""
        self._stdout = Output(fd=1)

    def inherit_stderr(self) -> None:
        """Write to this process's standard error."""
        self._stderr = Output(fd=2)

    @property
    def stdin_file(self) -> None:
        """Write-only, as in wasmtime-py: standard input read from this file."""
        raise AttributeError("stdin_file is write-only")

    @stdin_file.setter
    def stdin_file(self, path: PathArg) -> None:
        self._stdin = Input(file=_open(path, "rb"))

    @property
    def stdout_file(self) -> None:
        """Write-only: standard output written to this file (truncated first)."""
        raise AttributeError("stdout_file is write-only")

    @stdout_file.setter
    def stdout_file(self, path: PathArg) -> None:
        self._stdout = Output(file=_open(path, "wb"))

    @property
    def stderr_file(self) -> None:
        """Write-only: standard error written to this file (truncated first)."""
        raise AttributeError("stderr_file is write-only")

    @stderr_file.setter
    def stderr_file(self, path: PathArg) -> None:
        self._stderr = Output(file=_open(path, "wb"))

    @property
    def stdout_custom(self) -> None:
        """Write-only: a callable receiving each chunk of output bytes."""
        raise AttributeError("stdout_custom is write-only")

    @stdout_custom.setter
    def stdout_custom(self, callback: CustomOutput) -> None:
        self._stdout = Output(custom=callback)

    @property
    def stderr_custom(self) -> None:
        """Write-only: a callable receiving each chunk of error output bytes."""
        raise AttributeError("stderr_custom is write-only")

    @stderr_custom.setter
    def stderr_custom(self, callback: CustomOutput) -> None:
        self._stderr = Output(custom=callback)

    def preopen_dir(self, path: PathArg, guest_path: StrOrBytes, fs_mutable: bool = True) -> None:
        """Let the guest use host directory ``path`` under the name ``guest_path``.

        With ``fs_mutable=False`` the guest may read but not create, change
        or remove anything under it.  Raises :class:`WasmError` if ``path``
        is not a directory that can be opened.
        """
        host = os.fsencode(path)
        try:
            fd = os.open(host, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise WasmError(
                f"failed to open directory {os.fsdecode(host)!r}: {exc.strerror}"
            ) from None
        os.close(fd)
        self._preopens.append(Preopen(host, as_bytes(guest_path), bool(fs_mutable)))

    @property
    def preopens(self) -> list[Preopen]:
        """The granted directories, in the order their descriptors get numbers (from 3)."""
        return list(self._preopens)

    def streams(self) -> tuple[Input, Output, Output]:
        """Runtime-facing: where the guest's stdin, stdout and stderr go (descriptors 0-2)."""
        return self._stdin, self._stdout, self._stderr


def _open(path: PathArg, mode: str) -> IO[bytes]:
    try:
        return open(os.fsencode(path), mode)  # lives as long as the config
    except OSError as exc:
        raise WasmError(f"failed to open {os.fsdecode(path)!r}: {exc.strerror}") from None
