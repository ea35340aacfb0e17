//! What an account's monitoring of its KMS calls is made of: its trails,
//! its EventBridge rules and its metric filters with their alarms, read
//! live (`kms-critical-calls-monitored`'s sweep) or recorded in an
//! `AWS::::Account` item (the CLI and the fixtures). Every field missing
//! from a record reads as the absence of what would make a call heard: no
//! trail, not logging, disabled, no target, no alarm.

use serde::Deserialize;

/// The account's monitoring in one region.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Facts {
    #[serde(default)]
    pub trails: Vec<TrailFacts>,
    /// Why the trails could not be listed.
    #[serde(default)]
    pub trails_unreadable: Option<String>,
    /// The rules of the region's default event bus.
    #[serde(default)]
    pub event_rules: Vec<EventRuleFacts>,
    #[serde(default)]
    pub event_rules_unreadable: Option<String>,
    /// The metric filters of the trails' log groups.
    #[serde(default)]
    pub metric_filters: Vec<FilterFacts>,
    /// Why a log group's metric filters could not be read, one sentence each.
    #[serde(default)]
    pub metric_filters_unreadable: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrailFacts {
    pub name: String,
    #[serde(default)]
    pub multi_region: bool,
    /// `None` when not known (status not read, or unreadable).
    #[serde(default)]
    pub logging: Option<bool>,
    #[serde(default)]
    pub status_unreadable: Option<String>,
    #[serde(default)]
    pub event_selectors: Vec<BasicSelector>,
    #[serde(default)]
    pub advanced_event_selectors: Vec<AdvancedSelector>,
    #[serde(default)]
    pub selectors_unreadable: Option<String>,
    /// `CloudWatchLogsLogGroupArn`.
    #[serde(default)]
    pub log_group_arn: Option<String>,
}

