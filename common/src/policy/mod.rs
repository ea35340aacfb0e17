//! Key policies read with IAM's semantics: `Action` / `NotAction` with
//! case-insensitive wildcards, every `Principal` form (`"*"`, `{"AWS": "*"}`,
//! account ids, ARNs, lists, `Service`, `Federated`, `CanonicalUser`),
//! `NotPrincipal`, string-or-list values everywhere, and conditions
//! ([`conditions`]: the operators' semantics over possible requests).

pub mod actions;
pub mod conditions;

use std::collections::BTreeMap;

use serde_json::Value;

use conditions::{Context, Holds};

/// `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// One principal of a `Principal` or `NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Principal {
    /// `"*"` or `{"AWS": "*"}`: anyone.
    Public,
    /// An AWS principal: account id shorthand, account root, IAM ARN, or a
    /// unique id of a deleted principal.
    Aws(String),
    Service(String),
    Federated(String),
    Canonical(String),
}

impl Principal {
    /// The account of an AWS or federated principal, when it names one.
    pub fn account(&self) -> Option<&str> {
        let text = match self {
            Principal::Aws(s) | Principal::Federated(s) => s.as_str(),
            _ => return None,
        };
        if is_account_id(text) {
            return Some(text);
        }
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
        let account = text.strip_prefix("arn:")?.split(':').nth(3)?;
        is_account_id(account).then_some(account)
    }

    /// Whether this is the root of `account` (`ACCOUNT` or `arn:…:iam::ACCOUNT:root`).
    pub fn is_root_of(&self, account: &str) -> bool {
        match self {
            Principal::Aws(s) => {
                s == account
                    || (s.starts_with("arn:")
                        && s.ends_with(&format!(":iam::{account}:root"))
                        && s.split(':').count() == 6)
            }
            _ => false,
        }
    }

    /// How the principal reads in annotations.
    pub fn describe(&self) -> String {
        match self {
            Principal::Public => "*".into(),
            Principal::Aws(s) => s.clone(),
            Principal::Service(s) => format!("service {s}"),
            Principal::Federated(s) => format!("federated {s}"),
            Principal::Canonical(s) => format!("canonical user {s}"),
        }
    }
}

impl Principal {
    /// What calling as this principal fixes in the request context: its
    /// account (`aws:PrincipalAccount`, `kms:CallerAccount`) and, for a
    /// named IAM role or user, `aws:PrincipalArn`. An account root stands
    /// for every principal of the account that IAM policies allow, so its
    /// `aws:PrincipalArn` is left open; so is everything about `"*"`.
    pub fn request_context(&self) -> Context {
        let mut context = Context::unknown();
        if let Some(account) = self.account() {
            for key in ["aws:PrincipalAccount", "kms:CallerAccount"] {
                context = context.with(key, [Holds::value(account)]);
            }
        }
        match self {
            Principal::Aws(arn) if arn.starts_with("arn:") && !arn.ends_with(":root") => {
                context.with("aws:PrincipalArn", [Holds::value(arn.clone())])
            }
            Principal::Service(name) => context
                .with("aws:PrincipalServiceName", [Holds::value(name.clone())])
                .with("aws:PrincipalIsAWSService", [Holds::value("true")]),
            _ => context,
        }
    }

    /// Whether this is an account root (`ACCOUNT` or `arn:…:iam::ACCOUNT:root`):
    /// in a key policy, every principal of that account its IAM policies allow.
    pub fn is_account_root(&self) -> bool {
        self.account().is_some_and(|a| self.is_root_of(a))
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `Principal` (None when the statement uses `NotPrincipal` or neither).
    pub principals: Option<Vec<Principal>>,
    pub not_principals: Option<Vec<Principal>>,
    /// `Action` patterns (None when the statement uses `NotAction`).
    pub actions: Option<Vec<String>>,
    pub not_actions: Option<Vec<String>>,
    /// `Resource` patterns (None when absent, as in key policies written
    /// without it, or when the statement uses `NotResource`).
    pub resources: Option<Vec<String>>,
    pub not_resources: Option<Vec<String>>,
    /// Operator → condition key (lower case) → values.
    pub conditions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// A parsed key policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

/// Why a policy document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn strings(v: &Value, what: &str) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(PolicyError(format!("{what}: expected strings, got {other}"))),
            })
            .collect(),
        Value::Number(n) => Ok(vec![n.to_string()]),
        Value::Bool(b) => Ok(vec![b.to_string()]),
        other => Err(PolicyError(format!("{what}: expected a string or a list, got {other}"))),
    }
}

