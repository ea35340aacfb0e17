//! Fixture tests: every file under `fixtures/<rule-id>/<compliance>/` is one
//! case: a configuration item (with the `AWS::KMS::Key` items that give the
//! key facts, and optional rule parameters) that the rule must judge as the
//! folder says, with an annotation containing the fixture's `annotation`.
//! Cases run offline: key facts come from the fixture's key items. For
//! Lambda functions, whose environment Config does not record,
//! `environmentVariables` says how many GetFunctionConfiguration reports
//! (negative: access denied), answered by `aws-smithy-mocks`;
//! `environmentError` names the error code Lambda reports instead of the
//! variables when it cannot decrypt them. Periodic-only
//! rules judge the item directly (Config sends them no change events).

use std::path::{Path, PathBuf};

use atrest_common::keys::{ItemKeySource, DEFAULT_TTL};
use atrest_common::testing::mock_aws;
use atrest_common::{
    run, Compliance, ConfigurationItem, DryRun, Environment, Invocation, KeyDirectory, Parameters, Rule, RuleContext,
    Trigger,
};
use aws_smithy_mocks::{mock, RuleMode};
use aws_smithy_types::DateTime;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Fixture {
    description: String,
    #[serde(default)]
    keys: Vec<Value>,
    configuration_item: Value,
    #[serde(default)]
    rule_parameters: Option<Value>,
    #[serde(default)]
    event_left_scope: bool,
    #[serde(default)]
    environment_variables: Option<i64>,
    #[serde(default)]
    environment_error: Option<String>,
    annotation: String,
}

