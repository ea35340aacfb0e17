"""Validates `atrest ... --format ocsf` or `--format asff` output against the
schemas vendored beside this file (see README.md here).

    validate.py ocsf FILE
    validate.py asff FILE [MOTO_ENDPOINT]

Prints one line per problem and exits 1 when there is any; with a moto
endpoint, ASFF findings are also imported into moto's Security Hub through
boto3 (BatchImportFindings, 100 at a time) and read back (GetFindings).
"""

import gzip
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
OCSF_SCHEMA = HERE / "ocsf-1.5.0-compliance_finding-cloud.schema.json"
SECURITYHUB_MODEL = HERE / "securityhub-2018-10-26-botocore-1.44.8.service-2.json.gz"


def ocsf(events):
    from jsonschema import Draft202012Validator

    schema = json.loads(OCSF_SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    problems = []
    for i, event in enumerate(events):
        for error in validator.iter_errors(event):
            path = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"event {i}: /{path}: {error.message}")
    return problems


def constraints(shape, value, path, problems):
    """What botocore's client-side validation leaves to the service: enums,
    patterns and maximum lengths, everywhere in the value."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                constraints(member, value[name], f"{path}.{name}", problems)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            constraints(shape.member, item, f"{path}[{i}]", problems)
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            problems.append(f"{path}: {len(value)} items, at most {shape.metadata['max']}")
    elif kind == "map" and isinstance(value, dict):
        for k, v in value.items():
            constraints(shape.value, v, f"{path}.{k}", problems)
    elif kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value, re.S):
            problems.append(f"{path}: {value!r} does not match {pattern}")
        if "max" in shape.metadata and len(value) > shape.metadata["max"]:
            problems.append(f"{path}: longer than {shape.metadata['max']}")


def asff(findings, endpoint):
    import botocore.model
    import botocore.validate

    model = botocore.model.ServiceModel(json.loads(gzip.decompress(SECURITYHUB_MODEL.read_bytes())), "securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    problems = []
    for start in range(0, len(findings), 100):
        batch = {"Findings": findings[start : start + 100]}
        report = botocore.validate.ParamValidator().validate(batch, shape)
        if report.has_errors():
            problems.append(report.generate_report())
        constraints(shape, batch, f"batch {start // 100}", problems)
    if endpoint and not problems:
        import boto3

        client = boto3.client(
            "securityhub",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for start in range(0, len(findings), 100):
            answer = client.batch_import_findings(Findings=findings[start : start + 100])
            if answer["FailedCount"]:
                problems.append(f"BatchImportFindings refused: {answer['FailedFindings']}")
        ids = set()
        for page in client.get_paginator("get_findings").paginate():
            ids.update(f["Id"] for f in page["Findings"])
        missing = {f["Id"] for f in findings} - ids
        if missing:
            problems.append(f"not in GetFindings after the import: {sorted(missing)[:5]}")
    return problems


def main():
    kind, path = sys.argv[1], sys.argv[2]
    document = json.loads(Path(path).read_text())
    if not isinstance(document, list) or not document:
        print(f"{path}: not a non-empty JSON array")
        return 1
    problems = ocsf(document) if kind == "ocsf" else asff(document, sys.argv[3] if len(sys.argv) > 3 else None)
    for p in problems:
        print(p)
    print(f"{len(document)} {kind} records, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