fn principals(v: &Value) -> Result<Vec<Principal>, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(vec![Principal::Public]),
        Value::String(s) => Err(PolicyError(format!("Principal `{s}` is neither \"*\" nor a typed map"))),
        Value::Object(map) => {
            let mut out = Vec::new();
            for (kind, value) in map {
                for p in strings(value, "Principal")? {
                    out.push(match kind.as_str() {
                        "AWS" if p == "*" => Principal::Public,
                        "AWS" => Principal::Aws(p),
                        "Service" => Principal::Service(p),
                        "Federated" => Principal::Federated(p),
                        "CanonicalUser" => Principal::Canonical(p),
                        other => return Err(PolicyError(format!("unknown principal type `{other}`"))),
                    });
                }
            }
            Ok(out)
        }
        other => Err(PolicyError(format!("Principal: unexpected {other}"))),
    }
}

impl Policy {
    /// Parses a policy from its JSON text.
    pub fn parse_str(text: &str) -> Result<Self, PolicyError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| PolicyError(format!("the policy is not JSON: {e}")))?;
        Self::parse(&value)
    }

    /// Parses a policy document as AWS Config records an IAM policy's:
    /// URL-encoded text (RFC 3986, as IAM returns documents), JSON text, a
    /// JSON object, or a list holding one object (as some recorded samples
    /// have it).
    pub fn parse_recorded(value: &Value) -> Result<Self, PolicyError> {
        match value {
            Value::String(text) if !text.trim_start().starts_with('{') => {
                let decoded = percent_encoding::percent_decode_str(text)
                    .decode_utf8()
                    .map_err(|e| PolicyError(format!("the URL-encoded document is not UTF-8: {e}")))?;
                Self::parse_str(&decoded)
            }
            Value::Array(items) => match items.as_slice() {
                [one] => Self::parse(one),
                _ => Err(PolicyError(format!(
                    "the document is a list of {} values, not one policy",
                    items.len()
                ))),
            },
            other => Self::parse(other),
        }
    }

    /// Parses a policy document (a JSON string holding one is decoded too).
    pub fn parse(value: &Value) -> Result<Self, PolicyError> {
        if let Value::String(text) = value {
            return Self::parse_str(text);
        }
        let statements = match value.get("Statement") {
            Some(Value::Array(list)) => list.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => return Err(PolicyError("the policy has no Statement".into())),
        };
        let statements = statements
            .iter()
            .enumerate()
            .map(|(i, s)| Statement::parse(s).map_err(|e| PolicyError(format!("statement {}: {}", i + 1, e.0))))
            .collect::<Result<_, _>>()?;
        Ok(Policy { statements })
    }
}

