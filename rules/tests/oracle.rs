//! The policy oracle: atrest's judgement of who a key policy reaches,
//! checked against an implementation no one here wrote — PyPI
//! `policyuniverse` (in `.venv`, made by `make venv`) — on every policy
//! fixture and on a generated corpus of Principal × Action × Condition
//! combinations. `scripts/policy_oracle.py` compares the two; a
//! disagreement it does not document fails this test.

use std::path::{Path, PathBuf};
use std::process::Command;

use atrest_common::policy::Policy;
use atrest_common::Compliance;
use atrest_rules::kms_key_policy_no_untrusted_access::judge_policy;
use serde_json::{json, Value};

const ACCOUNT: &str = "111122223333";
const TRUSTED_ORG: &str = "o-trusted1234";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Whether atrest finds a statement reaching anyone without a confining
/// condition (the question policyuniverse's "internet accessible" asks).
fn flags_public(policy: &Value, trusted_accounts: &[String], trusted_orgs: &[String]) -> bool {
    let parsed = Policy::parse(policy).unwrap();
    let verdict = judge_policy(&parsed, ACCOUNT, trusted_accounts, trusted_orgs);
    let annotation = verdict.annotation.unwrap_or_default();
    verdict.compliance == Compliance::NonCompliant
        && annotation
            .split("; ")
            .any(|p| p.contains(" allows * without") || p.contains(" allows federated "))
}

fn case(name: String, policy: Value, trusted_accounts: Vec<String>, trusted_orgs: Vec<String>) -> Value {
    let flags = flags_public(&policy, &trusted_accounts, &trusted_orgs);
    json!({"name": name, "policy": policy, "account": ACCOUNT, "trustedAccounts": trusted_accounts,
           "trustedOrganizations": trusted_orgs, "atrestFlagsPublic": flags})
}