/// A basic event selector; absent values mean what CloudTrail's API says
/// they mean (`All`, management events included).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BasicSelector {
    #[serde(default)]
    pub read_write_type: Option<String>,
    #[serde(default)]
    pub include_management_events: Option<bool>,
    #[serde(default)]
    pub exclude_management_event_sources: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvancedSelector {
    #[serde(default)]
    pub field_selectors: Vec<FieldSelector>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSelector {
    pub field: String,
    #[serde(default)]
    pub equals: Vec<String>,
    #[serde(default)]
    pub not_equals: Vec<String>,
    #[serde(default)]
    pub starts_with: Vec<String>,
    #[serde(default)]
    pub not_starts_with: Vec<String>,
    #[serde(default)]
    pub ends_with: Vec<String>,
    #[serde(default)]
    pub not_ends_with: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventRuleFacts {
    pub name: String,
    #[serde(default)]
    pub event_pattern: Option<String>,
    /// `ENABLED`, `DISABLED`, `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    #[serde(default)]
    pub state: Option<String>,
    /// How many targets it has; `None` when not read.
    #[serde(default)]
    pub targets: Option<usize>,
    #[serde(default)]
    pub targets_unreadable: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterFacts {
    /// The trail whose log group holds it.
    pub trail: String,
    pub name: String,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub metrics: Vec<MetricFacts>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricFacts {
    pub name: String,
    pub namespace: String,
    #[serde(default)]
    pub alarms: Vec<AlarmFacts>,
    #[serde(default)]
    pub alarms_unreadable: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlarmFacts {
    pub name: String,
    #[serde(default)]
    pub actions_enabled: bool,
    /// How many alarm actions it has.
    #[serde(default)]
    pub actions: usize,
}

const KMS_SOURCE: &str = "kms.amazonaws.com";

impl BasicSelector {
    /// Whether it records the KMS management write events.
    pub fn records_kms(&self) -> bool {
        let writes = matches!(self.read_write_type.as_deref(), None | Some("All" | "WriteOnly"));
        self.include_management_events.unwrap_or(true)
            && writes
            && !self.exclude_management_event_sources.iter().any(|e| e == KMS_SOURCE)
    }
}

impl AdvancedSelector {
    /// Whether it records every KMS management write event:
    /// `eventCategory` equals `Management`, and every other field is
    /// `readOnly` (not limited to `true`) or `eventSource` (not excluding
    /// KMS). A selector with any other field or operator is not relied on.
    pub fn records_kms(&self) -> bool {
        let mut management = false;
        for f in &self.field_selectors {
            let only_equals = f.starts_with.is_empty()
                && f.ends_with.is_empty()
                && f.not_starts_with.is_empty()
                && f.not_ends_with.is_empty();
            let ok = match f.field.as_str() {
                "eventCategory" => {
                    management = only_equals && f.not_equals.is_empty() && f.equals.iter().any(|e| e == "Management");
                    management
                }
                "readOnly" => {
                    only_equals && !f.equals.iter().any(|e| e == "true") && !f.not_equals.iter().any(|e| e == "false")
                }
                "eventSource" => {
                    only_equals
                        && (f.equals.is_empty() || f.equals.iter().any(|e| e == KMS_SOURCE))
                        && !f.not_equals.iter().any(|e| e == KMS_SOURCE)
                }
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        management
    }
}

impl TrailFacts {
    /// `None` when it records the KMS calls of every region while logging;
    /// else why not.
    pub fn why_not_recording(&self) -> Option<String> {
        let name = &self.name;
        if !self.multi_region {
            return Some(format!("trail {name} is single-region"));
        }
        if let Some(why) = &self.status_unreadable {
            return Some(why.clone());
        }
        if self.logging != Some(true) {
            return Some(format!("trail {name} is not logging"));
        }
        if let Some(why) = &self.selectors_unreadable {
            return Some(why.clone());
        }
        let records = self.event_selectors.iter().any(BasicSelector::records_kms)
            || self.advanced_event_selectors.iter().any(AdvancedSelector::records_kms);
        (!records).then(|| format!("trail {name} does not record KMS management write events"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, equals: &[&str], not_equals: &[&str]) -> FieldSelector {
        FieldSelector {
            field: name.into(),
            equals: equals.iter().map(|s| s.to_string()).collect(),
            not_equals: not_equals.iter().map(|s| s.to_string()).collect(),
            ..FieldSelector::default()
        }
    }

    fn advanced(field_selectors: Vec<FieldSelector>) -> AdvancedSelector {
        AdvancedSelector { field_selectors }
    }

    #[test]
    fn basic_selectors_record_kms_writes_unless_they_leave_them_out() {
        let basic = |rw: Option<&str>, management: Option<bool>, excluded: &[&str]| BasicSelector {
            read_write_type: rw.map(str::to_owned),
            include_management_events: management,
            exclude_management_event_sources: excluded.iter().map(|s| s.to_string()).collect(),
        };
        assert!(basic(None, None, &[]).records_kms());
        assert!(basic(Some("WriteOnly"), Some(true), &[]).records_kms());
        assert!(!basic(Some("ReadOnly"), Some(true), &[]).records_kms());
        assert!(!basic(Some("All"), Some(false), &[]).records_kms());
        assert!(!basic(None, None, &["kms.amazonaws.com"]).records_kms());
        assert!(basic(None, None, &["rdsdata.amazonaws.com"]).records_kms());
    }

    #[test]
    fn advanced_selectors_count_only_when_every_field_is_understood() {
        let management = || field("eventCategory", &["Management"], &[]);
        assert!(advanced(vec![management()]).records_kms());
        assert!(advanced(vec![management(), field("readOnly", &["false"], &[])]).records_kms());
        assert!(!advanced(vec![management(), field("readOnly", &["true"], &[])]).records_kms());
        assert!(!advanced(vec![management(), field("eventSource", &[], &["kms.amazonaws.com"])]).records_kms());
        assert!(advanced(vec![
            management(),
            field("eventSource", &[], &["rdsdata.amazonaws.com"])
        ])
        .records_kms());
        assert!(!advanced(vec![field("eventCategory", &["Data"], &[])]).records_kms());
        assert!(!advanced(vec![management(), field("userIdentity.arn", &["x"], &[])]).records_kms());
        let mut prefixed = management();
        prefixed.starts_with = vec!["Man".into()];
        assert!(!advanced(vec![prefixed]).records_kms());
    }

    #[test]
    fn a_recorded_item_missing_facts_hears_nothing() {
        let facts: Facts = serde_json::from_str(r#"{"trails": [{"name": "t", "multiRegion": true}]}"#).unwrap();
        assert_eq!(
            facts.trails[0].why_not_recording().as_deref(),
            Some("trail t is not logging")
        );
        assert!(
            serde_json::from_str::<Facts>(r#"{"trail": []}"#).is_err(),
            "unknown fields are refused"
        );
    }
}