impl Statement {
    fn parse(v: &Value) -> Result<Self, PolicyError> {
        let effect = match v.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => return Err(PolicyError(format!("Effect must be Allow or Deny, got {other:?}"))),
        };
        let actions = v.get("Action").map(|a| strings(a, "Action")).transpose()?;
        let not_actions = v.get("NotAction").map(|a| strings(a, "NotAction")).transpose()?;
        if actions.is_none() && not_actions.is_none() {
            return Err(PolicyError("neither Action nor NotAction".into()));
        }
        let mut conditions = BTreeMap::new();
        if let Some(cond) = v.get("Condition") {
            let Value::Object(ops) = cond else {
                return Err(PolicyError("Condition is not an object".into()));
            };
            for (op, keys) in ops {
                let Value::Object(keys) = keys else {
                    return Err(PolicyError(format!("Condition {op} is not an object")));
                };
                let entry: &mut BTreeMap<String, Vec<String>> = conditions.entry(op.clone()).or_default();
                for (key, values) in keys {
                    entry.insert(key.to_ascii_lowercase(), strings(values, "Condition value")?);
                }
            }
        }
        Ok(Statement {
            sid: v.get("Sid").and_then(Value::as_str).map(str::to_owned),
            effect,
            principals: v.get("Principal").map(principals).transpose()?,
            not_principals: v.get("NotPrincipal").map(principals).transpose()?,
            actions,
            not_actions,
            resources: v.get("Resource").map(|r| strings(r, "Resource")).transpose()?,
            not_resources: v.get("NotResource").map(|r| strings(r, "NotResource")).transpose()?,
            conditions,
        })
    }

    /// Whether the statement's action element covers `action` (`kms:Decrypt`).
    pub fn covers_action(&self, action: &str) -> bool {
        match (&self.actions, &self.not_actions) {
            (Some(patterns), _) => patterns.iter().any(|p| wildcard_match(p, action)),
            (None, Some(excluded)) => !excluded.iter().any(|p| wildcard_match(p, action)),
            (None, None) => false,
        }
    }

    /// Whether the statement covers every KMS action: any action pattern
    /// (`*`, `kms:*`, `kms*`, `km?:*`, `*:*`, ...) or a `NotAction` that
    /// reaches every action of [`actions::KMS_ACTIONS`].
    pub fn covers_all_kms_actions(&self) -> bool {
        actions::KMS_ACTIONS.iter().all(|a| self.covers_action(a))
    }

    /// What the statement's conditions may evaluate to in `context`.
    pub fn conditions_in(&self, context: &conditions::Context) -> conditions::Possible {
        conditions::evaluate_block(&self.conditions, context)
    }

    /// Whether any of the statement's conditions names `key`.
    pub fn mentions_condition_key(&self, key: &str) -> bool {
        self.conditions
            .values()
            .any(|keys| keys.contains_key(&key.to_ascii_lowercase()))
    }

    /// The values of a condition key under one operator.
    pub fn condition(&self, operator: &str, key: &str) -> Option<&[String]> {
        self.conditions
            .iter()
            .find(|(op, _)| op.eq_ignore_ascii_case(operator))
            .and_then(|(_, keys)| keys.get(&key.to_ascii_lowercase()))
            .map(Vec::as_slice)
    }

    /// Whether the statement's principal element surely includes `p`
    /// (for a Deny: whether it surely applies to `p`). `"*"` includes
    /// everyone; a named principal only itself (an account root is not
    /// taken to include the account's roles and users, whatever its effect
    /// would be); a `NotPrincipal` everyone it cannot exclude — none of
    /// the listed principals may be `p` or share `p`'s account.
    pub fn surely_includes(&self, p: &Principal) -> bool {
        match (&self.principals, &self.not_principals) {
            (Some(listed), _) => listed
                .iter()
                .any(|q| *q == Principal::Public || (q == p && !p.is_account_root())),
            (None, Some(excluded)) => {
                if *p == Principal::Public {
                    return excluded.is_empty();
                }
                !excluded
                    .iter()
                    .any(|q| q == p || *q == Principal::Public || (q.account().is_some() && q.account() == p.account()))
            }
            (None, None) => false,
        }
    }

    /// The principals an Allow reaches: its `Principal`, or anyone for a
    /// `NotPrincipal` (everyone but a few).
    pub fn reached_principals(&self) -> Vec<Principal> {
        match (&self.principals, &self.not_principals) {
            (Some(p), _) => p.clone(),
            (None, Some(_)) => vec![Principal::Public],
            (None, None) => Vec::new(),
        }
    }
}

/// IAM wildcard matching (`*` any run, `?` one character), case-insensitive
/// as IAM compares action names.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    wildcard_match_case(pattern, value, false)
}

/// Wildcard matching, case-sensitive (`StringLike`, `ArnLike`) or not.
pub fn wildcard_match_case(pattern: &str, value: &str, case_sensitive: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if case_sensitive {
            s.chars().collect()
        } else {
            s.to_lowercase().chars().collect()
        }
    };
    let (p, v) = (fold(pattern), fold(value));
    let (mut pi, mut vi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_documents_are_read_in_every_form() {
        let plain = r#"{"Version":"2012-10-17","Statement":{"Sid":"All Keys","Effect":"Allow","Action":"kms:*","Resource":"*"}}"#;
        let encoded: String =
            percent_encoding::utf8_percent_encode(plain, percent_encoding::NON_ALPHANUMERIC).to_string();
        let object: Value = serde_json::from_str(plain).unwrap();
        for form in [
            Value::String(plain.into()),
            Value::String(encoded),
            object.clone(),
            Value::Array(vec![object]),
        ] {
            let policy = Policy::parse_recorded(&form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(policy.statements[0].sid.as_deref(), Some("All Keys"));
            assert_eq!(policy.statements[0].resources, Some(vec!["*".to_owned()]));
        }
        assert!(Policy::parse_recorded(&Value::String("%7B%22Statement".into())).is_err());
        assert!(Policy::parse_recorded(&Value::Array(vec![])).is_err());
        assert!(Policy::parse_recorded(&Value::Null).is_err());
    }

    #[test]
    fn wildcards_follow_iam() {
        assert!(wildcard_match("kms:*", "kms:Decrypt"));
        assert!(wildcard_match("*", "kms:Decrypt"));
        assert!(wildcard_match("kms:Re*", "kms:ReEncryptFrom"));
        assert!(wildcard_match("kms:*Key*", "kms:ScheduleKeyDeletion"));
        assert!(wildcard_match("KMS:decrypt", "kms:Decrypt"));
        assert!(wildcard_match("kms:Generate?ataKey", "kms:GenerateDataKey"));
        assert!(!wildcard_match("kms:Re*", "kms:Decrypt"));
        assert!(!wildcard_match("s3:*", "kms:Decrypt"));
    }
}
