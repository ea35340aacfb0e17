#!/usr/bin/env python3
"""The central-account pattern, deployed on moto as the README's runbook does it.

Run by `make deploy-check` after the synthesis of the organization pack
(`cdk/cdk.out.org`), with the `.venv` of `make venv` (moto's server, boto3):

1. In a member account (credentials from AssumeRole into it: moto acts in
   that account), CloudFormation creates the member-account template
   `AtrestRulesExecutionRole` with the central account as its parameter.
2. In the central account, the assets are published to the CDK bootstrap
   bucket (what `cdk deploy` does) and CloudFormation creates `AtrestRules`
   from the synthesised template: the functions, their roles under
   `/atrest/`, the nested stack of the member's invoke permissions.
3. A rule's real binary runs under a loopback Lambda Runtime API with the
   credentials of its role as created by that stack, on a scheduled event
   of the member account whose rule parameters are those the synthesised
   organization pack gives the rule. It assumes the member's execution role
   (created in step 1), sweeps the member's volumes — not the central
   account's — and reports them to the member's Config.

4. The functions in every account: the template synthesised with
   `atrest:stackSetAssets` and its packages in the organization's bucket, a
   service-managed StackSet with automatic deployment to the organization's
   root creates the functions in a member account that was never
   bootstrapped.

What moto does not model is listed in tests/README.md. Exit 0 when every
check holds; otherwise a message naming the check and exit 1.
"""

import argparse
import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3

REGION = "us-east-1"
CENTRAL = "123456789012"  # moto's default account
MEMBER = "444455556666"  # an ACTIVE account of cdk/test/data/organization-accounts.json
RULE = "ebs-volume-encrypted"
BOOTSTRAP_QUALIFIER = "hnb659fds"
ASSETS_PREFIX = "acme-atrest-assets"  # the organization's asset buckets: <prefix>-<region>


def fail(message):
    print(f"deploy-on-moto: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


class Moto:
    """A moto server on a free port, recording requests."""

    def __init__(self, venv):
        self.dir = tempfile.mkdtemp(prefix="atrest-deploy-moto-")
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=os.path.join(self.dir, "recording"))
        self.process = subprocess.Popen(
            [str(venv.resolve() / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.dir,
            env=env,
        )
        deadline = time.time() + 60
        self.endpoint = None
        while self.endpoint is None:
            line = self.process.stderr.readline()
            if "Running on " in line:
                self.endpoint = line.split("Running on ")[1].strip()
            check(time.time() < deadline and line != "", "moto_server did not say where it listens")
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()

    def client(self, service, credentials=None):
        c = credentials or {"AccessKeyId": "testing", "SecretAccessKey": "testing", "SessionToken": None}
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c.get("SessionToken"),
        )

    def post(self, path):
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.endpoint + path, method="POST")).read()

    def recording(self):
        import urllib.request

        self.post("/moto-api/recorder/stop-recording")
        text = urllib.request.urlopen(self.endpoint + "/moto-api/recorder/download-recording").read().decode()
        recorded = []
        for line in filter(str.strip, text.splitlines()):
            r = json.loads(line)
            body = r.get("body") or ""
            if r.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8", "replace")
            headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
            recorded.append({"body": body, "headers": headers, "url": r.get("url", "")})
        return recorded

    def stop(self):
        self.process.kill()
        self.process.wait()


def assume(moto, role_arn, credentials=None):
    answer = moto.client("sts", credentials).assume_role(RoleArn=role_arn, RoleSessionName="atrest-deploy-check")
    return answer["Credentials"]


def create_stack(cfn, name, template, parameters=None):
    cfn.create_stack(
        StackName=name,
        TemplateBody=template,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    check(stack["StackStatus"] == "CREATE_COMPLETE", f"stack {name}: {stack['StackStatus']} {stack.get('StackStatusReason')}")
    return {r["LogicalResourceId"]: r for r in cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]}


