//! `iam-policy-no-kms-full-access` end to end on moto: roles and users with
//! inline policies made with the Rust SDK, swept through
//! GetAccountAuthorizationDetails (which moto answers with URL-encoded
//! documents, as IAM does), each PutEvaluations read back.

use atrest_common::lambda::Handler;
use atrest_common::Rule;
use atrest_e2e::{
    annotation_of, compliance_by_id, count_operations, evaluations, events, put_evaluations, sweep_recorded, Moto,
    REGION,
};
use serde_json::{json, Value};

fn document(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn trust() -> String {
    document(json!([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]))
}

#[tokio::test]
async fn iam_policies_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config());
    let role = |name: &'static str| {
        let iam = iam.clone();
        async move {
            let out = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust())
                .send()
                .await
                .unwrap();
            out.role().unwrap().role_id().to_owned()
        }
    };
    let decrypting = role("Decrypting").await;
    iam.put_role_policy()
        .role_name("Decrypting")
        .policy_name("decrypt-all")
        .policy_document(document(json!([{"Sid": "DecryptAll", "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}])))
        .send()
        .await
        .unwrap();
    let encrypting = role("Encrypting").await;
    iam.put_role_policy()
        .role_name("Encrypting")
        .policy_name("encrypt")
        .policy_document(document(
            json!([{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*"}]),
        ))
        .send()
        .await
        .unwrap();
    let ops = iam.create_user().user_name("ops").send().await.unwrap();
    let ops = ops.user().unwrap().user_id().to_owned();
    iam.put_user_policy()
        .user_name("ops")
        .policy_name("everything-but-iam")
        .policy_document(document(
            json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
        ))
        .send()
        .await
        .unwrap();
    // IAM is global: only iamRegion sweeps it.
    let elsewhere = sweep_recorded(&moto, &atrest_rules::iam_policy_no_kms_full_access::RULE, json!({})).await;
    assert!(evaluations(&elsewhere).is_empty(), "{:?}", evaluations(&elsewhere));
    assert_eq!(
        count_operations(&elsewhere).get("iam:GetAccountAuthorizationDetails"),
        None
    );

    let recorded = sweep_recorded(
        &moto,
        &atrest_rules::iam_policy_no_kms_full_access::RULE,
        json!({"iamRegion": REGION}),
    )
    .await;
    let got = compliance_by_id(&recorded);
    assert_eq!(got[&decrypting], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &decrypting)
        .contains("inline policy \"decrypt-all\", statement \"DecryptAll\" allows kms:Decrypt on every key"));
    assert_eq!(got[&encrypting], "COMPLIANT");
    assert_eq!(got[&ops], "NON_COMPLIANT");
    assert!(annotation_of(&recorded, &ops).contains("allows every KMS action"));
    let types: Vec<String> = evaluations(&recorded).into_iter().map(|(t, _, _)| t).collect();
    for t in ["AWS::IAM::Role", "AWS::IAM::User"] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    // AWS-managed policies are not the organisation's: never evaluated.
    assert!(put_evaluations(&recorded)
        .iter()
        .flat_map(|b| b["Evaluations"].as_array().cloned().unwrap_or_default())
        .all(|e| !e["Annotation"].as_str().unwrap_or_default().contains("AWS-managed")));

    // A break-glass role can be excluded.
    let recorded = sweep_recorded(
        &moto,
        &atrest_rules::iam_policy_no_kms_full_access::RULE,
        json!({"iamRegion": REGION, "excludedPrincipals": "arn:aws:iam::*:role/Decrypting"}),
    )
    .await;
    assert_eq!(compliance_by_id(&recorded)[&decrypting], "NOT_APPLICABLE");

    // moto lists customer-managed policies and groups without their ids
    // (tests/README.md; judged with mocked answers in rules/tests/sweeps.rs):
    // a resource that cannot be reported fails the sweep, never goes
    // missing from it.
    iam.create_policy()
        .policy_name("KmsAdmins")
        .policy_document(document(
            json!([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]),
        ))
        .send()
        .await
        .unwrap();
    let rule = &atrest_rules::iam_policy_no_kms_full_access::RULE;
    let err = Handler::new(moto.aws())
        .handle(rule, events::scheduled(rule.spec().id, json!({"iamRegion": REGION})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("AWS::IAM::Policy without its id"), "{err}");
}
