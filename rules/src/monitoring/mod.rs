//! What `kms-critical-calls-monitored` needs to tell whether a filter
//! catches **every** call of a kind: the fields such a call's CloudTrail
//! event is known to carry, and three-valued logic for filters that look at
//! anything else.
//!
//! A filter is judged against one call (say `DisableKey`): each test on a
//! field whose value every such event shares (`eventSource`, `eventName`,
//! `eventType`, ...) is true or false; a test on any other field (the
//! caller, the key, the time) is *unknown*, since it holds for some of those
//! events and not others. The filter catches every call only when the whole
//! expression is true whatever the unknowns are (Kleene logic): `eventName =
//! DisableKey && userIdentity.type = Root` is unknown, not true.

pub mod event_pattern;
pub mod facts;
pub mod log_filter;

/// Kleene's three truth values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    /// Depends on fields that differ from one call to the next.
    Unknown,
}

impl Truth {
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    pub fn negate(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    pub fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// A value every CloudTrail event of one KMS API call carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    Text(String),
    Bool(bool),
}

/// One KMS API call, as its CloudTrail management event shows it in every
/// case (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>).
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// The API action: `DisableKey`.
    pub name: &'a str,
    /// The account the events are recorded in, where known.
    pub account: Option<&'a str>,
    /// The region of the calls (the rule's region), where known.
    pub region: Option<&'a str>,
}

impl Call<'_> {
    /// The value of a field of the CloudTrail record (`eventName`,
    /// `userIdentity.type` as `["userIdentity", "type"]`) that is the same
    /// in every event of the call; `None` when it varies or is not known.
    pub fn record_field(&self, path: &[&str]) -> Option<Known> {
        let text = |s: &str| Some(Known::Text(s.to_owned()));
        match path {
            ["eventSource"] => text("kms.amazonaws.com"),
            ["eventName"] => text(self.name),
            ["eventType"] => text("AwsApiCall"),
            ["eventCategory"] => text("Management"),
            ["managementEvent"] => Some(Known::Bool(true)),
            // Every critical call changes the key: none is read-only.
            ["readOnly"] => Some(Known::Bool(false)),
            ["awsRegion"] => self.region.and_then(text),
            ["recipientAccountId"] => self.account.and_then(text),
            _ => None,
        }
    }

    /// The value of a field of the EventBridge event (`source`,
    /// `detail-type`, `detail.eventName` as `["detail", "eventName"]`) that
    /// is the same in every event of the call.
    pub fn event_field(&self, path: &[&str]) -> Option<Known> {
        let text = |s: &str| Some(Known::Text(s.to_owned()));
        match path {
            ["source"] => text("aws.kms"),
            ["detail-type"] => text("AWS API Call via CloudTrail"),
            ["account"] => self.account.and_then(text),
            ["region"] => self.region.and_then(text),
            ["detail", rest @ ..] => self.record_field(rest),
            _ => None,
        }
    }
}

/// `*` in `pattern` matches any run of characters (CloudWatch Logs and
/// EventBridge wildcards); everything else is itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kleene_logic() {
        use Truth::*;
        assert_eq!(True.and(Unknown), Unknown);
        assert_eq!(False.and(Unknown), False);
        assert_eq!(True.or(Unknown), True);
        assert_eq!(False.or(Unknown), Unknown);
        assert_eq!(Unknown.negate(), Unknown);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("Disable*", "DisableKey"));
        assert!(wildcard_match("*Key*", "DisableKey"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("Disable*Rotation", "DisableKey"));
        assert!(wildcard_match("DisableKey", "DisableKey"));
        assert!(!wildcard_match("a*a", "a"));
    }

    #[test]
    fn only_fields_every_event_of_the_call_shares_are_known() {
        let call = Call {
            name: "DisableKey",
            account: Some("111122223333"),
            region: None,
        };
        assert_eq!(
            call.event_field(&["detail", "eventName"]),
            Some(Known::Text("DisableKey".into()))
        );
        assert_eq!(call.event_field(&["account"]), Some(Known::Text("111122223333".into())));
        assert_eq!(call.event_field(&["region"]), None);
        assert_eq!(call.event_field(&["detail", "userIdentity", "type"]), None);
        assert_eq!(call.record_field(&["readOnly"]), Some(Known::Bool(false)));
    }
}