def publish_assets(moto, assembly, stack, bucket=None, credentials=None):
    """What `cdk deploy` (or `cdk-assets publish`) does before the stack: every
    file asset to its bucket and key. Without `bucket`: the CDK bootstrap
    bucket, made as `cdk bootstrap` makes it."""
    manifest = json.loads((assembly / f"{stack}.assets.json").read_text())
    s3 = moto.client("s3", credentials)
    if bucket is None:
        bucket = f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{CENTRAL}-{REGION}"
        moto.client("ssm", credentials).put_parameter(
            Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version", Value="30", Type="String"
        )
    s3.create_bucket(Bucket=bucket)
    for asset in manifest["files"].values():
        source = assembly / asset["source"]["path"]
        check(source.is_file(), f"asset {source} is a file")
        for destination in asset["destinations"].values():
            name = destination["bucketName"].replace("${AWS::AccountId}", CENTRAL).replace("${AWS::Region}", REGION)
            check(name == bucket, f"asset bucket {name}, expected {bucket}")
            s3.upload_file(str(source), bucket, destination["objectKey"])
    return bucket


class RuntimeApi(http.server.ThreadingHTTPServer):
    """The Lambda Runtime API on loopback: one event, then the answer."""

    def __init__(self, event):
        self.event = json.dumps(event).encode()
        self.delivered = False
        self.answer = None
        self.done = threading.Event()
        super().__init__(("127.0.0.1", 0), RuntimeHandler)


class RuntimeHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.endswith("/invocation/next"):
            self.send_error(404)
            return
        if self.server.delivered:
            self.server.done.wait(600)
            time.sleep(3600)
        self.server.delivered = True
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "deploy-check-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 300_000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", f"arn:aws:lambda:{REGION}:{CENTRAL}:function:atrest-{RULE}")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.server.event)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        kind = "response" if self.path.endswith("/response") else "error"
        self.server.answer = (kind, body.decode())
        self.send_response(202)
        self.end_headers()
        self.server.done.set()


def run_rule(binary, moto, credentials, event):
    api = RuntimeApi(event)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": f"atrest-{RULE}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    process = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check(api.done.wait(120), "the rule binary answered within 120 s")
    finally:
        process.kill()
        process.wait()
        api.shutdown()
    return api.answer


