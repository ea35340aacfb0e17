//! Rule parameters: declared per rule in its [`RuleSpec`](crate::rule::RuleSpec),
//! passed by Config as strings, checked and typed here before any AWS call.

use std::collections::BTreeMap;

use crate::error::Error;

/// What a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// `true` or `false` (any case).
    Bool,
    /// A whole number within bounds.
    Integer { min: i64, max: i64 },
    /// A comma-separated list; spaces are trimmed, empty entries ignored.
    List,
    /// A comma-separated list of KMS key references: key ARNs, alias ARNs,
    /// alias names (`alias/...`) or key ids.
    KeyList,
    /// A regular expression (Rust `regex` syntax).
    Regex { case_insensitive: bool },
    /// An IAM role name, with its path if it has one (`path/name`).
    RoleName,
    /// An AWS region code (`us-east-1`, `us-gov-west-1`, `cn-north-1`).
    Region,
}

impl ParamKind {
    /// How the kind reads in documentation and the rule manifest.
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Bool => "boolean",
            ParamKind::Integer { .. } => "integer",
            ParamKind::List => "list",
            ParamKind::KeyList => "kms-key-list",
            ParamKind::Regex { .. } => "regex",
            ParamKind::RoleName => "role-name",
            ParamKind::Region => "region",
        }
    }
}

/// One declared parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    /// The value used when the parameter is absent or empty.
    pub default: Option<&'static str>,
    pub required: bool,
    pub description: &'static str,
}

/// Parameters every rule accepts, handled by the shared crate.
pub const COMMON: &[ParamSpec] = &[
    ParamSpec {
        name: ASSUME_EXECUTION_ROLE,
        kind: ParamKind::Bool,
        default: Some("false"),
        required: false,
        description: "Make the rule's AWS calls with credentials from STS AssumeRole on the event's \
                      executionRoleArn (central-account and organisation set-ups).",
    },
    ParamSpec {
        name: EXECUTION_ROLE_NAME,
        kind: ParamKind::RoleName,
        default: None,
        required: false,
        description: "With assumeExecutionRole: assume this role (name, or path/name) in the evaluated \
                      account instead of the event's executionRoleArn, whose partition and account are \
                      kept; for recorders that use the service-linked role, which a function cannot assume.",
    },
];

/// Name of the common parameter that switches on the execution role.
pub const ASSUME_EXECUTION_ROLE: &str = "assumeExecutionRole";

/// Name of the common parameter that names the role to assume in the evaluated account.
pub const EXECUTION_ROLE_NAME: &str = "executionRoleName";

/// A checked parameter value.
#[derive(Debug, Clone)]
pub enum ParamValue {
    Bool(bool),
    Integer(i64),
    List(Vec<String>),
    Regex(regex::Regex),
    Text(String),
}

/// A rule's parameters after checking: every declared parameter has its
/// value or its default; nothing undeclared is present.
#[derive(Debug, Clone, Default)]
pub struct Parameters {
    values: BTreeMap<&'static str, ParamValue>,
}

impl Parameters {
    /// Checks raw parameters against the rule's declarations (plus
    /// [`COMMON`]). Unknown names, malformed values and missing required
    /// parameters are errors naming the parameter and what was expected.
    pub fn parse(specs: &[ParamSpec], raw: &BTreeMap<String, String>) -> Result<Self, Error> {
        let all = || specs.iter().chain(COMMON.iter());
        for name in raw.keys() {
            if !all().any(|s| s.name == name) {
                let known: Vec<&str> = all().map(|s| s.name).collect();
                return Err(Error::parameter(
                    name.as_str(),
                    format!("unknown parameter (this rule accepts: {})", known.join(", ")),
                ));
            }
        }
        let mut values = BTreeMap::new();
        for spec in all() {
            let given = raw.get(spec.name).map(|s| s.trim()).filter(|s| !s.is_empty());
            let text = match (given, spec.default) {
                (Some(v), _) => v,
                (None, Some(d)) => d,
                (None, None) if spec.required => {
                    return Err(Error::parameter(
                        spec.name,
                        format!("required, expected {}", expectation(spec.kind)),
                    ))
                }
                (None, None) => continue,
            };
            let value = parse_value(spec, text)?;
            if spec.required && matches!(&value, ParamValue::List(l) if l.is_empty()) {
                return Err(Error::parameter(
                    spec.name,
                    format!("required, expected {}, got an empty list", expectation(spec.kind)),
                ));
            }
            values.insert(spec.name, value);
        }
        Ok(Parameters { values })
    }

