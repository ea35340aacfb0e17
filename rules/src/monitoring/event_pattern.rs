//! EventBridge event patterns, judged against one KMS API call: does the
//! pattern match every CloudTrail event of that call?
//!
//! The semantics are EventBridge's content filtering
//! (<https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html>):
//! every field of the pattern must match (AND), a field's array holds
//! alternatives (OR), nested objects name nested fields, `$or` holds
//! alternative patterns. Literal values, `prefix`, `suffix`,
//! `equals-ignore-case`, `wildcard`, `anything-but` and `exists` are
//! evaluated; any other filter (`numeric`, `cidr`) on a known field is
//! unknown, never a match.

use serde_json::{Map, Value};

use super::{wildcard_match, Call, Known, Truth};

/// Whether `pattern` (the rule's `EventPattern` text) matches every event
/// of `call`: true, false, or unknown; `Err` when it is not a pattern.
pub fn matches_every(pattern: &str, call: &Call<'_>) -> Result<Truth, String> {
    let value: Value = serde_json::from_str(pattern).map_err(|e| format!("the event pattern is not JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err("the event pattern is not a JSON object".into());
    };
    object_truth(&object, &mut Vec::new(), call)
}

fn object_truth<'p>(object: &'p Map<String, Value>, path: &mut Vec<&'p str>, call: &Call<'_>) -> Result<Truth, String> {
    let mut all = Truth::True;
    for (field, value) in object {
        let truth = if field == "$or" {
            let Value::Array(alternatives) = value else {
                return Err("`$or` does not hold an array".into());
            };
            let mut any = Truth::False;
            for alternative in alternatives {
                let Value::Object(alternative) = alternative else {
                    return Err("an alternative of `$or` is not an object".into());
                };
                any = any.or(object_truth(alternative, path, call)?);
            }
            any
        } else {
            path.push(field);
            let truth = match value {
                Value::Object(nested) => object_truth(nested, path, call)?,
                Value::Array(alternatives) => leaf_truth(alternatives, call.event_field(path).as_ref()),
                other => return Err(format!("field `{field}` holds {other}, not an array or an object")),
            };
            path.pop();
            truth
        };
        all = all.and(truth);
    }
    Ok(all)
}

/// One field's alternatives against the value every event of the call has
/// there (`None`: it varies).
fn leaf_truth(alternatives: &[Value], known: Option<&Known>) -> Truth {
    let Some(known) = known else {
        return Truth::Unknown;
    };
    alternatives
        .iter()
        .fold(Truth::False, |any, filter| any.or(filter_truth(filter, known)))
}

fn filter_truth(filter: &Value, known: &Known) -> Truth {
    let Value::Object(operator) = filter else {
        return Truth::from_bool(literal(filter, known));
    };
    let [(name, operand)] = operator.iter().collect::<Vec<_>>()[..] else {
        return Truth::Unknown;
    };
    let text = match known {
        Known::Text(t) => Some(t.as_str()),
        Known::Bool(_) => None,
    };
    match (name.as_str(), operand, text) {
        ("exists", Value::Bool(exists), _) => Truth::from_bool(*exists),
        ("prefix", Value::String(p), Some(t)) => Truth::from_bool(t.starts_with(p.as_str())),
        ("prefix", Value::Object(o), Some(t)) => match o.get("equals-ignore-case") {
            Some(Value::String(p)) if o.len() == 1 => Truth::from_bool(t.to_lowercase().starts_with(&p.to_lowercase())),
            _ => Truth::Unknown,
        },
        ("suffix", Value::String(s), Some(t)) => Truth::from_bool(t.ends_with(s.as_str())),
        ("equals-ignore-case", Value::String(s), Some(t)) => Truth::from_bool(t.eq_ignore_ascii_case(s)),
        ("wildcard", Value::String(w), Some(t)) => Truth::from_bool(wildcard_match(w, t)),
        ("anything-but", operand, _) => anything_but(operand, known),
        // Text operators on a boolean field match nothing.
        ("prefix" | "suffix" | "equals-ignore-case" | "wildcard", _, None) => Truth::False,
        _ => Truth::Unknown,
    }
}