/// Principal × Action × Condition.
fn generated() -> Vec<Value> {
    let principals = [
        ("star", json!("*")),
        ("aws-star", json!({"AWS": "*"})),
        ("own-root", json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})),
        ("foreign-role", json!({"AWS": "arn:aws:iam::999988887777:role/Partner"})),
        ("service", json!({"Service": "logs.amazonaws.com"})),
        ("web-identity", json!({"Federated": "accounts.google.com"})),
    ];
    let actions = [
        ("decrypt", json!("kms:Decrypt")),
        ("all", json!("kms:*")),
        ("describe", json!("kms:DescribeKey")),
    ];
    let own_arn = format!("arn:aws:logs:eu-west-1:{ACCOUNT}:*");
    let conditions = [
        ("none", Value::Null),
        ("caller-own", json!({"StringEquals": {"kms:CallerAccount": ACCOUNT}})),
        (
            "caller-foreign",
            json!({"StringEquals": {"kms:CallerAccount": "999988887777"}}),
        ),
        (
            "caller-own-ifexists",
            json!({"StringEqualsIfExists": {"kms:CallerAccount": ACCOUNT}}),
        ),
        (
            "principal-account-forall",
            json!({"ForAllValues:StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
        ),
        (
            "principal-account-foranyvalue",
            json!({"ForAnyValue:StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),
        ),
        (
            "caller-not-foreign",
            json!({"StringNotEquals": {"kms:CallerAccount": "999988887777"}}),
        ),
        ("caller-wildcard", json!({"StringLike": {"kms:CallerAccount": "1111*"}})),
        (
            "org-trusted",
            json!({"StringEquals": {"aws:PrincipalOrgID": TRUSTED_ORG}}),
        ),
        (
            "org-foreign",
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-foreign0001"}}),
        ),
        (
            "org-path-trusted",
            json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": format!("{TRUSTED_ORG}/r-ab12/*")}}),
        ),
        ("source-arn-own", json!({"ArnLike": {"aws:SourceArn": own_arn}})),
        (
            "source-arn-any-account",
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:logs:eu-west-1:*:*"}}),
        ),
        (
            "source-account-own",
            json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}}),
        ),
        ("source-ip", json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})),
        (
            "source-ip-everywhere",
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
        ),
        (
            "source-vpce",
            json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        ),
        (
            "via-service",
            json!({"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}),
        ),
        ("secure-transport", json!({"Bool": {"aws:SecureTransport": "true"}})),
        (
            "via-service-and-caller-own",
            json!({"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com",
                                                               "kms:CallerAccount": ACCOUNT}}),
        ),
        (
            "caller-own-and-any-source-arn",
            json!({"StringEquals": {"kms:CallerAccount": ACCOUNT},
                                                "ArnLike": {"aws:SourceArn": "*"}}),
        ),
    ];
    let mut out = Vec::new();
    for (p, principal) in &principals {
        for (a, action) in &actions {
            for (c, condition) in &conditions {
                let mut st = json!({"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"});
                if !condition.is_null() {
                    st["Condition"] = condition.clone();
                }
                let policy = json!({"Version": "2012-10-17", "Statement": [st]});
                out.push(case(format!("{p}/{a}/{c}"), policy, vec![], vec![TRUSTED_ORG.into()]));
            }
        }
    }
    // NotPrincipal reaches everyone it does not name.
    let not_principal = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "NotPrincipal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/Admin")}, "Action": "kms:Decrypt", "Resource": "*"}]});
    out.push(case("not-principal/decrypt/none".into(), not_principal, vec![], vec![]));
    out
}

/// Every policy fixture of the key-policy rules, with its parameters.
fn fixtures() -> Vec<Value> {
    let mut out = Vec::new();
    for rule in [
        "kms-key-policy-no-untrusted-access",
        "kms-key-policy-separation-of-duties",
        "kms-key-policy-mfa-critical-actions",
        "kms-key-policy-delegation-constrained",
    ] {
        for folder in ["compliant", "non_compliant", "not_applicable"] {
            let dir = root().join("rules/tests/fixtures").join(rule).join(folder);
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
            files.sort();
            for file in files {
                let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
                let Some(text) = fixture["configurationItem"]["supplementaryConfiguration"]["Policy"].as_str() else {
                    continue;
                };
                let Ok(policy) = serde_json::from_str::<Value>(text) else {
                    continue;
                };
                if Policy::parse(&policy).is_err() {
                    continue;
                }
                // The fixtures' keys live in 123456789012; judge them there.
                let policy = serde_json::from_str(&text.replace("123456789012", ACCOUNT)).unwrap();
                let list = |name: &str| -> Vec<String> {
                    let params = &fixture["ruleParameters"];
                    params[name]
                        .as_str()
                        .map(|s| s.split(',').map(|v| v.trim().to_owned()).collect())
                        .unwrap_or_default()
                };
                let (accounts, orgs) = if rule == "kms-key-policy-no-untrusted-access" {
                    (list("trustedAccountIds"), list("trustedOrganizationIds"))
                } else {
                    (vec![], vec![])
                };
                let name = format!("{rule}/{folder}/{}", file.file_name().unwrap().to_string_lossy());
                out.push(case(name, policy, accounts, orgs));
            }
        }
    }
    out
}

#[test]
fn atrest_and_policyuniverse_agree_or_differ_as_documented() {
    let python = std::env::var_os("ATREST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv"))
        .join("bin/python");
    let has_oracle = python.exists()
        && Command::new(&python)
            .args(["-c", "import policyuniverse"])
            .status()
            .is_ok_and(|s| s.success());
    if !has_oracle {
        let msg = format!("policyuniverse not found with {}: run `make venv`", python.display());
        assert!(
            !std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false"),
            "{msg}"
        );
        eprintln!("\n!!!!! SKIPPED: {msg} !!!!!\n");
        return;
    }
    let mut corpus = generated();
    let generated_count = corpus.len();
    corpus.extend(fixtures());
    assert!(
        generated_count >= 300 && corpus.len() > generated_count + 60,
        "{}",
        corpus.len()
    );
    let file = std::env::temp_dir().join(format!("atrest-policy-oracle-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&corpus).unwrap()).unwrap();
    let out = Command::new(&python)
        .arg(root().join("scripts/policy_oracle.py"))
        .arg(&file)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{report}");
    assert!(out.status.success(), "{report}");
    assert!(report.contains("no unexplained disagreement"), "{report}");
    // Both sides were exercised: the corpus holds agreements of each kind.
    assert!(report.contains(" agree"), "{report}");
}
