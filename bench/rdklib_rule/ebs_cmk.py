"""The baseline: ebs-volume-encrypted written the usual way, as a Python rule on
the Rule Development Kit library (rdklib + boto3).

The same check as atrest's rule: a volume is COMPLIANT when it is encrypted
with a customer-managed KMS key (DescribeKey says KeyManager CUSTOMER), else
NON_COMPLIANT; change-triggered and periodic. Written as rdklib's samples
write rules: one DescribeKey per volume, boto3 paginators, rdklib's own
PutEvaluations batching.
"""

from rdklib import ComplianceType, ConfigRule, Evaluation, Evaluator

APPLICABLE_RESOURCES = ["AWS::EC2::Volume"]


def judge(kms, volume_id, encrypted, key_id):
    if not encrypted or not key_id:
        return ComplianceType.NON_COMPLIANT, "Volume is not encrypted."
    try:
        manager = kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyManager"]
    except kms.exceptions.NotFoundException:
        return ComplianceType.NON_COMPLIANT, f"The key {key_id} does not exist."
    if manager != "CUSTOMER":
        return ComplianceType.NON_COMPLIANT, f"Volume is encrypted with the AWS-managed key {key_id}."
    return ComplianceType.COMPLIANT, ""


class EbsVolumeEncryptedWithCmk(ConfigRule):
    delete_old_evaluations_on_scheduled_notification = False

    def evaluate_parameters(self, rule_parameters):
        return rule_parameters

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        kms = client_factory.build_client("kms")
        configuration = configuration_item["configuration"]
        compliance, annotation = judge(
            kms, configuration.get("volumeId"), configuration.get("encrypted"), configuration.get("kmsKeyId")
        )
        return [Evaluation(compliance, annotation=annotation)]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        ec2 = client_factory.build_client("ec2")
        kms = client_factory.build_client("kms")
        evaluations = []
        for page in ec2.get_paginator("describe_volumes").paginate(PaginationConfig={"PageSize": 500}):
            for volume in page["Volumes"]:
                compliance, annotation = judge(kms, volume["VolumeId"], volume.get("Encrypted"), volume.get("KmsKeyId"))
                evaluations.append(Evaluation(compliance, volume["VolumeId"], APPLICABLE_RESOURCES[0], annotation))
        return evaluations


def lambda_handler(event, context):
    return Evaluator(EbsVolumeEncryptedWithCmk(), APPLICABLE_RESOURCES).handle(event, context)
