"""PEP 517 build backend for the analyze-logs wheel: runs the CMake project and packs its binary.

Why its own backend: scikit-build-core is the usual one, but Debian 12 does not package it and
these machines reach no Python registry, so the wheel is built with what Debian ships (python3,
python3-build or pip, cmake, g++, binutils). It is small on purpose and replaceable by
scikit-build-core with no change to the C++ build (docs/WHEEL.md shows the pyproject.toml).

The project is two levels up from this file (src/wheel/ -> the root with CMakeLists.txt). The
wheel holds one native program and no Python code: `analyze-logs` as a script (pip puts it in the
environment's bin/, as the ruff and cmake wheels do), and the man page and bash/zsh/fish
completions as data (under the environment's share/). The binary is built with ALOG_STATIC_DEPS
(re2, zstd, zlib static; fmt header-only; libstdc++ and libgcc static), so it needs only glibc;
the backend refuses a binary whose ELF NEEDED entries name anything else, and tags the wheel
manylinux_2_N for the newest GLIBC_2.N symbol version the binary references.

Where it builds:
  - ALOG_WHEEL_BUILD_DIR=DIR (environment) or `-C build-dir=DIR` (config setting): an existing
    build folder of this project (CI's build-ci). Its CMakeCache.txt must say Release and
    ALOG_STATIC_DEPS=ON and name this source tree; the backend runs
    `cmake --build DIR --target analyze-logs` (nothing to do when it is up to date) and packs it.
  - otherwise: it configures src/wheel/build/ (Release, ALOG_STATIC_DEPS=ON, no tests or
    benchmarks) and builds the analyze-logs target there (what `pip install ./src/wheel` does).
  `-C jobs=N` (default: CMAKE_BUILD_PARALLEL_LEVEL, else the number of cores).
"""

import base64
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
NAME = "analyze_logs"
# What the binary may need at run time: glibc's own libraries and the loader.
ALLOWED_NEEDED = re.compile(
    r"^(libc\.so\.6|libm\.so\.6|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$")
# A fixed timestamp in the zip: the same tree gives the same wheel.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


class BackendError(RuntimeError):
    pass


def _log(msg):
    print("alog_build_backend: " + msg, file=sys.stderr, flush=True)


def _project_root():
    cml = os.path.join(SRC, "CMakeLists.txt")
    try:
        with open(cml, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise BackendError("no CMakeLists.txt at %s (the backend builds the project two levels up "
                           "from src/wheel/; build from a checkout, not an sdist): %s" % (SRC, e))
    m = re.search(r"project\(analyze_logs VERSION ([0-9]+(?:\.[0-9]+)*)", text)
    if not m:
        raise BackendError("%s has no project(analyze_logs VERSION ...)" % cml)
    return m.group(1)


def _pyproject():
    path = os.path.join(HERE, "pyproject.toml")
    if tomllib is None:
        raise BackendError("building the wheel needs Python 3.11 or newer (tomllib); "
                           "running it needs no Python at all")
    with open(path, "rb") as f:
        return tomllib.load(f).get("project", {})


def _run(cmd, **kw):
    _log("+ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def _read_cache(build):
    cache = {}
    path = os.path.join(build, "CMakeCache.txt")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):[A-Z]+=(.*)$", line.rstrip("\n"))
                if m:
                    cache[m.group(1)] = m.group(2)
    except OSError as e:
        raise BackendError("%s is not a CMake build folder (no CMakeCache.txt): %s" % (build, e))
    return cache


def _truthy(value):
    return value.upper() in ("ON", "1", "TRUE", "YES", "Y")


def _jobs(config):
    jobs = config.get("jobs") or os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or os.cpu_count() or 1
    if not str(jobs).isdigit() or int(jobs) < 1:
        raise BackendError("jobs=%s: expected a positive integer" % jobs)
    return str(jobs)


def _build(config):
    """Builds analyze-logs; returns the path of the binary."""
    existing = config.get("build-dir") or os.environ.get("ALOG_WHEEL_BUILD_DIR")
    jobs = _jobs(config)
    if existing:
        build = os.path.abspath(existing)
        cache = _read_cache(build)
        home = cache.get("CMAKE_HOME_DIRECTORY", "")
        if not home or os.path.realpath(home) != os.path.realpath(SRC):
            raise BackendError("%s was configured from %r, not from %s" % (build, home, SRC))
        if cache.get("CMAKE_BUILD_TYPE") != "Release":
            raise BackendError("%s is a %r build: the wheel ships a Release build"
                               % (build, cache.get("CMAKE_BUILD_TYPE", "")))
        if not _truthy(cache.get("ALOG_STATIC_DEPS", "OFF")):
            raise BackendError("%s is not configured with -DALOG_STATIC_DEPS=ON: its binary needs "
                               "more than glibc" % build)
        if _truthy(cache.get("ALOG_SANITIZE", "OFF")):
            raise BackendError("%s is a sanitizer build" % build)
        _log("reusing the build folder %s" % build)
    else:
        build = os.path.join(HERE, "build")
        cmd = ["cmake", "-S", SRC, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
               "-DALOG_STATIC_DEPS=ON", "-DALOG_TESTS=OFF", "-DALOG_BENCH=OFF", "-DALOG_FUZZ=OFF",
               "-DALOG_WERROR=OFF"]
        if shutil.which("ccache"):
            cmd.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        _run(cmd, stdout=sys.stderr)
    _run(["cmake", "--build", build, "--target", "analyze-logs", "-j", jobs], stdout=sys.stderr)
    binary = os.path.join(build, "analyze-logs")
    if not os.path.isfile(binary):
        raise BackendError("the build left no %s" % binary)
    return binary


def _elf_needs(binary):
    """The ELF NEEDED entries and the GLIBC_x.y versions the binary references (readelf)."""
    env = dict(os.environ, LC_ALL="C")
    dyn = subprocess.run(["readelf", "-d", binary], check=True, capture_output=True, text=True,
                         env=env).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn)
    ver = subprocess.run(["readelf", "-V", binary], check=True, capture_output=True, text=True,
                         env=env).stdout
    # The version needs section: "0x0010:   Name: GLIBC_2.34  Flags: none  Version: 5".
    names = re.findall(r"Name: (\S+)\s+Flags:", ver)
    return needed, names


