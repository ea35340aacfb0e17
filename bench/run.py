#!/usr/bin/env python3
"""atrest's benchmarks, side by side with the baseline a user would pick
instead (a Python rule on rdklib + boto3) and with the limits, in one run.
Writes bench/RESULTS.md and bench/results.json. `make bench` runs it.

Figures (see bench/README in RESULTS.md's header for the method):
 1. cold init per rule binary: exec -> first GET /runtime/invocation/next on a
    loopback Runtime API (median, p90 of --starts runs), peak RSS (VmHWM)
    after one invocation; baseline: the rdklib rule through the same API
 2. warm invocation: criterion, in process (bench/benches/warm.rs)
 3. API economy of a periodic sweep: --volumes volumes over --keys keys on
    moto, calls per operation from moto's recorder vs the floor
 4. sweep wall time on moto vs the floor (floor calls x moto's median call
    latency, measured by replaying the calls)
 5. snapshot evaluation of a generated --items snapshot vs a bare
    serde_json parse of the same file
 6. package size per rule zip, and the release build time
The machine is shared and noisy: figures are ratios measured in one run;
nothing here is asserted in a test.
"""

import argparse
import http.client
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
VENV = BENCH / ".venv"
HOST_TARGET = "x86_64-unknown-linux-gnu"
REQUIREMENTS = ["rdklib==0.3.10", "boto3==1.44.8", "moto[server]==5.2.5"]
ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def sh(cmd, **kw):
    log("+ " + " ".join(map(str, cmd)))
    return subprocess.run(cmd, check=True, **kw)


def percentile(values, p):
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ---------------------------------------------------------------- set-up


def ensure_venv():
    stamp = VENV / (".atrest-" + "-".join(r.replace("[", "_").replace("]", "_") for r in REQUIREMENTS))
    if stamp.exists():
        return
    if not (VENV / "bin" / "python").exists():
        sh([sys.executable, "-m", "venv", str(VENV)])
    sh([str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS])
    stamp.touch()


