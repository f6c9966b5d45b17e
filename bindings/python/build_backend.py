"""A PEP 517 build backend for the banyan package, with nothing to download.

It builds the CMake target banyan_python (the extension and the package around it, in
<build>/python/banyan) and packs that folder, with the shared library the extension loads
from beside it, into a wheel for the running interpreter. The build folder is the
project's own (``build/``, the one ./scripts/test.sh makes) when it was configured for an
interpreter of this one's ABI, else ``build-python-<suffix>``; BANYAN_BUILD names another.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
NAME = "banyan"


def _version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(banyan VERSION ([0-9.]+)", text).group(1)


def _cached_python(build: Path) -> str | None:
    cache = build / "CMakeCache.txt"
    if not cache.exists():
        return None
    match = re.search(r"^Python_EXECUTABLE:[A-Z]+=(.*)$", cache.read_text(), re.M)
    return match.group(1) if match else None


def _ext_suffix(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        check=True, capture_output=True, text=True).stdout.strip()


def _build_dir() -> Path:
    if os.environ.get("BANYAN_BUILD"):
        return Path(os.environ["BANYAN_BUILD"])
    mine = sysconfig.get_config_var("EXT_SUFFIX")
    default = ROOT / "build"
    cached = _cached_python(default)
    if not (default / "CMakeCache.txt").exists() or (cached and _ext_suffix(cached) == mine):
        return default
    return ROOT / ("build-python" + mine.replace(".so", "").replace(".", "-"))


def _run(*command: str) -> None:
    print("+", " ".join(command), file=sys.stderr, flush=True)
    subprocess.run(command, check=True, stdout=sys.stderr)


def _build() -> Path:
    build = _build_dir()
    configure = ["cmake", "-S", str(ROOT), "-B", str(build), "-DBANYAN_BUILD_PYTHON=ON"]
    if not (build / "CMakeCache.txt").exists():
        configure += ["-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                      f"-DPython_EXECUTABLE={sys.executable}"]
    if not _cached_python(build):
        _run(*configure)
    elif "BANYAN_BUILD_PYTHON:BOOL=ON" not in (build / "CMakeCache.txt").read_text():
        _run(*configure)
    _run("cmake", "--build", str(build), "--target", "banyan_python", "banyan_python_stubs",
         "--parallel", str(os.cpu_count() or 2))
    return build


def _files(build: Path) -> dict:
    """Wheel path -> file: the package folder, and the library under its soname."""
    package = build / "python" / NAME
    files = {}
    for path in sorted(package.iterdir()):
        if path.is_file() and path.suffix != ".pyc":
            files[f"{NAME}/{path.name}"] = path
    libraries = [p for p in (build / "lib").glob("libbanyan.so.*")
                 if re.fullmatch(r"libbanyan\.so\.\d+\.\d+", p.name)]
    if len(libraries) != 1:
        raise RuntimeError(f"expected one libbanyan.so.<major>.<minor> in {build / 'lib'}")
    files[f"{NAME}/{libraries[0].name}"] = libraries[0].resolve()
    return files


def _tag() -> str:
    impl = f"{sys.implementation.name[:2]}{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{impl}-{impl}-{platform}"


def _metadata(version: str) -> str:
    return (f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {version}\n"
            "Summary: Banyan, the embeddable CRM engine, in-process\n"
            "Requires-Python: >=3.9\nProvides-Extra: pandas\n"
            "Requires-Dist: pandas; extra == \"pandas\"\n")


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    tag = _tag()
    info = f"{NAME}-{version}.dist-info"
    wheel_name = f"{NAME}-{version}-{tag}.whl"
    contents = {name: path.read_bytes() for name, path in _files(_build()).items()}
    contents[f"{info}/METADATA"] = _metadata(version).encode()
    contents[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: banyan build_backend\n"
                                 f"Root-Is-Purelib: false\nTag: {tag}\n").encode()
    contents[f"{info}/top_level.txt"] = f"{NAME}\n".encode()
    record = [_record_line(name, data) for name, data in contents.items()]
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(Path(wheel_directory) / wheel_name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in contents.items():
            entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            entry.external_attr = (0o755 if name.endswith(".so") or ".so." in name else 0o644) << 16
            wheel.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return wheel_name
