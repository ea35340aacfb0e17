#!/usr/bin/env python3
"""Lambda packages of the atrest rules, for provided.al2023 (glibc 2.34).

    package.py build [--arch arm64|x86_64]   build every rule and write
                                             target/lambda/<arch>/<rule-id>/bootstrap.zip
    package.py check [--arch arm64|x86_64]   check those zips: one executable
                                             `bootstrap`, the right ELF machine,
                                             no glibc symbol newer than 2.34

Every rule binary links only the SDK clients its rule calls (the
`required-features` of its [[bin]] in rules/Cargo.toml); `check` proves it
from the binaries' contents, so a KMS rule carries no aws-sdk-ec2.

Each architecture is built with its GNU toolchain (gcc: the host's for
x86_64, Debian's `gcc-aarch64-linux-gnu` for arm64) and linked by mold:
lld (rustc's default linker on x86_64, and zig's) keeps the exception tables
(`.gcc_except_table`) of every function it discards, which were 40% of a
binary's bytes; mold drops them with their functions. The toolchain links
against Debian 12's glibc 2.36, so `check` proves from the binaries that no
symbol needs a glibc newer than provided.al2023's 2.34. The tools are
installed here (apt-get) when missing.
"""

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLIBC_MAX = (2, 34)  # provided.al2023
ARCHES = {
    # arch setting: (Rust target, `readelf -h` machine)
    "arm64": ("aarch64-unknown-linux-gnu", "AArch64"),
    "x86_64": ("x86_64-unknown-linux-gnu", "Advanced Micro Devices X86-64"),
}
# Per architecture: the GNU triplet of its gcc and binutils, and the Debian
# packages that hold them.
TOOLCHAINS = {
    "arm64": ("aarch64-linux-gnu", ["gcc-aarch64-linux-gnu"]),
    "x86_64": ("x86_64-linux-gnu", ["gcc"]),
}
LINKER_PACKAGES = ["mold"]
# A fixed timestamp keeps the zips byte-identical across builds (CDK hashes them).
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


class PackageError(Exception):
    pass