fn anything_but(operand: &Value, known: &Known) -> Truth {
    match operand {
        Value::Array(values) => Truth::from_bool(!values.iter().any(|v| literal(v, known))),
        Value::Object(_) => filter_truth(operand, known).negate(),
        literal_value => Truth::from_bool(!literal(literal_value, known)),
    }
}

fn literal(value: &Value, known: &Known) -> bool {
    match (value, known) {
        (Value::String(s), Known::Text(t)) => s == t,
        (Value::Bool(b), Known::Bool(k)) => b == k,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(pattern: &str, name: &str) -> Truth {
        let call = Call {
            name,
            account: Some("111122223333"),
            region: Some("eu-west-1"),
        };
        matches_every(pattern, &call).unwrap()
    }

    #[test]
    fn the_documented_kms_api_call_pattern_matches_its_calls_only() {
        let p = r#"{"source":["aws.kms"],"detail-type":["AWS API Call via CloudTrail"],
                    "detail":{"eventSource":["kms.amazonaws.com"],"eventName":["DisableKey","ScheduleKeyDeletion"]}}"#;
        assert_eq!(truth(p, "DisableKey"), Truth::True);
        assert_eq!(truth(p, "ScheduleKeyDeletion"), Truth::True);
        assert_eq!(truth(p, "PutKeyPolicy"), Truth::False);
    }

    #[test]
    fn every_kms_event_is_every_call() {
        assert_eq!(truth(r#"{"source":["aws.kms"]}"#, "DeleteAlias"), Truth::True);
        assert_eq!(truth(r#"{"source":[{"prefix":"aws."}]}"#, "DeleteAlias"), Truth::True);
        assert_eq!(truth(r#"{"source":["aws.ec2"]}"#, "DeleteAlias"), Truth::False);
    }

    #[test]
    fn a_filter_on_what_varies_between_calls_is_not_every_call() {
        let p = r#"{"source":["aws.kms"],"detail":{"eventName":["DisableKey"],"userIdentity":{"type":["Root"]}}}"#;
        assert_eq!(truth(p, "DisableKey"), Truth::Unknown);
        // Unless an alternative catches them all.
        let p = r#"{"$or":[{"detail":{"userIdentity":{"type":["Root"]}}},{"detail":{"eventName":["DisableKey"]}}]}"#;
        assert_eq!(truth(p, "DisableKey"), Truth::True);
        assert_eq!(truth(p, "DeleteAlias"), Truth::Unknown);
    }

    #[test]
    fn content_filters() {
        let p = |f: &str| format!(r#"{{"detail":{{"eventName":[{f}]}}}}"#);
        assert_eq!(truth(&p(r#"{"prefix":"Disable"}"#), "DisableKey"), Truth::True);
        assert_eq!(truth(&p(r#"{"suffix":"Key"}"#), "DisableKey"), Truth::True);
        assert_eq!(truth(&p(r#"{"wildcard":"*Key*"}"#), "DeleteAlias"), Truth::False);
        assert_eq!(
            truth(&p(r#"{"equals-ignore-case":"disablekey"}"#), "DisableKey"),
            Truth::True
        );
        assert_eq!(
            truth(&p(r#"{"anything-but":["Decrypt","Encrypt"]}"#), "DisableKey"),
            Truth::True
        );
        assert_eq!(
            truth(&p(r#"{"anything-but":"DisableKey"}"#), "DisableKey"),
            Truth::False
        );
        assert_eq!(
            truth(&p(r#"{"anything-but":{"prefix":"Disable"}}"#), "DisableKey"),
            Truth::False
        );
        assert_eq!(truth(&p(r#"{"exists":true}"#), "DisableKey"), Truth::True);
        assert_eq!(truth(&p(r#"{"numeric":[">",0]}"#), "DisableKey"), Truth::Unknown);
        assert_eq!(truth(r#"{"detail":{"readOnly":[false]}}"#, "DisableKey"), Truth::True);
        assert_eq!(truth(r#"{"detail":{"readOnly":[true]}}"#, "DisableKey"), Truth::False);
    }

    #[test]
    fn what_is_not_a_pattern_is_an_error() {
        let call = Call {
            name: "DisableKey",
            account: None,
            region: None,
        };
        assert!(matches_every("[1]", &call).is_err());
        assert!(matches_every("{", &call).is_err());
        assert!(matches_every(r#"{"source":"aws.kms"}"#, &call).is_err());
    }
}