def scheduled_event(rule_parameters):
    invoking = {
        "awsAccountId": MEMBER,
        "notificationCreationTime": "2026-11-29T12:00:00.000Z",
        "messageType": "ScheduledNotification",
        "recordVersion": "1.0",
    }
    return {
        "version": "1.0",
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(rule_parameters),
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        # The member's recorder runs on the service-linked role, which no function can assume.
        "executionRoleArn": f"arn:aws:iam::{MEMBER}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
        "configRuleArn": f"arn:aws:config:{REGION}:{MEMBER}:config-rule/config-rule-deploy",
        "configRuleName": f"atrest-{RULE}",
        "configRuleId": "config-rule-deploy",
        "accountId": MEMBER,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assembly", type=Path, required=True, help="the cloud assembly of the organization pack")
    parser.add_argument("--bin-dir", type=Path, required=True, help="where the rule binaries are (target/debug)")
    parser.add_argument("--stackset-assembly", type=Path, required=True,
                        help="the cloud assembly of the functions synthesised with atrest:stackSetAssets=" + ASSETS_PREFIX)
    parser.add_argument("--venv", type=Path, default=Path(".venv"))
    args = parser.parse_args()
    binary = args.bin_dir / RULE
    check(binary.is_file(), f"{binary} exists (cargo test --workspace builds it)")

    moto = Moto(args.venv)
    try:
        deploy_and_run(moto, args.assembly, binary)
    finally:
        moto.stop()
    print("deploy-on-moto: central pattern: member template and functions stack created; the rule assumed the member's role and reported its volumes")
    moto = Moto(args.venv)
    try:
        member = stackset_pattern(moto, args.stackset_assembly)
    finally:
        moto.stop()
    print(f"deploy-on-moto: functions in every account: the StackSet deployed the functions to {member}, an account CDK never bootstrapped")


def stackset_pattern(moto, assembly):
    """The functions in every account: a service-managed StackSet with
    automatic deployment, from the StackSet-ready template and its packages
    in the organization's bucket, reaches an account that was never
    bootstrapped. Returns that account's id."""
    org = moto.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    member = org.create_account(AccountName="payments", Email="payments@example.com")["CreateAccountStatus"]["AccountId"]
    template = json.loads((assembly / "AtrestRules.template.json").read_text())
    check("BootstrapVersion" not in template.get("Parameters", {}) and "Rules" not in template, "no bootstrap version rule")
    bucket = publish_assets(moto, assembly, "AtrestRules", bucket=f"{ASSETS_PREFIX}-{REGION}")
    moto.client("s3").put_object(Bucket=bucket, Key="atrest/AtrestRules.template.json", Body=json.dumps(template).encode())
    cfn = moto.client("cloudformation")
    cfn.create_stack_set(
        StackSetName="atrest-rules",
        TemplateURL=f"https://{bucket}.s3.{REGION}.amazonaws.com/atrest/AtrestRules.template.json",
        Capabilities=["CAPABILITY_IAM"],
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
    )
    cfn.create_stack_instances(StackSetName="atrest-rules", DeploymentTargets={"OrganizationalUnitIds": [root]}, Regions=[REGION])
    instances = {i["Account"]: i for i in cfn.list_stack_instances(StackSetName="atrest-rules")["Summaries"]}
    check(member in instances, f"a stack instance in {member}: {sorted(instances)}")
    check(instances[member]["StackInstanceStatus"]["DetailedStatus"] == "SUCCEEDED", f"{instances[member]}")
    credentials = assume(moto, f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole")
    ssm = moto.client("ssm", credentials)
    bootstrapped = ssm.get_parameters(Names=[f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"])["Parameters"]
    check(bootstrapped == [], "the member account was never bootstrapped")
    lam = moto.client("lambda", credentials)
    manifest = json.loads((Path(__file__).resolve().parent.parent / "rules" / "manifest.json").read_text())
    for rule in manifest:
        fn = lam.get_function(FunctionName=f"atrest-{rule['id']}")["Configuration"]
        check(fn["FunctionArn"] == f"arn:aws:lambda:{REGION}:{member}:function:atrest-{rule['id']}", fn["FunctionArn"])
    return member


def deploy_and_run(moto, assembly, binary):
    member = assume(moto, f"arn:aws:iam::{MEMBER}:role/OrganizationAccountAccessRole")

    # 1. The member-account template in the member account.
    member_template = assembly / "AtrestRulesExecutionRole.template.json"
    create_stack(moto.client("cloudformation", member), "atrest-execution-role", member_template.read_text(), {"CentralAccountId": CENTRAL})
    iam = moto.client("iam", member)
    role = iam.get_role(RoleName="atrest-execution")["Role"]
    check(role["Arn"] == f"arn:aws:iam::{MEMBER}:role/atrest-execution", f"execution role {role['Arn']}")
    trust = json.dumps(role["AssumeRolePolicyDocument"])
    check(f"arn:aws:iam::{CENTRAL}:role/atrest/*" in trust, f"the role trusts the central roles: {trust}")
    [attached] = iam.list_attached_role_policies(RoleName="atrest-execution")["AttachedPolicies"]
    policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
    document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    if isinstance(document, str):
        document = json.loads(document)
    actions = sorted({a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])})
    manifest = json.loads((Path(__file__).resolve().parent.parent / "rules" / "manifest.json").read_text())
    wanted = sorted({a for r in manifest for a in r["iamActions"]})
    check(actions == wanted, f"the execution role holds exactly the rules' actions: {set(actions) ^ set(wanted)}")

    # 2. The functions' stack in the central account.
    publish_assets(moto, assembly, "AtrestRules")
    template = json.loads((assembly / "AtrestRules.template.json").read_text())
    resources = create_stack(moto.client("cloudformation"), "AtrestRules", json.dumps(template))
    pack = next(r for r in template["Resources"].values() if r["Type"] == "AWS::Config::OrganizationConformancePack")
    body = pack["Properties"]["TemplateBody"]
    pack_template = json.loads("".join(p if isinstance(p, str) else "" for p in body["Fn::Join"][1])) if isinstance(body, dict) else json.loads(body)
    rule_logical = "".join(part.capitalize() for part in RULE.split("-"))
    rule_parameters = pack_template["Resources"][rule_logical]["Properties"]["InputParameters"]
    check(rule_parameters.get("assumeExecutionRole") == "true", f"the pack's rule assumes the execution role: {rule_parameters}")

    role_logical = next(k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role" and k.startswith(rule_logical + "Role"))
    central_iam = moto.client("iam")
    function_role = central_iam.get_role(RoleName=resources[role_logical]["PhysicalResourceId"])["Role"]
    check(function_role["Path"] == "/atrest/", f"the function's role is under /atrest/: {function_role['Arn']}")
    function = moto.client("lambda").get_function(FunctionName=f"atrest-{RULE}")["Configuration"]
    check(function["Role"] == function_role["Arn"], f"the function runs as its role: {function['Role']}")
    check(function["Runtime"] == "provided.al2023", function["Runtime"])
    nested = [r for r in resources.values() if r["ResourceType"] == "AWS::CloudFormation::Stack"]
    check(len(nested) == 1, f"one nested stack of invoke permissions: {nested}")
    policy = json.loads(moto.client("lambda").get_policy(FunctionName=f"atrest-{RULE}")["Policy"])
    sources = sorted(s["Condition"]["StringEquals"]["AWS:SourceAccount"] for s in policy["Statement"])
    # This account's permission, and the invokers' from the nested stack (the management account is excluded).
    check(sources == sorted([CENTRAL, "111122223333", MEMBER]), f"Config of these accounts may invoke: {sources}")

    # 3. The member's volumes, and one of the central account's that must not be judged.
    member_ec2 = moto.client("ec2", member)
    plain = member_ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    key = moto.client("kms", member).create_key(Description="member data key")["KeyMetadata"]["Arn"]
    keyed = member_ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1, Encrypted=True, KmsKeyId=key)["VolumeId"]
    central_volume = moto.client("ec2").create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]

    function_credentials = assume(moto, function_role["Arn"])
    moto.post("/moto-api/recorder/reset-recording")
    moto.post("/moto-api/recorder/start-recording")
    kind, answer = run_rule(binary, moto, function_credentials, scheduled_event(rule_parameters))
    recorded = moto.recording()
    check(kind == "response", f"the rule answered: {kind} {answer}")

    assumed = [r for r in recorded if "Action=AssumeRole" in r["body"]]
    check(len(assumed) == 1, f"one AssumeRole: {len(assumed)}")
    check(f"RoleArn=arn%3Aaws%3Aiam%3A%3A{MEMBER}%3Arole%2Fatrest-execution" in assumed[0]["body"], assumed[0]["body"])
    target = lambda r: r["headers"].get("x-amz-target", "")
    puts = [json.loads(r["body"]) for r in recorded if target(r).endswith("PutEvaluations")]
    judged = {e["ComplianceResourceId"]: e["ComplianceType"] for p in puts for e in p["Evaluations"]}
    check(judged == {plain: "NON_COMPLIANT", keyed: "COMPLIANT"}, f"the member's volumes, and only those: {judged} (central {central_volume})")
    # Every call but the AssumeRole itself went out with the member role's credentials.
    for r in recorded:
        if r is not assumed[0]:
            auth = r["headers"].get("authorization", "")
            check(function_credentials["AccessKeyId"] not in auth, f"{target(r) or r['body'][:40]} used the function's own credentials")


if __name__ == "__main__":
    main()