def run(cmd, **kw):
    print("+ " + " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    result = subprocess.run(cmd, **kw)
    if result.returncode != 0:
        raise PackageError(f"`{' '.join(str(c) for c in cmd)}` failed with exit code {result.returncode}")
    return result


def lambda_dir(arch):
    return ROOT / "target" / "lambda" / arch


def rule_ids():
    return [rule["id"] for rule in json.loads((ROOT / "rules" / "manifest.json").read_text())]


def required_features():
    """Each rule binary's required features (rules/Cargo.toml): the SDKs it may link."""
    manifest = tomllib.loads((ROOT / "rules" / "Cargo.toml").read_text())
    return {b["name"]: set(b.get("required-features", [])) for b in manifest.get("bin", [])}


# What each optional SDK crate leaves in a binary that links its code: its
# source path, in the panic locations a stripped binary keeps.
SDK_MARKERS = {sdk: f"/aws-sdk-{sdk}-".encode() for sdk in ("ec2", "rds", "s3", "ssm", "lambda")}


def ensure_tools(arch):
    target, _ = ARCHES[arch]
    installed = subprocess.run(["rustup", "target", "list", "--installed"], capture_output=True, text=True)
    if target not in installed.stdout.split():
        added = subprocess.run(["rustup", "target", "add", target], capture_output=True, text=True)
        if added.returncode != 0:
            raise PackageError(
                f"cannot add the Rust target {target} on this machine (`rustup target add {target}` failed); "
                "build the other architecture with ARCH=x86_64 or ARCH=arm64"
            )
    triplet, packages = TOOLCHAINS[arch]
    wanted = {f"{triplet}-gcc": packages, "mold": LINKER_PACKAGES}
    missing = sorted({p for tool, pkgs in wanted.items() if shutil.which(tool) is None for p in pkgs})
    if missing:
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise PackageError(f"missing {', '.join(missing)}: install them (Debian: apt-get install {' '.join(missing)})")
        quiet = {"env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, "stdout": subprocess.DEVNULL}
        run(["apt-get", "update", "-qq"], **quiet)
        run(["apt-get", "install", "-y", "-qq", *missing], **quiet)


def mold_ld_dir():
    """The directory where mold installs itself as `ld` (Debian: /usr/libexec/mold)."""
    mold = shutil.which("mold")
    if mold is None:
        raise PackageError("mold not found: install it (Debian: apt-get install mold)")
    ld_dir = Path(mold).resolve().parent.parent / "libexec" / "mold"
    if not (ld_dir / "ld").exists():
        raise PackageError(f"mold is installed without {ld_dir / 'ld'}, which gcc would run as its linker")
    return ld_dir


def build_env(arch, env=None):
    """The environment of a release build for ARCH's Lambda: its gcc compiles
    the C code (aws-lc) and drives the link, mold links. Everything built for
    that target shares these flags (the packages, the release CLI and the
    benchmark binaries), so their dependencies are built once."""
    target, _ = ARCHES[arch]
    triplet, _ = TOOLCHAINS[arch]
    env = dict(os.environ if env is None else env)
    upper = target.upper().replace("-", "_")
    lower = target.replace("-", "_")
    env[f"CARGO_TARGET_{upper}_LINKER"] = f"{triplet}-gcc"
    # gcc runs the `ld` it finds first in -B's directory: mold's (the
    # cross gcc has no -fuse-ld=mold of its own).
    flags = ["-C", f"link-arg=-B{mold_ld_dir()}"]
    if arch == "x86_64":
        # rustc links x86_64-unknown-linux-gnu with its own lld unless told not to.
        flags = ["-C", "linker-features=-lld", *flags]
    env[f"CARGO_TARGET_{upper}_RUSTFLAGS"] = " ".join(flags)
    env[f"CC_{lower}"] = f"{triplet}-gcc"
    env[f"AR_{lower}"] = f"{triplet}-ar"
    return env


def cargo_target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def build(arch):
    target, _ = ARCHES[arch]
    ensure_tools(arch)
    env = build_env(arch)
    cold = not (cargo_target_dir() / target / "release" / "deps").is_dir()
    started = time.monotonic()
    # One build of every binary: one feature set, so the SDK crates compile once
    # per architecture (separate builds per rule's features recompiled most of
    # them again, 35 min instead of 15 cold). The linker keeps only the code a
    # binary reaches, so a KMS rule still carries no EC2 client: `check` proves it.
    cmd = ["cargo", "build", "--release", "--locked", "--target", target, "-p", "atrest-rules", "--bins"]
    run(cmd, cwd=ROOT, env=env)
    seconds = time.monotonic() - started
    out = lambda_dir(arch)
    for rule in rule_ids():
        binary = cargo_target_dir() / target / "release" / rule
        if not binary.is_file():
            raise PackageError(f"no binary for rule {rule} at {binary}")
        zip_path = out / rule / "bootstrap.zip"
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        partial = zip_path.with_suffix(".zip.partial")
        info = zipfile.ZipInfo("bootstrap", date_time=ZIP_TIME)
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        info.create_system = 3  # Unix: the mode bits above are read
        info.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(partial, "w") as z:
            z.writestr(info, binary.read_bytes(), compresslevel=9)
        partial.replace(zip_path)
        print(f"{zip_path.relative_to(ROOT)}  {zip_path.stat().st_size} bytes")
    # The build's wall time, for the benchmarks (bench/RESULTS.md): the latest
    # build, and the latest cold one (kept across incremental builds).
    record = out / "build.json"
    try:
        times = json.loads(record.read_text())
    except (OSError, ValueError):
        times = {}
    times["latest"] = {"seconds": round(seconds, 1), "cold": cold}
    if cold:
        times["cold"] = times["latest"]
    record.write_text(json.dumps(times) + "\n")
    print(f"package: {arch} built in {seconds:.0f} s ({'cold' if cold else 'incremental'})")


def glibc_versions(path):
    """The GLIBC_x.y versions the binary's dynamic symbols need (objdump -T)."""
    dump = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True)
    if dump.returncode != 0:
        raise PackageError(f"objdump -T {path} failed: {dump.stderr.strip()}")
    versions = {tuple(int(n) for n in m.split(".")) for m in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", dump.stdout)}
    if not versions:
        raise PackageError(f"{path}: objdump -T shows no GLIBC_ symbol (not a glibc binary?)")
    return versions


def elf_machine(path):
    header = subprocess.run(["readelf", "-h", str(path)], capture_output=True, text=True)
    if header.returncode != 0:
        raise PackageError(f"readelf -h {path} failed: {header.stderr.strip()}")
    match = re.search(r"Machine:\s+(.+)", header.stdout)
    if match is None:
        raise PackageError(f"{path}: readelf -h shows no machine")
    return match.group(1).strip()


def check(arch):
    _, machine = ARCHES[arch]
    failures = []
    passed = 0
    for rule in rule_ids():
        before = len(failures)
        zip_path = lambda_dir(arch) / rule / "bootstrap.zip"
        if not zip_path.is_file():
            failures.append(f"{rule}: missing {zip_path.relative_to(ROOT)} (run `make package ARCH={arch}`)")
            continue
        with zipfile.ZipFile(zip_path) as z:
            names = z.namelist()
            if names != ["bootstrap"]:
                failures.append(f"{rule}: the zip holds {names}, not exactly one `bootstrap`")
                continue
            info = z.getinfo("bootstrap")
            mode = info.external_attr >> 16
            if info.create_system != 3 or not stat.S_ISREG(mode) or mode & 0o111 != 0o111:
                failures.append(f"{rule}: bootstrap is not an executable file in the zip (mode {oct(mode)})")
            with tempfile.TemporaryDirectory() as tmp:
                binary = Path(z.extract("bootstrap", tmp))
                found = elf_machine(binary)
                if found != machine:
                    failures.append(f"{rule}: ELF machine {found}, expected {machine}")
                code = binary.read_bytes()
                needs = required_features().get(rule, set())
                for sdk, marker in SDK_MARKERS.items():
                    if (marker in code) != (sdk in needs):
                        failures.append(
                            f"{rule}: {'links' if marker in code else 'lacks'} the {sdk} SDK "
                            f"(its required features: {sorted(needs) or 'none'})"
                        )
                newest = max(glibc_versions(binary))
                if newest > GLIBC_MAX:
                    failures.append(
                        f"{rule}: needs GLIBC_{'.'.join(map(str, newest))}, "
                        f"newer than provided.al2023's {'.'.join(map(str, GLIBC_MAX))}"
                    )
        if len(failures) == before:
            passed += 1
            print(f"ok {rule} ({arch}, {zip_path.stat().st_size} bytes)")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"packages: {passed} passed, {len(rule_ids()) - passed} failed")
    if failures:
        raise PackageError(f"{len(failures)} package check(s) failed for {arch}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["build", "check"])
    parser.add_argument("--arch", default=os.environ.get("ARCH", "arm64"), help="arm64 (default) or x86_64")
    args = parser.parse_args()
    if args.arch not in ARCHES:
        print(f"package: unknown architecture {args.arch!r}: use arm64 or x86_64", file=sys.stderr)
        return 2
    try:
        if args.command == "build":
            build(args.arch)
        else:
            check(args.arch)
    except PackageError as e:
        print(f"package: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
