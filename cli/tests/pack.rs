//! `atrest pack --remediation`: each rule's AWS-owned runbook as an
//! AWS::Config::RemediationConfiguration beside its rule (the CDK app's pack
//! is held equal to this output by cdk/test/pack.test.ts).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn pack(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atrest"))
        .args([
            "pack",
            "--function-arn-prefix",
            "arn:aws:lambda:eu-west-1:111122223333:function:atrest-",
        ])
        .args(["--rule", "kms-key-rotation-enabled", "--rule", "kms-key-usable"])
        .args(["--rule", "ebs-encryption-by-default", "--rule", "sns-topic-encrypted"])
        .args(["--rule", "ebs-volume-encrypted"])
        .args(extra)
        .current_dir(root())
        .output()
        .unwrap()
}

fn resources(o: &Output) -> serde_json::Map<String, Value> {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let template: Value = serde_yaml_ng::from_slice(&o.stdout).unwrap();
    template["Resources"].as_object().unwrap().clone()
}

const ROLE_PREFIX: &str = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/atrest/";

#[test]
fn manual_remediation_adds_each_runbook_with_its_parameters() {
    let o = pack(&["--remediation", "manual"]);
    let resources = resources(&o);
    let remediations: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Config::RemediationConfiguration")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        remediations,
        [
            "EbsEncryptionByDefaultRemediation",
            "KmsKeyRotationEnabledRemediation",
            "KmsKeyUsableRemediation"
        ]
    );
    // The SNS runbook needs a key: left out, and said so.
    assert!(String::from_utf8_lossy(&o.stderr).contains(
        "sns-topic-encrypted: no remediation (AWSConfigRemediation-EncryptSNSTopic needs --remediation-key-arn)"
    ));

    let rotation = &resources["KmsKeyRotationEnabledRemediation"];
    assert_eq!(rotation["DependsOn"], "KmsKeyRotationEnabled");
    assert_eq!(
        rotation["Properties"],
        json!({
            "ConfigRuleName": "atrest-kms-key-rotation-enabled",
            "TargetType": "SSM_DOCUMENT",
            "TargetId": "AWSConfigRemediation-EnableKeyRotation",
            "Parameters": {
                "AutomationAssumeRole": {"StaticValue": {"Values": [
                    {"Fn::Sub": format!("{ROLE_PREFIX}atrest-remediation-enable-key-rotation")}]}},
                "KeyId": {"ResourceValue": {"Value": "RESOURCE_ID"}}
            },
            "Automatic": false
        })
    );
    let cancel = &resources["KmsKeyUsableRemediation"]["Properties"];
    assert_eq!(cancel["TargetId"], "AWSConfigRemediation-CancelKeyDeletion");
    assert_eq!(cancel["Parameters"]["KeyId"]["ResourceValue"]["Value"], "RESOURCE_ID");
    let ebs = &resources["EbsEncryptionByDefaultRemediation"]["Properties"];
    assert_eq!(ebs["TargetId"], "AWSConfigRemediation-EnableEbsEncryptionByDefault");
    assert_eq!(
        ebs["Parameters"].as_object().unwrap().len(),
        1,
        "AutomationAssumeRole only"
    );
    // Rules without a runbook keep their rule alone.
    assert!(!resources.contains_key("EbsVolumeEncryptedRemediation"));
    assert!(resources.contains_key("EbsVolumeEncrypted"));
}

#[test]
fn the_flag_alone_means_manual_and_automatic_retries() {
    let bare = resources(&pack(&["--remediation"]));
    assert_eq!(bare["KmsKeyUsableRemediation"]["Properties"]["Automatic"], false);

    let key = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1";
    let automatic = resources(&pack(&["--remediation", "automatic", "--remediation-key-arn", key]));
    let sns = &automatic["SnsTopicEncryptedRemediation"]["Properties"];
    assert_eq!(sns["TargetId"], "AWSConfigRemediation-EncryptSNSTopic");
    assert_eq!(
        sns["Parameters"]["KmsKeyArn"],
        json!({"StaticValue": {"Values": [key]}})
    );
    assert_eq!(
        sns["Parameters"]["TopicArn"],
        json!({"ResourceValue": {"Value": "RESOURCE_ID"}})
    );
    assert_eq!(sns["Automatic"], true);
    assert_eq!(sns["MaximumAutomaticAttempts"], 5);
    assert_eq!(sns["RetryAttemptSeconds"], 60);

    let none = resources(&pack(&[]));
    assert!(none.values().all(|r| r["Type"] == "AWS::Config::ConfigRule"));
}

#[test]
fn a_bad_key_arn_is_refused_without_a_template() {
    let o = pack(&["--remediation", "--remediation-key-arn", "alias/payments"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--remediation-key-arn") && err.contains("alias/payments"),
        "{err}"
    );
}