def cargo_target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def package_env():
    """The x86_64 packages' build environment (scripts/package.py: gcc, mold),
    so the release CLI and the benchmark binaries share their dependencies."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import package  # noqa: E402 (scripts/package.py)

    return package.build_env("x86_64")


def build():
    """The x86_64 packages (what is measured; this machine is x86_64), the
    release CLI and the benchmark binaries, all built as the packages are."""
    sh(["make", "-C", str(ROOT), "package", "ARCH=x86_64"])
    cmd = ["cargo", "build", "--release", "--locked", "--target", HOST_TARGET]
    sh(cmd + ["-p", "atrest", "--bin", "atrest"], cwd=ROOT, env=package_env())
    out = subprocess.run(
        cmd + ["-p", "atrest-bench", "--bins", "--benches", "--message-format=json-render-diagnostics"],
        cwd=ROOT, env=package_env(), check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    warm_bench = None
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and "bench" in msg["target"]["kind"] and msg.get("executable"):
            warm_bench = msg["executable"]
    if warm_bench is None:
        raise SystemExit("bench: cargo built no bench executable")
    release = cargo_target_dir() / HOST_TARGET / "release"
    return {"atrest": release / "atrest", "parse_json": release / "parse-json", "warm": Path(warm_bench),
            "floor": release / "floor"}


def machine_info():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": mem,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rustc": subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


# ---------------------------------------------------------------- moto


class Moto:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="atrest-bench-moto-"))
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [str(VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            cwd=self.dir, env={**os.environ, "MOTO_RECORDER_FILEPATH": str(self.dir / "recording")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("bench: moto_server did not start within 60 s")
                time.sleep(0.1)

    def post(self, path):
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}{path}", data=b"", method="POST")).read()

    def start_recording(self):
        self.post("/moto-api/recorder/reset-recording")
        self.post("/moto-api/recorder/start-recording")

    def recording(self):
        self.post("/moto-api/recorder/stop-recording")
        text = urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/download-recording").read().decode()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def client(self, service):
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def operation_of(rec):
    headers = {k.lower(): v for k, v in (rec.get("headers") or {}).items()}
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    body = rec.get("body") or ""
    if rec.get("body_encoded"):
        import base64

        body = base64.b64decode(body).decode(errors="replace")
    action = urllib.parse.parse_qs(body).get("Action") or urllib.parse.parse_qs(
        urllib.parse.urlparse(rec.get("url", "")).query).get("Action")
    if action:
        return action[0]
    return f"{rec.get('method')} {urllib.parse.urlparse(rec.get('url', '')).path}"


def count_operations(recording):
    counts = {}
    for rec in recording:
        op = operation_of(rec)
        counts[op] = counts.get(op, 0) + 1
    return dict(sorted(counts.items()))


def replay_latencies(moto, recording):
    """Each recorded request sent again, one at a time over one keep-alive
    connection: moto's own time per call, without any client's overhead."""
    url = urllib.parse.urlparse(moto.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    latencies = []
    for rec in recording:
        body = rec.get("body") or ""
        if rec.get("body_encoded"):
            import base64

            data = base64.b64decode(body)
        else:
            data = body.encode()
        target = urllib.parse.urlparse(rec["url"])
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = {k: v for k, v in (rec.get("headers") or {}).items()
                   if k.lower() not in ("content-length", "connection", "transfer-encoding")}
        start = time.perf_counter_ns()
        conn.request(rec["method"], path, body=data, headers=headers)
        conn.getresponse().read()
        latencies.append((time.perf_counter_ns() - start) / 1e6)
    conn.close()
    return latencies


def seed(moto, volumes, keys):
    kms, ec2 = moto.client("kms"), moto.client("ec2")
    arns = [kms.create_key(Description=f"bench key {i}")["KeyMetadata"]["Arn"] for i in range(keys)]
    for i in range(volumes):
        ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=True, KmsKeyId=arns[i % keys])
    return arns


# ---------------------------------------------------------------- Runtime API


class RuntimeApi:
    """A loopback Lambda Runtime API serving one event. It notes when the
    first GET /next arrives; with `answer` it delivers the event, takes the
    response and notes the second GET /next (the invocation is over)."""

    def __init__(self, event, answer):
        self.event = json.dumps(event).encode()
        self.answer = answer
        self.first_next = self.second_next = self.t_result = None
        self.outcome = None
        self.result = None
        self.nexts = 0
        self.lock = threading.Lock()
        self.got_first, self.got_second, self.release = threading.Event(), threading.Event(), threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                now = time.perf_counter_ns()
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                with api.lock:
                    api.nexts += 1
                    n = api.nexts
                if n == 1:
                    api.first_next = now
                    api.got_first.set()
                    if api.answer:
                        self.send_response(200)
                        for k, v in {
                            "Lambda-Runtime-Aws-Request-Id": "bench-1",
                            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 900_000),
                            "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:bench",
                            "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793",
                            "Content-Type": "application/json",
                            "Content-Length": str(len(api.event)),
                        }.items():
                            self.send_header(k, v)
                        self.end_headers()
                        self.wfile.write(api.event)
                        return
                else:
                    api.second_next = now
                    api.got_second.set()
                api.release.wait(600)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                api.t_result = time.perf_counter_ns()
                api.outcome = self.path.rsplit("/", 1)[-1]
                api.result = body.decode(errors="replace")
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def lambda_env(api, moto_endpoint, name):
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "WARN",
    }


def vm_hwm_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


def cpu_ms(pid):
    """User + system CPU time of a running process, in ms (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def start(cmd, event, answer, moto_endpoint, name, extra_env=None):
    """One start: (init ms, and for an answered event: invocation ms, VmHWM KiB, outcome)."""
    api = RuntimeApi(event, answer)
    try:
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen(cmd, env={**lambda_env(api, moto_endpoint, name), **(extra_env or {})},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not api.got_first.wait(60):
                raise RuntimeError(f"{name}: no GET /next within 60 s")
            init_ms = (api.first_next - t0) / 1e6
            if not answer:
                return {"init_ms": init_ms}
            if not api.got_second.wait(600):
                raise RuntimeError(f"{name}: the invocation did not finish within 600 s")
            return {
                "init_ms": init_ms,
                "answer_ms": (api.t_result - t0) / 1e6,
                "invocation_ms": (api.t_result - api.first_next) / 1e6,
                "vm_hwm_kib": vm_hwm_kib(proc.pid),
                "cpu_ms": cpu_ms(proc.pid),
                "outcome": api.outcome,
                "result": api.result[:300],
            }
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    finally:
        api.close()


def scheduled_event(rule_name, params):
    return {
        "version": "1.0",
        "invokingEvent": json.dumps({
            "awsAccountId": ACCOUNT, "notificationCreationTime": "2026-11-30T08:00:00.000Z",
            "messageType": "ScheduledNotification", "recordVersion": "1.0",
        }),
        "ruleParameters": json.dumps(params),
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/config-role",
        "configRuleArn": f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-bench",
        "configRuleName": rule_name,
        "configRuleId": "config-rule-bench",
        "accountId": ACCOUNT,
    }


# ---------------------------------------------------------------- the figures


RULE_PARAMS = {"kms-key-tags-aligned": {"tagKeys": "CostCenter"}}
RDKLIB_PARAMS = {"AssumeRoleMode": "false"}  # atrest's rules also run on their own role by default


def extract_packages(arch):
    out = WORK / "bootstrap" / arch
    rules = [r["id"] for r in json.loads((ROOT / "rules" / "manifest.json").read_text())]
    paths, sizes = {}, {}
    for rule in rules:
        zip_path = ROOT / "target" / "lambda" / arch / rule / "bootstrap.zip"
        if not zip_path.exists():
            continue
        sizes[rule] = {"zip": zip_path.stat().st_size}
        with zipfile.ZipFile(zip_path) as z:
            target = out / rule
            target.mkdir(parents=True, exist_ok=True)
            z.extract("bootstrap", target)
            binary = target / "bootstrap"
            binary.chmod(0o755)
            sizes[rule]["binary"] = binary.stat().st_size
            paths[rule] = binary
    return paths, sizes


FLOOR = "floor (bare lambda_runtime)"
# What was tried for cold init and is not shipped, started beside the
# packages (see tried_binaries).
TRIED_NO_PIE = "tried: ebs-volume-encrypted linked without PIE"
TRIED_NO_CA = "tried: ebs-volume-encrypted with an empty CA bundle"
TRIED_BOTH = "tried: both (no PIE, empty CA bundle)"


def tried_binaries():
    """ebs-volume-encrypted's objects linked again as a position-dependent
    executable (`-C relocation-model=static` on the binary alone: the
    libraries, compiled position-independent, link into it unchanged), and
    an empty CA bundle for SSL_CERT_FILE. The shipped link is restored
    afterwards."""
    release = cargo_target_dir() / HOST_TARGET / "release"
    cmd = ["cargo", "rustc", "--release", "--locked", "--target", HOST_TARGET, "-p", "atrest-rules",
           "--bin", "ebs-volume-encrypted"]
    tried = WORK / "tried"
    tried.mkdir(parents=True, exist_ok=True)
    sh(cmd + ["--", "-C", "relocation-model=static"], cwd=ROOT, env=package_env())
    no_pie = tried / "ebs-volume-encrypted-no-pie"
    shutil.copy2(release / "ebs-volume-encrypted", no_pie)
    sh(cmd, cwd=ROOT, env=package_env())
    if b"DYN" not in subprocess.run(["readelf", "-h", str(release / "ebs-volume-encrypted")],
                                    capture_output=True, check=True).stdout:
        raise SystemExit("bench: the shipped ebs-volume-encrypted was not linked back as a PIE")
    empty = tried / "empty-ca-bundle.pem"
    empty.write_bytes(b"")
    return no_pie, {"SSL_CERT_FILE": str(empty)}


def cold_starts(paths, floor, moto, starts, tried=None):
    rdklib_cmd = [str(VENV / "bin" / "python"), str(BENCH / "python_bootstrap.py"),
                  str(BENCH / "rdklib_rule" / "ebs_cmk.py"), "lambda_handler"]
    subjects = {FLOOR: ([str(floor)], None)}
    subjects.update({rule: ([str(p)], None) for rule, p in paths.items()})
    if tried:
        no_pie, no_ca = tried
        subjects[TRIED_NO_PIE] = ([str(no_pie)], None)
        subjects[TRIED_NO_CA] = ([str(paths["ebs-volume-encrypted"])], no_ca)
        subjects[TRIED_BOTH] = ([str(no_pie)], no_ca)
    subjects["rdklib (ebs, Python)"] = (rdklib_cmd, None)
    out = {}
    for name, (cmd, env) in subjects.items():
        rule = name if name in paths else "ebs-volume-encrypted"
        params = RULE_PARAMS.get(rule, {}) if name in paths or name.startswith("tried") else RDKLIB_PARAMS
        event = scheduled_event(f"atrest-{rule}", params)
        start(cmd, event, False, moto.endpoint, name, env)  # warm the page cache; not counted
        inits = [start(cmd, event, False, moto.endpoint, name, env)["init_ms"] for _ in range(starts)]
        invoked = start(cmd, event, True, moto.endpoint, name, env)
        out[name] = {
            "init_ms_median": statistics.median(inits),
            "init_ms_p90": percentile(inits, 90),
            "init_ms_all": inits,
            "vm_hwm_mib": invoked["vm_hwm_kib"] / 1024,
            "invocation_outcome": invoked["outcome"],
            "invocation_ms": invoked["invocation_ms"],
        }
        log(f"{name}: init median {out[name]['init_ms_median']:.2f} ms, VmHWM {out[name]['vm_hwm_mib']:.1f} MiB, "
            f"invocation {invoked['outcome']} in {invoked['invocation_ms']:.0f} ms")
    return out


def change_event(volume_id, key_arn):
    """A change notification of one encrypted volume (ebs-volume-encrypted's
    change path: one DescribeKey, one PutEvaluations in TestMode)."""
    item = {
        "relatedEvents": [], "relationships": [], "supplementaryConfiguration": {}, "tags": {},
        "configuration": {"availabilityZone": f"{REGION}a", "encrypted": True, "kmsKeyId": key_arn, "size": 8,
                          "state": "available", "volumeId": volume_id, "volumeType": "gp3", "attachments": []},
        "configurationItemVersion": "1.3", "configurationItemCaptureTime": "2026-11-30T08:00:00.000Z",
        "configurationStateId": 1, "awsAccountId": ACCOUNT, "configurationItemStatus": "OK",
        "resourceType": "AWS::EC2::Volume", "resourceId": volume_id, "resourceName": None,
        "ARN": f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{volume_id}", "awsRegion": REGION,
        "availabilityZone": f"{REGION}a", "configurationStateMd5Hash": "",
    }
    event = scheduled_event("atrest-ebs-volume-encrypted", {})
    event["invokingEvent"] = json.dumps({
        "configurationItemDiff": None, "configurationItem": item, "messageType": "ConfigurationItemChangeNotification",
        "notificationCreationTime": "2026-11-30T08:00:01.000Z", "recordVersion": "1.3",
    })
    return event


def first_answers(rule_binary, floor, moto, starts):
    """Cold start to the first answer: exec -> the response of one change
    event, for the rule (its key look-up and PutEvaluations on moto) and the
    floor binary (answers at once); the rule's calls replayed on moto."""
    volume = moto.client("ec2").describe_volumes(MaxResults=5)["Volumes"][0]
    event = change_event(volume["VolumeId"], volume["KmsKeyId"])
    moto.start_recording()
    probe = start([str(rule_binary)], event, True, moto.endpoint, "first-answer")
    recording = moto.recording()
    if probe["outcome"] != "response" or json.loads(probe["result"]).get("compliant") != 1:
        raise SystemExit(f"bench: the first-answer event failed: {probe['result']}")
    out = {"calls": count_operations(recording)}
    atrest, bare = [], []
    for _ in range(starts):
        atrest.append(start([str(rule_binary)], event, True, moto.endpoint, "first-answer")["answer_ms"])
        bare.append(start([str(floor)], event, True, moto.endpoint, "floor")["answer_ms"])
    replays = [sum(replay_latencies(moto, recording)) for _ in range(starts)]
    out.update({"atrest_ms": statistics.median(atrest), "floor_ms": statistics.median(bare),
                "replayed_ms": statistics.median(replays)})
    out["target_ms"] = 3 * (out["floor_ms"] + out["replayed_ms"])
    log(f"first answer: atrest {out['atrest_ms']:.1f} ms, floor {out['floor_ms']:.1f} ms, "
        f"calls replayed {out['replayed_ms']:.1f} ms")
    return out


def sweep(cmd, name, params, moto):
    event = scheduled_event("atrest-ebs-volume-encrypted", params)
    moto.start_recording()
    run = start(cmd, event, True, moto.endpoint, name)
    recording = moto.recording()
    if run["outcome"] != "response":
        raise SystemExit(f"bench: the {name} sweep failed: {run['result']}")
    return run, recording


def warm(binary):
    home = WORK / "criterion"
    shutil.rmtree(home, ignore_errors=True)
    sh([str(binary), "--bench", "--noplot"], env={**os.environ, "CRITERION_HOME": str(home)},
       stdout=subprocess.DEVNULL)
    [estimates] = list(home.glob("*/new/estimates.json"))
    sample = json.loads((estimates.parent / "sample.json").read_text())
    per_iter_us = [t / i / 1000 for t, i in zip(sample["times"], sample["iters"])]
    median = json.loads(estimates.read_text())["median"]["point_estimate"] / 1000
    return {"median_us": median, "p99_us": percentile(per_iter_us, 99), "samples": len(per_iter_us)}


def snapshot_file(items, gz=False):
    """A generated snapshot of `items` items: the bundled example's items,
    the non-KMS ones cloned with new ids; written a piece at a time."""
    path = WORK / f"snapshot-{items}.json{'.gz' if gz else ''}"
    if path.exists():
        return path
    if gz:
        import gzip

        plain = snapshot_file(items)
        WORK.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with open(plain, "rb") as src, gzip.open(partial, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        partial.replace(path)
        return path
    base = json.loads((ROOT / "examples" / "config-snapshot.json").read_text())
    seeds = base["configurationItems"]
    clones = [i for i in seeds if not i["resourceType"].startswith("AWS::KMS::")]
    WORK.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    head = {k: v for k, v in base.items() if k != "configurationItems"}
    with open(partial, "w") as out:
        out.write(json.dumps(head)[:-1] + ', "configurationItems": [')
        out.write(", ".join(json.dumps(i) for i in seeds[:items]))
        written, n = min(len(seeds), items), 0
        while written < items:
            for item in clones:
                if written >= items:
                    break
                n += 1
                copy = json.loads(json.dumps(item))
                copy["resourceId"] = f"{item['resourceId']}-{n}"
                if copy.get("ARN"):
                    copy["ARN"] = f"{item['ARN']}-{n}"
                out.write(", " + json.dumps(copy))
                written += 1
        out.write("]}")
    partial.replace(path)
    return path


def timed(cmds, runs):
    """Median wall time and largest peak RSS (MiB) of each command, the
    commands taking turns run after run, so that the machine's slow and
    fast spells fall on all of them. Each runs under GNU time, whose
    `%M` is the command's own peak (the kernel's ru_maxrss of a child
    forked from this Python process would count this process's memory)."""
    times = [[] for _ in cmds]
    rss = [0.0 for _ in cmds]
    for _ in range(runs):
        for k, cmd in enumerate(cmds):
            with tempfile.NamedTemporaryFile("r") as peak, tempfile.TemporaryFile() as err:
                t0 = time.perf_counter()
                result = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *map(str, cmd)],
                                        stdout=subprocess.DEVNULL, stderr=err)
                times[k].append(time.perf_counter() - t0)
                if result.returncode not in (0, 1):
                    err.seek(0)
                    raise SystemExit(f"bench: {' '.join(map(str, cmd))} failed: {err.read().decode()[:500]}")
                rss[k] = max(rss[k], int(peak.read().split()[-1]) / 1024)
    return [(statistics.median(t), m) for t, m in zip(times, rss)]


def build_time(arch):
    path = ROOT / "target" / "lambda" / arch / "build.json"
    return json.loads(path.read_text()) if path.exists() else None


# ---------------------------------------------------------------- package size


def sections(binary):
    """The loaded sections of a binary and their sizes (`size -A`), largest first."""
    out = subprocess.run(["size", "-A", str(binary)], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[2] != "0":
            found[parts[0]] = int(parts[1])
    return dict(sorted(found.items(), key=lambda kv: -kv[1]))


def crates(binary):
    """Bytes of the symbols of a binary (not stripped), by the crate their
    name starts with (`nm -S -C`): what it spends its code on."""
    out = subprocess.run(["nm", "-S", "--size-sort", "-C", str(binary)], capture_output=True, text=True,
                         check=True).stdout
    by = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4:
            continue
        name = parts[3].strip()
        for prefix in ("<", "&", "*", "impl ", "dyn ", "_<"):
            while name.startswith(prefix):
                name = name[len(prefix):]
        crate = name.split("::", 1)[0] if "::" in name else ("C (aws-lc, libc)" if name[:1].islower() else "other")
        by[crate] = by.get(crate, 0) + int(parts[1], 16)
    return dict(sorted(by.items(), key=lambda kv: -kv[1]))


LTO_PROFILE = "lto-size"
LTO_RULES = ["kms-key-rotation-enabled", "ebs-volume-encrypted", "kms-key-tags-aligned"]


def zipped_size(binary):
    """The package zip of a binary, as scripts/package.py writes it, stripped first."""
    with tempfile.TemporaryDirectory() as tmp:
        stripped = Path(tmp) / "bootstrap"
        sh(["strip", "-o", str(stripped), str(binary)])
        zip_path = Path(tmp) / "bootstrap.zip"
        with zipfile.ZipFile(zip_path, "w") as z:
            z.write(stripped, "bootstrap", compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        return {"binary": stripped.stat().st_size, "zip": zip_path.stat().st_size}


def lto_tradeoff():
    """The Cargo profile `lto-size` (fat LTO, one codegen unit, opt-level
    "z") for a few rules on x86_64: their package sizes, what they spend
    their bytes on, the build's time, and one binary's link alone (what
    every one of the 26 rules x 2 architectures would cost)."""
    cmd = ["cargo", "build", "--profile", LTO_PROFILE, "--locked", "--target", HOST_TARGET,
           "-p", "atrest-rules"]
    t0 = time.monotonic()
    sh(cmd + [f"--bin={r}" for r in LTO_RULES], cwd=ROOT, env=package_env())
    build_s = time.monotonic() - t0
    (ROOT / "rules" / "src" / "bin" / f"{LTO_RULES[0]}.rs").touch()
    t0 = time.monotonic()
    sh(cmd + [f"--bin={LTO_RULES[0]}"], cwd=ROOT, env=package_env())
    link_s = time.monotonic() - t0
    out = cargo_target_dir() / HOST_TARGET / LTO_PROFILE
    rules = {rule: zipped_size(out / rule) for rule in LTO_RULES}
    return {"build_s": build_s, "link_s": link_s, "rules": rules,
            "crates": dict(list(crates(out / LTO_RULES[0]).items())[:12]),
            "sections": sections(out / LTO_RULES[0])}


def ci_cold():
    """The latest cold `.ci/run` measured on this machine (`make ci-cold`
    writes it): a fresh clone, no build cache."""
    path = BENCH / "ci-cold.json"
    return json.loads(path.read_text()) if path.exists() else None


# ---------------------------------------------------------------- report


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.2f}{unit}" if abs(v) < 100 else f"{v:,.0f}{unit}"
    return f"{v:,}{unit}"


MIB = 2**20


def why_not_met(r):
    """The measured reasons of the targets not met, from this run's figures."""
    out = []
    lto, sizes = r.get("lto"), r["packages"].get("x86_64", {})
    if sizes and max(v["zip"] for v in sizes.values()) > 3 * MIB and lto:
        zips = {k: v["zip"] for k, v in lto["rules"].items()}
        under = [k for k, z in zips.items() if z <= 3 * MIB]
        binaries = sum(len(v) for v in r["packages"].values() if v)
        out.append(
            f"- **Package zips ≤ 3 MiB**: not met by the packages, which are not linked whole-program. "
            f"The size-optimised `{LTO_PROFILE}` build (fat LTO, one codegen unit, opt-level \"z\") gives "
            + ", ".join(f"`{k}` {z / MIB:.2f} MiB" for k, z in zips.items())
            + f" ({len(under)} of {len(zips)} within 3 MiB), and its link alone takes {lto['link_s']:.0f} s per binary "
            f"on this machine: {binaries} binaries (every rule, both architectures) would spend about "
            f"{binaries * lto['link_s'] / 3600:.1f} h linking, against the cold `.ci/run`'s 45 min. What stays "
            f"under LTO, by crate (`{LTO_RULES[0]}`): "
            + ", ".join(f"{k} {v / MIB:.2f} MiB" for k, v in list(lto["crates"].items())[:6]) + ".")
    cold = r["cold_init"]
    floor = cold[FLOOR]["init_ms_median"]
    ebs = cold.get("ebs-volume-encrypted")
    if ebs and ebs["init_ms_median"] > 1.5 * floor and TRIED_BOTH in cold:
        ratio = {k: cold[k]["init_ms_median"] / floor for k in (TRIED_NO_PIE, TRIED_NO_CA, TRIED_BOTH)}
        out.append(
            f"- **Cold init ≤ 1.5× the floor**: `ebs-volume-encrypted` is {ebs['init_ms_median'] / floor:.2f}× "
            f"the floor. Taken apart in this run: linked without PIE {ratio[TRIED_NO_PIE]:.2f}× (the loader no "
            f"longer applies the relative relocations of a position-independent executable, nor copies the "
            f"pages they write), with an empty CA bundle {ratio[TRIED_NO_CA]:.2f}× (no CA roots read and "
            f"decoded), both {ratio[TRIED_BOTH]:.2f}×. Neither is shipped: a position-dependent executable "
            f"gives up the address-space randomisation of its code and data, an exploit mitigation a security "
            f"tool keeps, and the first AWS call needs the CA roots (loading them later only moves the time "
            f"to the first answer, whose target is met). Packing the relocations instead (`DT_RELR`) needs "
            f"glibc 2.36; `provided.al2023` has 2.34.")
    if not out:
        return ""
    return "\n## Targets not met, and why\n\n" + "\n".join(out) + "\n"


def write_results(r):
    (BENCH / "results.json").write_text(json.dumps(r, indent=2) + "\n")
    rows, context = [], []

    def row(figure, atrest, floor, ratio, target, met):
        rows.append(f"| {figure} | {atrest} | {floor} | {ratio} | {target} | {met} |")

    def other(figure, atrest, baseline, ratio):
        context.append(f"| {figure} | {atrest} | {baseline} | {ratio} |")

    def mark(ok):
        return "—" if ok is None else ("yes" if ok else "**no**")

    # Package size.
    sizes = r["packages"]
    for arch, per_rule in sizes.items():
        if per_rule:
            zips = [v["zip"] for v in per_rule.values()]
            row(f"package zip per rule ({arch}): min / median / max", " / ".join(
                f"{z / MIB:.2f} MiB" for z in (min(zips), statistics.median(zips), max(zips))), "—", "—",
                "≤ 3 MiB", mark(max(zips) <= 3 * MIB))
    lto = r.get("lto")
    if lto:
        zips = [v["zip"] for v in lto["rules"].values()]
        row(f"package zip, profile `{LTO_PROFILE}` (x86_64; {', '.join(lto['rules'])})",
            " / ".join(f"{z / MIB:.2f} MiB" for z in zips), "—", "—", "≤ 3 MiB", mark(max(zips) <= 3 * MIB))
        row(f"its build: those {len(lto['rules'])} rules / one binary's link alone", f"{lto['build_s'] / 60:.1f} min / "
            f"{lto['link_s']:.0f} s", "—", "—", "—", "—")
    # Cold start.
    cold = r["cold_init"]
    floor = cold[FLOOR]
    rules = {k: v for k, v in cold.items() if k != FLOOR and not k.startswith(("rdklib", "tried"))}
    ebs = rules["ebs-volume-encrypted"]
    worst_name, worst = max(rules.items(), key=lambda kv: kv[1]["init_ms_median"])
    for name, v in (("ebs-volume-encrypted", ebs), (f"slowest rule ({worst_name})", worst)):
        ratio = v["init_ms_median"] / floor["init_ms_median"]
        row(f"cold init (exec → first `/next`), median: {name}", fmt(v["init_ms_median"], " ms"),
            fmt(floor["init_ms_median"], " ms"), f"{ratio:.2f}×", "≤ 1.5× floor", mark(ratio <= 1.5))
    for name in (TRIED_NO_PIE, TRIED_NO_CA, TRIED_BOTH):
        if name in cold:
            v = cold[name]
            row(f"cold init, median, {name} (not shipped)", fmt(v["init_ms_median"], " ms"),
                fmt(floor["init_ms_median"], " ms"), f"{v['init_ms_median'] / floor['init_ms_median']:.2f}×", "—",
                "—")
    a = r["first_answer"]
    row("cold start → first answer (one change event: DescribeKey + PutEvaluations on moto), median",
        fmt(a["atrest_ms"], " ms"), f"{fmt(a['floor_ms'], ' ms')} + calls replayed {fmt(a['replayed_ms'], ' ms')}",
        f"{a['atrest_ms'] / (a['floor_ms'] + a['replayed_ms']):.2f}×", "≤ 3× (floor + calls)",
        mark(a["atrest_ms"] <= a["target_ms"]))
    # Sweep.
    e, sw = r["api_economy"], r["sweep_wall"]
    row(f"periodic sweep, {e['volumes']} volumes / {e['keys']} keys on moto, median of {sw['runs']}",
        fmt(sw["atrest_ms"], " ms"), f"its calls replayed {fmt(sw['replayed_ms'], ' ms')}",
        f"{sw['atrest_ms'] / sw['replayed_ms']:.2f}×", "≤ 2× its calls replayed",
        mark(sw["atrest_ms"] <= 2 * sw["replayed_ms"]))
    row("AWS calls of that sweep", fmt(e["atrest_total"]), fmt(e["floor_total"]), "—", "= floor",
        mark(e["atrest_total"] == e["floor_total"]))
    # Snapshot.
    for n in r["snapshot"]:
        name = f"snapshot, {n['items']:,} items ({n['mib']:.0f} MiB{', gzip' if n['gzip'] else ''})"
        if n["parse_s"]:
            row(f"{name}: time", fmt(n["atrest_s"], " s"), f"bare parse {fmt(n['parse_s'], ' s')}",
                f"{n['ratio']:.2f}×", "≤ 1.1× bare parse", mark(n["ratio"] <= 1.1))
        row(f"{name}: peak RSS", fmt(n["atrest_rss_mib"], " MiB"),
            f"bare parse {fmt(n['parse_rss_mib'], ' MiB')}" if n["parse_rss_mib"] else "—", "—",
            "≤ 64 MiB", mark(n["atrest_rss_mib"] <= 64))
    # Build time.
    ci = r.get("ci_cold")
    if ci:
        row(f"cold `.ci/run` on a fresh clone ({ci['date']}, {ci['commit'][:7]})", fmt(ci["seconds"] / 60, " min"),
            "—", "—", "≤ 45 min", mark(ci["seconds"] <= 45 * 60))
    else:
        row("cold `.ci/run` on a fresh clone", "not measured (`make ci-cold`)", "—", "—", "≤ 45 min", "—")
    for arch, b in r["build"].items():
        for kind in ("cold", "latest"):
            entry = (b or {}).get(kind)
            if entry and (kind == "cold" or not entry["cold"]):
                row(f"release build of the packages ({arch}, {'cold' if entry['cold'] else 'incremental'})",
                    fmt(entry["seconds"] / 60, " min"), "—", "—", "—", "—")

    # Beside the baseline a user would pick instead.
    base = cold.get("rdklib (ebs, Python)")
    other("cold init, median (ebs-volume-encrypted vs the rdklib rule)", fmt(ebs["init_ms_median"], " ms"),
          fmt(base["init_ms_median"], " ms"), f"1/{base['init_ms_median'] / ebs['init_ms_median']:.0f}")
    hwm = max(v["vm_hwm_mib"] for v in rules.values())
    other("peak RSS (VmHWM) after one invocation, largest rule", fmt(hwm, " MiB"), fmt(base["vm_hwm_mib"], " MiB"),
          f"1/{base['vm_hwm_mib'] / hwm:.1f}")
    w = r["warm"]
    other("warm invocation, one change event, in process: median / p99",
          f"{fmt(w['median_us'], ' µs')} / {fmt(w['p99_us'], ' µs')}", "—", "—")
    other(f"AWS calls, periodic sweep of {e['volumes']} volumes", fmt(e["atrest_total"]), fmt(e["rdklib_total"]),
          f"1/{e['rdklib_total'] / e['atrest_total']:.0f}")
    other("sweep wall time on moto", fmt(sw["atrest_ms"], " ms"), fmt(sw["rdklib_ms"], " ms"),
          f"1/{sw['rdklib_ms'] / sw['atrest_ms']:.0f}")

    m = r["machine"]
    per_rule = "\n".join(
        f"| {k} | {v['init_ms_median']:.2f} | {v['init_ms_p90']:.2f} | {v['vm_hwm_mib']:.1f} | "
        f"{fmt(sizes.get('x86_64', {}).get(k, {}).get('zip'))} | {fmt(sizes.get('arm64', {}).get(k, {}).get('zip'))} |"
        for k, v in cold.items())
    calls = "\n".join(f"| {op} | {e['floor'].get(op, 0)} | {e['atrest'].get(op, 0)} | {e['rdklib'].get(op, 0)} |"
                      for op in sorted(set(e["atrest"]) | set(e["rdklib"]) | set(e["floor"])))
    shipped = ", ".join(f"`{k}` {v / MIB:.2f} MiB" for k, v in list(r["sections"].items())[:6])
    lto_text = ""
    if lto:
        lto_text = (f"\n- With `{LTO_PROFILE}`, `{LTO_RULES[0]}`'s sections: "
                    + ", ".join(f"`{k}` {v / MIB:.2f} MiB" for k, v in list(lto["sections"].items())[:6])
                    + "; its symbols by crate: "
                    + ", ".join(f"{k} {v / MIB:.2f} MiB" for k, v in lto["crates"].items()) + ".")
    snapshot_note = (f" These rows were measured again on {r['snapshot_measured']} (`--only-snapshot`);"
                     " the others are of the run above." if r.get("snapshot_measured") else "")
    packages_note = (f" The package rows (sizes, their bytes, build times, cold init, cold start to the first"
                     f" answer, per binary) were measured again on {r['packages_measured']} (`--only-packages`);"
                     + (f" the `{LTO_PROFILE}` rows on {r['lto_measured']} (`--only-lto`)." if r.get("lto_measured")
                        else f" the `{LTO_PROFILE}` rows are of the run above.") if r.get("packages_measured") else "")
    text = f"""# atrest benchmarks

Written by `make bench` (`bench/run.py`) on {m['date']}: {m['cpu']}, {m['cores']} cores,
{m['memory_mib']:,} MiB, Linux {m['kernel']}, {m['rustc']}, Python {m['python']}.
A shared, noisy machine: read the ratios, measured side by side in one run.
Each figure is set against its **floor** — the least any implementation
could do on this machine — and the target of issue #20.

| figure | atrest | floor | ratio | target | met |
|---|---|---|---|---|---|
{chr(10).join(rows)}

Beside what a user would pick instead: the same check as a Python rule on
rdklib {r['baseline']['rdklib']} + boto3 {r['baseline']['boto3']} (`bench/rdklib_rule/ebs_cmk.py`), run the same way.

| figure | atrest | rdklib | ratio |
|---|---|---|---|
{chr(10).join(context)}

## What the package bytes are

- The shipped `ebs-volume-encrypted` (x86_64, stripped): {shipped}.{lto_text}
{why_not_met(r)}
## How each figure is taken

- **Floor binary**: `bench/src/bin/floor.rs`, a bare `lambda_runtime`
  function answering `{{}}`, built with the packages' profile and target.
- **Cold init**: each package's `bootstrap` (x86_64; this machine is x86_64)
  and the floor started {r['starts']} times (after one uncounted start) against a
  loopback Lambda Runtime API; the time from `exec` to its first
  `GET /runtime/invocation/next`. Peak RSS is `VmHWM` after one periodic
  invocation on the moto data below. The `tried:` rows take the cold init
  apart, in the same run: `ebs-volume-encrypted`'s objects linked again as
  a position-dependent executable (`-C relocation-model=static` on the
  binary alone; no relative relocations for the loader to apply), and the
  shipped binary with `SSL_CERT_FILE` pointed at an empty file (no CA roots
  read and decoded). Neither is shipped (see "Targets not met, and why").
- **Cold start → first answer**: `exec` to the POSTed response of one
  change event (an encrypted volume on moto; TestMode), {r['starts']} starts each for
  `ebs-volume-encrypted` and the floor; the rule's two calls, recorded by
  moto, replayed one by one over one connection.
- **Sweep**: a periodic sweep (TestMode) of {e['volumes']} volumes encrypted
  with {e['keys']} keys on moto, from the event's delivery to the response;
  every request counted from moto's recorder and replayed one by one over
  one connection (moto's median call: {sw['moto_median_ms']:.2f} ms). Call floor: the
  DescribeVolumes pages moto serves + ⌈{e['volumes']}/100⌉ PutEvaluations + one DescribeKey per key.
- **Snapshot**: `atrest snapshot` (release build, every rule, JSON to
  /dev/null) on generated snapshots (the bundled example's items cloned) vs
  `parse-json` (read the file, `serde_json::from_slice` into a `Value`);
  process wall times, median of {r['snapshot'][0]['runs']}, taking turns; peak RSS is GNU
  time's `%M` for each process.{snapshot_note}
- **Packages**: `make package` zips; build times as `scripts/package.py`
  measured them. `{LTO_PROFILE}` is the Cargo profile of the same name, built
  for a few rules only (see the README's build figures for why the packages
  are not built with it).{packages_note}
- **Cold `.ci/run`**: `make ci-cold` (a fresh clone, no build cache), written
  to `bench/ci-cold.json`.

## Per binary

| binary | init median ms | init p90 ms | VmHWM MiB | zip x86_64 bytes | zip arm64 bytes |
|---|---|---|---|---|---|
{per_rule}

## AWS calls per operation (the sweep)

| operation | floor | atrest | rdklib |
|---|---|---|---|
{calls}

Reproduce: `make bench` (creates `bench/.venv` with {', '.join(REQUIREMENTS)}; builds the
packages, the release CLI and the benchmarks with gcc and mold, as `scripts/package.py` does).
"""
    (BENCH / "RESULTS.md").write_text(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--volumes", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--items", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="snapshot sizes (the largest is also judged gzip-compressed)")
    parser.add_argument("--snapshot-runs", type=int, default=3)
    parser.add_argument("--sweeps", type=int, default=3)
    parser.add_argument("--skip-lto", action="store_true", help="leave out the size-optimised build (about 15 min)")
    parser.add_argument("--rewrite", action="store_true",
                        help="write RESULTS.md again from results.json and the latest bench/ci-cold.json, measuring nothing")
    parser.add_argument("--only-packages", action="store_true",
                        help="measure the package rows again (sizes, their bytes, build times, cold init, cold start to "
                             "the first answer); every other figure is the last run's (results.json)")
    parser.add_argument("--only-lto", action="store_true",
                        help=f"measure the `{LTO_PROFILE}` rows again; every other figure is the last run's (results.json)")
    parser.add_argument("--only-snapshot", action="store_true",
                        help="measure the snapshot rows again; every other figure is the last run's (results.json)")
    args = parser.parse_args()
    if args.starts < 1 or args.volumes < 1 or args.keys < 1 or min(args.items) < 1 or args.sweeps < 1:
        raise SystemExit("bench: --starts, --volumes, --keys and --items must be positive")
    WORK.mkdir(parents=True, exist_ok=True)
    if args.rewrite:
        results = json.loads((BENCH / "results.json").read_text())
        results["ci_cold"] = ci_cold()
        write_results(results)
        log(f"wrote {BENCH / 'RESULTS.md'} again from {BENCH / 'results.json'}")
        return
    if args.only_lto:
        results = json.loads((BENCH / "results.json").read_text())
        results["lto"] = lto_tradeoff()
        results["lto_measured"] = machine_info()["date"]
        write_results(results)
        log(f"wrote {BENCH / 'RESULTS.md'} and {BENCH / 'results.json'} (the `{LTO_PROFILE}` rows measured again)")
        return
    if args.only_snapshot:
        results = json.loads((BENCH / "results.json").read_text())
        release = cargo_target_dir() / HOST_TARGET / "release"
        snapshots(results, {"atrest": release / "atrest", "parse_json": release / "parse-json"}, args)
        results["snapshot_measured"] = machine_info()["date"]
        write_results(results)
        log(f"wrote {BENCH / 'RESULTS.md'} and {BENCH / 'results.json'} (snapshot rows measured again)")
        return
    ensure_venv()
    binaries = build()
    tried = tried_binaries()
    sizes = {}
    paths, sizes["x86_64"] = extract_packages("x86_64")
    _, sizes["arm64"] = extract_packages("arm64")
    if args.only_packages:
        results = json.loads((BENCH / "results.json").read_text())
        results.update({"starts": args.starts, "packages": sizes,
                        "build": {arch: build_time(arch) for arch in ("arm64", "x86_64")},
                        "sections": sections(paths["ebs-volume-encrypted"]), "ci_cold": ci_cold()})
        moto = Moto()
        try:
            seed(moto, args.volumes, args.keys)
            results["cold_init"] = cold_starts(paths, binaries["floor"], moto, args.starts, tried)
            results["first_answer"] = first_answers(paths["ebs-volume-encrypted"], binaries["floor"], moto,
                                                    args.starts)
        finally:
            moto.stop()
        results["packages_measured"] = machine_info()["date"]
        write_results(results)
        log(f"wrote {BENCH / 'RESULTS.md'} and {BENCH / 'results.json'} (package rows measured again)")
        return
    versions = subprocess.run([str(VENV / "bin" / "python"), "-c",
                               "import importlib.metadata as m; print(m.version('rdklib'), m.version('boto3'))"],
                              capture_output=True, text=True, check=True).stdout.split()
    results = {"machine": machine_info(), "starts": args.starts, "packages": sizes,
               "baseline": {"rdklib": versions[0], "boto3": versions[1]},
               "build": {arch: build_time(arch) for arch in ("arm64", "x86_64")},
               "sections": sections(paths["ebs-volume-encrypted"]), "ci_cold": ci_cold()}

    log("warm invocation (criterion)")
    results["warm"] = warm(binaries["warm"])

    moto = Moto()
    try:
        log(f"seeding moto: {args.volumes} volumes over {args.keys} keys")
        seed(moto, args.volumes, args.keys)
        rdklib_cmd = [str(VENV / "bin" / "python"), str(BENCH / "python_bootstrap.py"),
                      str(BENCH / "rdklib_rule" / "ebs_cmk.py"), "lambda_handler"]
        atrest_runs = [sweep([str(paths["ebs-volume-encrypted"])], "atrest", {}, moto) for _ in range(args.sweeps)]
        atrest_rec = atrest_runs[0][1]
        atrest_ms = statistics.median(run["invocation_ms"] for run, _ in atrest_runs)
        rdklib_run, rdklib_rec = sweep(rdklib_cmd, "rdklib", RDKLIB_PARAMS, moto)
        # List pages as the peer serves them at the largest page size (500;
        # moto returns every volume in one page whatever is asked).
        pages = sum(1 for _ in moto.client("ec2").get_paginator("describe_volumes").paginate(
            PaginationConfig={"PageSize": 500}))
        floor = {"DescribeVolumes": pages, "PutEvaluations": math.ceil(args.volumes / 100), "DescribeKey": args.keys}
        atrest_calls, rdklib_calls = count_operations(atrest_rec), count_operations(rdklib_rec)
        results["api_economy"] = {
            "volumes": args.volumes, "keys": args.keys, "floor": floor, "atrest": atrest_calls, "rdklib": rdklib_calls,
            "floor_total": sum(floor.values()), "atrest_total": sum(atrest_calls.values()),
            "rdklib_total": sum(rdklib_calls.values()),
        }
        replays = [replay_latencies(moto, atrest_rec) for _ in range(args.sweeps)]
        median = statistics.median(x for r in replays for x in r)
        results["sweep_wall"] = {
            "atrest_ms": atrest_ms, "rdklib_ms": rdklib_run["invocation_ms"], "runs": args.sweeps,
            "moto_median_ms": median, "floor_ms": sum(floor.values()) * median,
            "replayed_ms": statistics.median(sum(r) for r in replays),
        }
        log("cold starts")
        results["cold_init"] = cold_starts(paths, binaries["floor"], moto, args.starts, tried)
        log("cold start to first answer")
        results["first_answer"] = first_answers(paths["ebs-volume-encrypted"], binaries["floor"], moto, args.starts)
    finally:
        moto.stop()

    snapshots(results, binaries, args)
    if not args.skip_lto:
        log("size-optimised build (whole-program LTO)")
        results["lto"] = lto_tradeoff()
    write_results(results)
    log(f"wrote {BENCH / 'RESULTS.md'} and {BENCH / 'results.json'}")


def snapshots(results, binaries, args):
    """The snapshot rows: each size plain, the largest also gzipped."""
    results["snapshot"] = []
    largest = max(args.items)
    for items, gz in [(n, False) for n in sorted(set(args.items))] + [(largest, True)]:
        snap = snapshot_file(items, gz)
        log(f"snapshot of {items} items{' (gzip)' if gz else ''}")
        atrest = [str(binaries["atrest"]), "snapshot", str(snap), "--param",
                  "kms-key-tags-aligned.tagKeys=CostCenter,Application", "--format", "json"]
        if gz:
            [(atrest_s, atrest_rss)] = timed([atrest], args.snapshot_runs)
            parse_s = parse_rss = None
        else:
            (atrest_s, atrest_rss), (parse_s, parse_rss) = timed(
                [atrest, [str(binaries["parse_json"]), str(snap)]], args.snapshot_runs)
        results["snapshot"].append({
            "items": items, "gzip": gz, "mib": snap.stat().st_size / 2**20, "runs": args.snapshot_runs,
            "atrest_s": atrest_s, "atrest_rss_mib": atrest_rss, "parse_s": parse_s, "parse_rss_mib": parse_rss,
            "ratio": parse_s and atrest_s / parse_s, "items_per_s": items / atrest_s})


if __name__ == "__main__":
    main()
