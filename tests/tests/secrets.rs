//! Secrets stay secret: values planted in Lambda environment variables, SSM
//! parameters and a Secrets Manager secret on moto appear nowhere in what the rule binaries print
//! (debug logging on) nor in any report of `atrest scan`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use atrest_e2e::events;
use atrest_e2e::runtime_api::{Answer, RuntimeApi};
use atrest_e2e::{seed, Moto};
use serde_json::json;

const SECRET: &str = "planted-s3cr3t-9f8e7d6c";
const SECRET_NAME: &str = "DB_PASSWORD_PLANTED";

fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(|deps| deps.parent()).unwrap().to_path_buf()
}

fn aws_env(moto: &Moto) -> Vec<(&'static str, String)> {
    vec![
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
        ("AWS_REGION", atrest_e2e::REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("RUST_LOG", "debug".to_owned()),
    ]
}

async fn plant(moto: &Moto) {
    aws_sdk_secretsmanager::Client::new(&moto.sdk_config())
        .create_secret()
        .name("planted/db")
        .secret_string(SECRET)
        .send()
        .await
        .unwrap();
    let role = seed::lambda_role(moto, "planted").await;
    seed::function(moto, "holds-a-secret", &role, &[(SECRET_NAME, SECRET)], None).await;
    for (name, kind) in [
        ("/planted/db/password", aws_sdk_ssm::types::ParameterType::SecureString),
        ("/planted/api/token", aws_sdk_ssm::types::ParameterType::String),
    ] {
        seed::parameter(moto, name, kind, SECRET, None).await;
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} leaks the planted value:\n{text}");
}

#[tokio::test]
async fn no_rule_binary_prints_a_planted_secret() {
    let Some(moto) = Moto::start() else { return };
    plant(&moto).await;
    for rule in atrest_rules::ALL {
        let id = rule.spec().id;
        let params = if rule.spec().parameters.iter().any(|p| p.required) {
            json!({"tagKeys": "CostCenter"})
        } else {
            json!({})
        };
        let api = RuntimeApi::start(vec![events::scheduled(id, params)]);
        let path = bin_dir().join(id);
        let dir = std::env::temp_dir().join(format!("atrest-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (log, err) = (dir.join(format!("{id}.out")), dir.join(format!("{id}.err")));
        assert!(
            path.exists(),
            "{} is missing: build the workspace first",
            path.display()
        );
        let mut child = Command::new(path)
            .env_clear()
            .envs(aws_env(&moto))
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", format!("atrest-{id}"))
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/secrets")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "secrets")
            // Logs go to files: a pipe nobody reads would fill and block the function.
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
            .spawn()
            .unwrap();
        let answer = api.wait_answer(Duration::from_secs(120));
        let _ = child.kill();
        let _ = child.wait();
        let logs = format!(
            "{}{}",
            std::fs::read_to_string(&log).unwrap_or_default(),
            std::fs::read_to_string(&err).unwrap_or_default()
        );
        assert!(
            logs.contains("invocation complete"),
            "{id}: debug logs were written:\n{logs}"
        );
        assert_clean(&format!("{id}'s logs"), &logs);
        match answer {
            Some(Answer::Response(v)) => assert_clean(&format!("{id}'s response"), &v.to_string()),
            other => panic!("{id}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn no_scan_report_carries_a_planted_secret() {
    let Some(moto) = Moto::start() else { return };
    plant(&moto).await;
    for format in ["table", "json", "csv", "junit", "sarif", "html"] {
        let out = Command::new(bin_dir().join("atrest"))
            .args([
                "scan",
                "--format",
                format,
                "--param",
                "kms-key-tags-aligned.tagKeys=CostCenter",
            ])
            .env_clear()
            .envs(aws_env(&moto))
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.code() == Some(1),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            report.contains("holds-a-secret"),
            "{format}: the function was evaluated"
        );
        assert!(
            report.contains("/planted/api/token") || report.contains("&#x2f;planted&#x2f;api&#x2f;token"),
            "{format}: the parameters were evaluated"
        );
        assert_clean(&format!("the {format} report"), &report);
        assert_clean(&format!("the {format} stderr"), &String::from_utf8_lossy(&out.stderr));
    }
}