/// GetFunctionConfiguration answering with `n` variables, or access
/// denied, or an environment Lambda could not decrypt.
fn lambda_environment(n: i64, error: Option<String>) -> aws_smithy_mocks::Rule {
    use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
    use aws_sdk_lambda::types::{EnvironmentError, EnvironmentResponse};
    if let Some(code) = error {
        return mock!(aws_sdk_lambda::Client::get_function_configuration).then_output(move || {
            let env = EnvironmentResponse::builder()
                .error(
                    EnvironmentError::builder()
                        .error_code(code.clone())
                        .message("Lambda was unable to decrypt the environment variables")
                        .build(),
                )
                .build();
            GetFunctionConfigurationOutput::builder().environment(env).build()
        });
    }
    if n < 0 {
        return mock!(aws_sdk_lambda::Client::get_function_configuration)
            .sequence()
            .http_status(403, Some(r#"{"Type":"User","message":"not allowed"}"#.to_owned()))
            .repeatedly()
            .build();
    }
    mock!(aws_sdk_lambda::Client::get_function_configuration).then_output(move || {
        let mut env = EnvironmentResponse::builder();
        for i in 0..n {
            env = env.variables(format!("VAR{i}"), "value");
        }
        GetFunctionConfigurationOutput::builder()
            .environment(env.build())
            .build()
    })
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn expected(folder: &str) -> Compliance {
    match folder {
        "compliant" => Compliance::Compliant,
        "non_compliant" => Compliance::NonCompliant,
        "not_applicable" => Compliance::NotApplicable,
        other => panic!("unexpected fixture folder {other}"),
    }
}

/// A Config change notification carrying the fixture's item.
fn change_event(f: &Fixture) -> Value {
    let invoking = json!({
        "configurationItem": f.configuration_item,
        "notificationCreationTime": "2026-11-29T08:16:00.000Z",
        "messageType": "ConfigurationItemChangeNotification",
        "recordVersion": "1.3",
    });
    let mut event = json!({
        "version": "1.0",
        "invokingEvent": invoking.to_string(),
        "resultToken": "TESTMODE",
        "eventLeftScope": f.event_left_scope,
        "configRuleName": "fixture-rule",
        "accountId": "123456789012",
    });
    if let Some(p) = &f.rule_parameters {
        event["ruleParameters"] = Value::String(p.to_string());
    }
    event
}

fn key_items(f: &Fixture) -> Result<Vec<ConfigurationItem>, String> {
    f.keys
        .iter()
        .map(|k| serde_json::from_value(k.clone()).map_err(|e| format!("key item: {e}")))
        .collect()
}

async fn judge(rule: &dyn Rule, f: &Fixture) -> Result<(Compliance, String), String> {
    let invocation = Invocation::from_value(change_event(f)).map_err(|e| e.to_string())?;
    let params = Parameters::parse(rule.spec().parameters, &invocation.parameters).map_err(|e| e.to_string())?;
    let env = Environment {
        aws: f.environment_variables.map(|n| {
            mock_aws(
                RuleMode::MatchAny,
                &[&lambda_environment(n, f.environment_error.clone())],
            )
        }),
        keys: KeyDirectory::new(ItemKeySource::from_items(&key_items(f)?), DEFAULT_TTL),
    };
    if !rule.spec().triggers.change {
        let Trigger::Change(item) = &invocation.trigger else {
            return Err("fixture event is not a change".into());
        };
        let ctx = RuleContext::new(
            &params,
            &env.keys,
            env.aws.as_ref(),
            DateTime::from_secs(0),
            item.account_id.as_deref(),
        );
        let v = rule.evaluate_item(item, &ctx).await.map_err(|e| e.to_string())?;
        return Ok((v.compliance, v.annotation.unwrap_or_default()));
    }
    let mut sink = DryRun::default();
    run(rule, &invocation, &params, &env, &mut sink)
        .await
        .map_err(|e| e.to_string())?;
    match sink.evaluations.as_slice() {
        [e] => Ok((e.compliance, e.annotation.clone().unwrap_or_default())),
        other => Err(format!("expected one evaluation, got {other:?}")),
    }
}

#[tokio::test]
async fn every_fixture_is_judged_as_its_folder_says() {
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut rule_dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    rule_dirs.sort();
    for rule_dir in rule_dirs {
        let id = rule_dir.file_name().unwrap().to_string_lossy().to_string();
        let rule = atrest_rules::find(&id).unwrap_or_else(|| panic!("fixtures for unknown rule {id}"));
        for folder in ["compliant", "non_compliant", "not_applicable"] {
            if !rule_dir.join(folder).is_dir() {
                continue; // every_rule_has_fixtures_of_every_outcome says which may lack one
            }
            let mut files: Vec<PathBuf> = std::fs::read_dir(rule_dir.join(folder))
                .unwrap_or_else(|e| panic!("{id}/{folder}: {e}"))
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            assert!(!files.is_empty(), "{id}/{folder} has no fixture");
            for file in files {
                cases += 1;
                let name = format!("{id}/{folder}/{}", file.file_name().unwrap().to_string_lossy());
                let text = std::fs::read_to_string(&file).unwrap();
                let fixture: Fixture = match serde_json::from_str(&text) {
                    Ok(f) => f,
                    Err(e) => {
                        failures.push(format!("{name}: unreadable fixture: {e}"));
                        continue;
                    }
                };
                match judge(rule, &fixture).await {
                    Ok((compliance, annotation)) => {
                        if compliance != expected(folder) || !annotation.contains(&fixture.annotation) {
                            failures.push(format!(
                                "{name} ({}): got {compliance} \"{annotation}\", expected {} with \"{}\"",
                                fixture.description,
                                expected(folder),
                                fixture.annotation
                            ));
                        }
                    }
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} fixtures failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases >= 3);
}

/// Every rule has compliant and non-compliant cases; change-triggered rules
/// (whose resources can be deleted) and rules whose doc names a
/// NOT_APPLICABLE case have those too.
#[test]
fn every_rule_has_fixtures_of_every_outcome() {
    for rule in atrest_rules::ALL {
        let spec = rule.spec();
        let module = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src")
                .join(format!("{}.rs", spec.id.replace('-', "_"))),
        )
        .unwrap();
        let never_not_applicable = module.contains("## NOT_APPLICABLE when\n//! Never");
        for folder in ["compliant", "non_compliant", "not_applicable"] {
            if folder == "not_applicable" && never_not_applicable && !spec.triggers.change {
                continue;
            }
            let dir = fixtures_root().join(spec.id).join(folder);
            assert!(dir.is_dir(), "{} lacks {folder} fixtures", spec.id);
        }
    }
}

/// The facts each rule reads, as paths in the fixture's item (`item`) or
/// its key items (`key`); alternative spellings of one fact are changed
/// together.
type Facts = &'static [(&'static str, &'static [&'static str])];

const FACTS: &[(&str, Facts)] = &[
    (
        "ebs-volume-encrypted",
        &[
            ("item", &["configuration.encrypted", "configuration.Encrypted"]),
            ("item", &["configuration.kmsKeyId", "configuration.KmsKeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "rds-storage-encrypted",
        &[
            ("item", &["configuration.storageEncrypted", "configuration.encrypted"]),
            ("item", &["configuration.kmsKeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "s3-bucket-encrypted",
        &[
            (
                "item",
                &["supplementaryConfiguration.ServerSideEncryptionConfiguration"],
            ),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "ssm-parameter-encrypted",
        &[
            ("item", &["configuration.Type", "configuration.type"]),
            ("item", &["configuration.KeyId", "configuration.keyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    ("lambda-env-encrypted", &[("key", &["configuration.keyManager"])]),
    (
        "dynamodb-table-encrypted",
        &[
            (
                "item",
                &[
                    "configuration.ssedescription.kmsmasterKeyArn",
                    "configuration.SSEDescription.KMSMasterKeyArn",
                ],
            ),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "efs-file-system-encrypted",
        &[
            ("item", &["configuration.Encrypted", "configuration.encrypted"]),
            ("item", &["configuration.KmsKeyId", "configuration.kmsKeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "secretsmanager-secret-encrypted",
        &[
            ("item", &["configuration.KmsKeyId", "configuration.KMSKeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "sns-topic-encrypted",
        &[
            ("item", &["configuration.KmsMasterKeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "sqs-queue-encrypted",
        &[
            ("item", &["configuration.KmsMasterKeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "logs-log-group-encrypted",
        &[
            ("item", &["configuration.kmsKeyId", "configuration.KmsKeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "cloudtrail-trail-encrypted",
        &[
            ("item", &["configuration.kmsKeyId", "configuration.KmsKeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "kinesis-stream-encrypted",
        &[
            (
                "item",
                &[
                    "configuration.StreamEncryption.EncryptionType",
                    "configuration.EncryptionType",
                ],
            ),
            ("item", &["configuration.StreamEncryption.KeyId", "configuration.KeyId"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "ecr-repository-encrypted",
        &[
            (
                "item",
                &[
                    "configuration.EncryptionConfiguration.EncryptionType",
                    "configuration.encryptionConfiguration.encryptionType",
                ],
            ),
            (
                "item",
                &[
                    "configuration.EncryptionConfiguration.KmsKey",
                    "configuration.encryptionConfiguration.kmsKey",
                ],
            ),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "backup-vault-encrypted",
        &[
            ("item", &["configuration.EncryptionKeyArn"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "ebs-encryption-by-default",
        &[
            ("item", &["configuration.ebsEncryptionByDefault"]),
            ("key", &["configuration.keyManager"]),
        ],
    ),
    (
        "kms-key-rotation-enabled",
        &[
            ("item", &["configuration.keyManager"]),
            ("item", &["configuration.keyState"]),
            (
                "item",
                &["configuration.keySpec", "configuration.customerMasterKeySpec"],
            ),
            ("item", &["configuration.origin"]),
            ("item", &["supplementaryConfiguration.KeyRotationStatus"]),
        ],
    ),
    (
        "kms-key-usable",
        &[
            ("item", &["configuration.keyManager"]),
            ("item", &["configuration.keyState"]),
        ],
    ),
    (
        "kms-key-policy-separation-of-duties",
        &[
            ("item", &["configuration.keyManager"]),
            ("item", &["supplementaryConfiguration.Policy"]),
        ],
    ),
    (
        "kms-key-policy-no-untrusted-access",
        &[
            ("item", &["configuration.keyManager"]),
            ("item", &["supplementaryConfiguration.Policy"]),
        ],
    ),
    (
        "kms-key-policy-mfa-critical-actions",
        &[
            ("item", &["configuration.keyManager"]),
            ("item", &["supplementaryConfiguration.Policy"]),
        ],
    ),
    (
        "iam-policy-no-kms-full-access",
        &[
            ("item", &["configuration.policyVersionList"]),
            ("item", &["configuration.rolePolicyList"]),
            ("item", &["configuration.userPolicyList"]),
            ("item", &["configuration.groupPolicyList"]),
        ],
    ),
    (
        "kms-key-policy-delegation-constrained",
        &[
            ("item", &["configuration.keyManager"]),
            ("item", &["supplementaryConfiguration.Policy"]),
        ],
    ),
    (
        "kms-key-tags-aligned",
        &[
            (
                "item",
                &["tags", "supplementaryConfiguration.BucketTaggingConfiguration"],
            ),
            ("key", &["tags"]),
        ],
    ),
];

/// Sets (or, for `None`, removes) the value at a dotted path, if its
/// parent exists; whether the path was there.
fn mutate(target: &mut Value, path: &str, to: Option<&Value>) -> bool {
    let (parent, last) = path.rsplit_once('.').map_or(("", path), |(p, l)| (p, l));
    let mut node = target;
    for part in parent.split('.').filter(|p| !p.is_empty()) {
        match node.get_mut(part) {
            Some(n) => node = n,
            None => return false,
        }
    }
    let Some(object) = node.as_object_mut() else {
        return false;
    };
    if !object.contains_key(last) {
        return false;
    }
    match to {
        Some(v) => object.insert(last.to_owned(), v.clone()),
        None => object.remove(last),
    };
    true
}

/// Missing facts are never good news: in every COMPLIANT fixture, each fact
/// its rule reads — removed, null, empty, or of the wrong type — makes the
/// verdict NON_COMPLIANT ("could not be verified"), never COMPLIANT and
/// never NOT_APPLICABLE.
#[tokio::test]
async fn a_missing_or_malformed_fact_is_never_compliant() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for (id, facts) in FACTS {
        let rule = atrest_rules::find(id).unwrap_or_else(|| panic!("unknown rule {id}"));
        let dir = fixtures_root().join(id).join("compliant");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (place, paths) in *facts {
                for to in [None, Some(Value::Null), Some(json!("")), Some(json!(7))] {
                    let mut fixture: Fixture = serde_json::from_str(&text).unwrap();
                    let mut changed = false;
                    for path in *paths {
                        if *place == "item" {
                            changed |= mutate(&mut fixture.configuration_item, path, to.as_ref());
                        } else {
                            // Only the key items the resource names are read.
                            let named = fixture.configuration_item.to_string();
                            for key in &mut fixture.keys {
                                let id = key["resourceId"].as_str().unwrap_or("?").to_owned();
                                if named.contains(&id) {
                                    changed |= mutate(key, path, to.as_ref());
                                }
                            }
                        }
                    }
                    if !changed {
                        continue;
                    }
                    cases += 1;
                    let name = format!(
                        "{id}/compliant/{} with {place} {} {}",
                        file.file_name().unwrap().to_string_lossy(),
                        paths[0],
                        to.as_ref().map_or("removed".into(), |v| format!("= {v}"))
                    );
                    match judge(rule, &fixture).await {
                        Ok((Compliance::NonCompliant, _)) => {}
                        // A malformed item refused whole is not a verdict at all: fine.
                        Err(_) => {}
                        Ok((c, annotation)) => failures.push(format!("{name}: {c} \"{annotation}\"")),
                    }
                }
            }
        }
    }
    assert!(cases >= 200, "only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases not NON_COMPLIANT:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