def platform_tag(binary, machine=None):
    """manylinux_2_N_<arch>, N the newest GLIBC_2.N the binary references (PEP 600)."""
    needed, names = _elf_needs(binary)
    extra = [n for n in needed if not ALLOWED_NEEDED.match(n)]
    if extra:
        raise BackendError("the binary needs libraries beyond glibc: " + ", ".join(extra))
    glibc = []
    for n in names:
        m = re.match(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$", n)
        if m:
            glibc.append((int(m.group(1)), int(m.group(2))))
        else:  # GLIBC_PRIVATE (tied to one glibc build), or another library's version
            raise BackendError("the binary references the symbol version %s: no manylinux tag "
                               "covers it" % n)
    if not glibc:
        raise BackendError("the binary references no GLIBC_2.N symbol version: not a glibc binary?")
    major, minor = max(glibc)
    if major != 2:
        raise BackendError("GLIBC_%d.%d: manylinux tags are for glibc 2" % (major, minor))
    arch = machine or platform.machine()
    return "manylinux_%d_%d_%s" % (major, minor, arch)


def _metadata(version):
    project = _pyproject()
    with open(os.path.join(SRC, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    lines = ["Metadata-Version: 2.1", "Name: " + project.get("name", "analyze-logs"),
             "Version: " + version]
    if project.get("description"):
        lines.append("Summary: " + project["description"])
    lic = project.get("license", {})
    if isinstance(lic, dict) and lic.get("text"):
        lines.append("License: " + lic["text"])
    if project.get("requires-python"):
        lines.append("Requires-Python: " + project["requires-python"])
    for c in project.get("classifiers", []):
        lines.append("Classifier: " + c)
    for label, url in project.get("urls", {}).items():
        lines.append("Project-URL: %s, %s" % (label, url))
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + readme


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arcname, digest, len(data))


def _zip_add(z, arcname, data, mode):
    info = zipfile.ZipInfo(arcname, date_time=ZIP_DATE)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, data)


# PEP 517 hooks -----------------------------------------------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    version = _project_root()
    dist_info = "%s-%s.dist-info" % (NAME, version)
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata(version))
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    config = config_settings or {}
    version = _project_root()
    binary = _build(config)
    with tempfile.TemporaryDirectory() as tmp:
        # Symbols stripped (8.5 MB -> 7.3 MB on x86_64); the build folder's binary is left as it is.
        stripped = os.path.join(tmp, "analyze-logs")
        shutil.copyfile(binary, stripped)
        _run(["strip", "--strip-unneeded", stripped])
        tag = "py3-none-" + platform_tag(stripped)
        with open(stripped, "rb") as f:
            binary_data = f.read()
    data = "%s-%s.data" % (NAME, version)
    dist_info = "%s-%s.dist-info" % (NAME, version)
    docs = os.path.join(SRC, "docs")
    files = [  # (name in the wheel, source file, mode)
        (data + "/data/share/man/man1/analyze-logs.1", os.path.join(docs, "analyze-logs.1"), 0o644),
        (data + "/data/share/bash-completion/completions/analyze-logs",
         os.path.join(docs, "analyze-logs.bash-completion"), 0o644),
        (data + "/data/share/zsh/site-functions/_analyze-logs",
         os.path.join(docs, "analyze-logs.zsh-completion"), 0o644),
        (data + "/data/share/fish/vendor_completions.d/analyze-logs.fish",
         os.path.join(docs, "analyze-logs.fish-completion"), 0o644),
        (dist_info + "/LICENSE", os.path.join(SRC, "LICENSE"), 0o644),
    ]
    entries = [(data + "/scripts/analyze-logs", binary_data, 0o755)]
    for arcname, path, mode in files:
        with open(path, "rb") as f:
            entries.append((arcname, f.read(), mode))
    entries.append((dist_info + "/METADATA", _metadata(version).encode(), 0o644))
    entries.append((dist_info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: alog_build_backend\n"
                                          "Root-Is-Purelib: false\nTag: %s\n" % tag).encode(), 0o644))
    wheel_name = "%s-%s-%s.whl" % (NAME, version, tag)
    os.makedirs(wheel_directory, exist_ok=True)
    path = os.path.join(wheel_directory, wheel_name)
    part = path + ".part"
    record = []
    with zipfile.ZipFile(part, "w") as z:
        for arcname, content, mode in entries:
            _zip_add(z, arcname, content, mode)
            record.append(_record_line(arcname, content))
        record.append(dist_info + "/RECORD,,")
        _zip_add(z, dist_info + "/RECORD", ("\n".join(record) + "\n").encode(), 0o644)
    os.replace(part, path)
    _log("wrote %s (%d bytes)" % (path, os.path.getsize(path)))
    return wheel_name