    /// A boolean parameter; `false` when it is not declared.
    pub fn bool(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(ParamValue::Bool(true)))
    }

    /// A list parameter; empty when absent.
    pub fn list(&self, name: &str) -> &[String] {
        match self.values.get(name) {
            Some(ParamValue::List(l)) => l,
            _ => &[],
        }
    }

    /// A regular expression parameter, compiled.
    pub fn regex(&self, name: &str) -> Option<&regex::Regex> {
        match self.values.get(name) {
            Some(ParamValue::Regex(r)) => Some(r),
            _ => None,
        }
    }

    /// A text parameter (a role name); `None` when absent.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(ParamValue::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// An integer parameter.
    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.values.get(name) {
            Some(ParamValue::Integer(i)) => Some(*i),
            _ => None,
        }
    }
}

fn expectation(kind: ParamKind) -> String {
    match kind {
        ParamKind::Bool => "`true` or `false`".into(),
        ParamKind::Integer { min, max } => format!("a whole number from {min} to {max}"),
        ParamKind::List => "a comma-separated list".into(),
        ParamKind::KeyList => {
            "a comma-separated list of KMS key ARNs, alias ARNs, alias names (alias/...) or key ids".into()
        }
        ParamKind::Regex { .. } => "a regular expression".into(),
        ParamKind::RoleName => "an IAM role name, or path/name (letters, digits and +=,.@_-)".into(),
        ParamKind::Region => "an AWS region code such as us-east-1".into(),
    }
}

fn parse_value(spec: &ParamSpec, text: &str) -> Result<ParamValue, Error> {
    let bad =
        |detail: String| Error::parameter(spec.name, format!("expected {}, got {detail}", expectation(spec.kind)));
    match spec.kind {
        ParamKind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(ParamValue::Bool(true)),
            "false" => Ok(ParamValue::Bool(false)),
            _ => Err(bad(format!("`{text}`"))),
        },
        ParamKind::Integer { min, max } => match text.parse::<i64>() {
            Ok(i) if (min..=max).contains(&i) => Ok(ParamValue::Integer(i)),
            _ => Err(bad(format!("`{text}`"))),
        },
        ParamKind::List => Ok(ParamValue::List(split_list(text))),
        ParamKind::KeyList => {
            let list = split_list(text);
            if let Some(wrong) = list.iter().find(|k| !is_key_reference(k)) {
                return Err(bad(format!("`{wrong}`")));
            }
            Ok(ParamValue::List(list))
        }
        ParamKind::Regex { case_insensitive } => regex::RegexBuilder::new(text)
            .case_insensitive(case_insensitive)
            .size_limit(1 << 20)
            .build()
            .map(ParamValue::Regex)
            .map_err(|e| {
                bad(format!(
                    "`{text}` ({})",
                    e.to_string().lines().last().unwrap_or("invalid")
                ))
            }),
        ParamKind::RoleName if is_role_name(text) => Ok(ParamValue::Text(text.to_owned())),
        ParamKind::RoleName => Err(bad(format!("`{text}`"))),
        ParamKind::Region if is_region(text) => Ok(ParamValue::Text(text.to_owned())),
        ParamKind::Region => Err(bad(format!("`{text}`"))),
    }
}

/// Splits a comma-separated list: entries trimmed, empty ones dropped.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `s` names a KMS key: a key or alias ARN, an alias name, or a key
/// id (a UUID, or `mrk-` and 32 hex digits for multi-Region keys).
pub fn is_key_reference(s: &str) -> bool {
    if let Some(name) = s.strip_prefix("alias/") {
        return is_alias_name(name);
    }
    if let Some(rest) = s.strip_prefix("arn:") {
        // arn:PARTITION:kms:REGION:ACCOUNT:key/ID | alias/NAME
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, region, account, resource] = parts.as_slice() else {
            return false;
        };
        return partition.starts_with("aws")
            && *service == "kms"
            && !region.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && (resource.strip_prefix("key/").is_some_and(is_key_id)
                || resource.strip_prefix("alias/").is_some_and(is_alias_name));
    }
    is_key_id(s)
}

/// Whether `s` is a role name with an optional path (`path/to/name`): IAM's
/// characters, a name of at most 64 and a path of at most 512.
pub fn is_role_name(s: &str) -> bool {
    let iam_chars = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
    };
    let name = s.rsplit('/').next().unwrap_or(s);
    name.len() <= 64 && s.len() - name.len() <= 512 && s.split('/').all(iam_chars)
}

/// Whether `s` reads as a region code: lower-case words joined by `-`,
/// ending in a number (`eu-west-1`, `us-gov-west-1`, `ap-southeast-5`).
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

fn is_alias_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 250 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))
}

/// A key id: a UUID, or a multi-Region key id `mrk-` + 32 hex digits.
pub fn is_key_id(s: &str) -> bool {
    if let Some(hex) = s.strip_prefix("mrk-") {
        return hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}
