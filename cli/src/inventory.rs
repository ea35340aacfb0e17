//! The key inventory of `scan` and `snapshot`: per KMS key, who manages it,
//! its state and rotation, its owner, and the resources the run found under
//! it, by type. A customer-managed key that is pending deletion or disabled
//! and still protects resources is a finding of its own; one that protects
//! nothing the run read is listed as unused.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use atrest_common::keys::{KeyUse, Rotation};
use atrest_common::{KeyDirectory, KeyFacts, KeyManager, Lookup};
use aws_smithy_types::date_time::Format as DateFormat;
use serde::Serialize;

use crate::error::CliError;

/// States in which a key cannot decrypt, or soon will not.
const UNUSABLE: [&str; 3] = ["PendingDeletion", "PendingReplicaDeletion", "Disabled"];

/// The inventory of one run.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub keys: Vec<KeyEntry>,
    /// The resource types whose resources were read for it.
    pub resource_types: Vec<String>,
}

/// One key, or one key reference that did not resolve.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyEntry {
    /// The key ARN; the reference as recorded when it did not resolve to one.
    pub key: String,
    pub key_id: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// `CUSTOMER` or `AWS`; `None` when the key could not be read.
    pub manager: Option<&'static str>,
    /// The key state (`Enabled`, `Disabled`, `PendingDeletion`, ...),
    /// `NotFound`, or `Unknown` when it could not be read.
    pub state: String,
    pub deletion_date: Option<String>,
    /// `ENABLED`, `DISABLED`, `NOT_SUPPORTED`, or `UNKNOWN`.
    pub rotation: &'static str,
    pub rotation_period_days: Option<i32>,
    /// Why something of the key is unknown.
    pub note: Option<String>,
    /// Resource ids by resource type: at most
    /// [`LISTED_PER_TYPE`](atrest_common::keys::LISTED_PER_TYPE) per
    /// reference to the key and type (the smallest ids).
    pub protects: BTreeMap<String, Vec<String>>,
    /// Every resource found under the key, listed or not.
    pub protected_resources: usize,
    /// Of those, how many `protects` leaves out.
    #[serde(skip_serializing_if = "is_zero")]
    pub unlisted: usize,
    /// A customer-managed key that protects none of the resources read.
    pub unused: bool,
    /// A customer-managed key that cannot decrypt (or soon will not) while
    /// resources still depend on it: the sentence saying so.
    pub finding: Option<String>,
}

impl Inventory {
    /// The keys with a finding.
    pub fn findings(&self) -> impl Iterator<Item = &KeyEntry> {
        self.keys.iter().filter(|k| k.finding.is_some())
    }

    /// Merges another run's inventory (another region) into this one.
    pub fn extend(&mut self, other: Inventory) {
        self.keys.extend(other.keys);
        self.resource_types.extend(other.resource_types);
        self.sort();
    }

    fn sort(&mut self) {
        self.keys
            .sort_by(|a, b| (&a.account_id, &a.region, &a.key).cmp(&(&b.account_id, &b.region, &b.key)));
        self.resource_types.sort();
        self.resource_types.dedup();
    }

    /// The inventory of what `keys` noted, with every key of `known` (the
    /// keys listed or recorded) whether anything uses it or not. `region`
    /// is the run's region, for references that do not name one.
    pub async fn build(
        keys: &KeyDirectory,
        known: impl IntoIterator<Item = String>,
        resource_types: Vec<String>,
        region: Option<&str>,
    ) -> Result<Self, CliError> {
        let mut entries: BTreeMap<(String, Option<String>), KeyEntry> = BTreeMap::new();
        for reference in known {
            let (id, entry) = resolve(keys, &reference, None, region).await?;
            // A key deleted since it was listed (or recorded) is not one.
            if entry.state != "NotFound" {
                entries.entry(id).or_insert(entry);
            }
        }
        // Each reference is resolved once, however many resources name it.
        let mut resolved: HashMap<(String, Option<String>), (String, Option<String>)> = HashMap::new();
        for KeyUse {
            key,
            account_id,
            by_type,
        } in keys.take_uses()
        {
            let named = (key, account_id);
            let id = match resolved.get(&named) {
                Some(id) => id.clone(),
                None => {
                    let (id, entry) = resolve(keys, &named.0, named.1.as_deref(), region).await?;
                    entries.entry(id.clone()).or_insert(entry);
                    resolved.insert(named, id.clone());
                    id
                }
            };
            if let Some(entry) = entries.get_mut(&id) {
                for (resource_type, of_type) in by_type {
                    entry.protected_resources += of_type.count;
                    entry.unlisted += of_type.count - of_type.listed.len();
                    entry.protects.entry(resource_type).or_default().extend(of_type.listed);
                }
            }
        }
        let mut inventory = Inventory {
            keys: Vec::with_capacity(entries.len()),
            resource_types,
        };
        for (_, mut entry) in entries {
            for ids in entry.protects.values_mut() {
                ids.sort();
                ids.dedup();
            }
            judge(&mut entry);
            inventory.keys.push(entry);
        }
        inventory.sort();
        Ok(inventory)
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The entry of the key `reference` names, and its identity: the key ARN
/// when it resolves, else the reference in the account that named it.
async fn resolve(
    keys: &KeyDirectory,
    reference: &str,
    account: Option<&str>,
    region: Option<&str>,
) -> Result<((String, Option<String>), KeyEntry), CliError> {
    let failed = |source| CliError::Rule {
        path: "key inventory".into(),
        source,
    };
    let lookup = keys.key(reference).await.map_err(failed)?;
    let mut entry = KeyEntry {
        key: reference.to_owned(),
        key_id: None,
        account_id: arn_part(reference, 4).or(account.map(str::to_owned)),
        region: arn_part(reference, 3).or(region.map(str::to_owned)),
        manager: None,
        state: "Unknown".into(),
        deletion_date: None,
        rotation: "UNKNOWN",
        rotation_period_days: None,
        note: None,
        protects: BTreeMap::new(),
        protected_resources: 0,
        unlisted: 0,
        unused: false,
        finding: None,
    };
    let facts: Arc<KeyFacts> = match lookup {
        Lookup::Found(facts) => facts,
        Lookup::NotFound(why) => {
            entry.state = "NotFound".into();
            entry.note = Some(why);
            return Ok(((reference.to_owned(), entry.account_id.clone()), entry));
        }
        Lookup::Unreadable(why) => {
            entry.note = Some(why);
            return Ok(((reference.to_owned(), entry.account_id.clone()), entry));
        }
    };
    entry.manager = Some(match facts.manager {
        KeyManager::Customer => "CUSTOMER",
        KeyManager::Aws => "AWS",
    });
    if facts.state.is_empty() {
        // `alias/aws/...` is known to be AWS-managed without a call.
        entry.note = Some(format!("{reference} names an AWS-managed key; it was not looked up"));
        return Ok(((reference.to_owned(), entry.account_id.clone()), entry));
    }
    entry.key.clone_from(&facts.arn);
    entry.key_id = Some(facts.key_id.clone());
    entry.account_id = facts
        .account_id
        .clone()
        .or_else(|| arn_part(&facts.arn, 4))
        .or(entry.account_id);
    entry.region = arn_part(&facts.arn, 3).or(entry.region);
    entry.state.clone_from(&facts.state);
    entry.deletion_date = facts.deletion_date.and_then(|d| d.fmt(DateFormat::DateTime).ok());
    match keys.rotation(&facts).await.map_err(failed)? {
        Lookup::Found(Rotation { supported: false, .. }) => entry.rotation = "NOT_SUPPORTED",
        Lookup::Found(Rotation {
            enabled, period_days, ..
        }) => {
            entry.rotation = if enabled { "ENABLED" } else { "DISABLED" };
            entry.rotation_period_days = period_days.filter(|_| enabled);
        }
        Lookup::NotFound(why) | Lookup::Unreadable(why) => entry.note = Some(format!("rotation: {why}")),
    }
    Ok(((facts.arn.clone(), None), entry))
}

/// Field `n` (0-based) of an ARN split on `:`, when not empty.
fn arn_part(reference: &str, n: usize) -> Option<String> {
    reference
        .strip_prefix("arn:")
        .and_then(|_| reference.split(':').nth(n))
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
}

/// Marks an unused key, and a key that cannot decrypt while resources
/// depend on it.
fn judge(entry: &mut KeyEntry) {
    if entry.manager != Some("CUSTOMER") {
        return;
    }
    if entry.protected_resources == 0 {
        entry.unused = true;
        return;
    }
    if !UNUSABLE.contains(&entry.state.as_str()) {
        return;
    }
    let mut resources: Vec<String> = entry
        .protects
        .iter()
        .flat_map(|(t, ids)| ids.iter().map(move |id| format!("{t} {id}")))
        .collect();
    if entry.unlisted > 0 {
        resources.push(format!("and {} more", entry.unlisted));
    }
    let what = if entry.state == "Disabled" {
        "is disabled: their data cannot be decrypted until it is enabled again".to_owned()
    } else {
        format!(
            "is pending deletion{}: their data becomes unreadable when it is deleted",
            entry
                .deletion_date
                .as_deref()
                .map(|d| format!(" (deletion on {d})"))
                .unwrap_or_default()
        )
    };
    entry.finding = Some(format!(
        "Customer-managed KMS key {} still protects {} resource{} ({}) and {what}.",
        entry.key,
        entry.protected_resources,
        if entry.protected_resources == 1 { "" } else { "s" },
        resources.join(", ")
    ));
}

/// The resource types of `rules` whose resources are protected by keys
/// (not the keys, aliases, IAM policies and account settings the key and
/// IAM rules judge): the types whose keys the run noted.
pub fn resource_types(rules: &[&'static atrest_common::RuleSpec]) -> Vec<String> {
    let judged_elsewhere =
        |t: &str| t.starts_with("AWS::KMS::") || t.starts_with("AWS::IAM::") || t == "AWS::::Account";
    let types: BTreeSet<&str> = rules
        .iter()
        .flat_map(|r| r.resource_types.iter().copied())
        .filter(|t| !judged_elsewhere(t))
        .collect();
    types.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use atrest_common::keys::{ItemKeySource, DEFAULT_TTL};
    use atrest_common::ConfigurationItem;
    use serde_json::json;

    const ACCOUNT: &str = "111122223333";

    fn key_item(id: &str, state: &str, manager: &str) -> ConfigurationItem {
        let arn = format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{id}");
        serde_json::from_value(json!({
            "resourceType": "AWS::KMS::Key",
            "resourceId": id,
            "ARN": arn,
            "awsAccountId": ACCOUNT,
            "awsRegion": "eu-west-1",
            "configurationItemStatus": "OK",
            "configurationItemCaptureTime": "2026-11-01T00:00:00.000Z",
            "configuration": {
                "keyId": id, "arn": arn, "keyManager": manager, "keyState": state,
                "keySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS",
                "deletionDate": if state == "PendingDeletion" { json!("2026-12-10T00:00:00.000Z") } else { json!(null) },
            },
            "supplementaryConfiguration": {"KeyRotationStatus": "true"},
            "tags": {},
        }))
        .unwrap()
    }

    async fn inventory(items: &[ConfigurationItem], uses: &[(&str, &str, &str)]) -> Inventory {
        let keys = KeyDirectory::new(ItemKeySource::from_items(items), DEFAULT_TTL).noting_uses();
        for (t, id, key) in uses {
            keys.note_use(t, id, key, Some(ACCOUNT));
        }
        let known = items.iter().filter_map(|i| i.arn.clone());
        Inventory::build(&keys, known, vec!["AWS::EC2::Volume".into()], None)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_pending_deletion_key_that_protects_a_volume_is_a_finding_naming_it() {
        let items = [key_item("k-gone", "PendingDeletion", "CUSTOMER")];
        let arn = format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/k-gone");
        let inv = inventory(&items, &[("AWS::EC2::Volume", "vol-1", &arn)]).await;
        let [key] = &inv.keys[..] else { panic!("{inv:?}") };
        assert_eq!(key.state, "PendingDeletion");
        assert_eq!(key.protects["AWS::EC2::Volume"], ["vol-1"]);
        let finding = key.finding.as_deref().unwrap();
        assert!(finding.contains("AWS::EC2::Volume vol-1"), "{finding}");
        assert!(finding.contains("deletion on 2026-12-10"), "{finding}");
        assert!(!key.unused);
    }

    #[tokio::test]
    async fn a_key_protecting_more_than_the_list_holds_counts_them_all_and_says_how_many_are_unlisted() {
        let items = [key_item("k-big", "Disabled", "CUSTOMER")];
        let ids: Vec<String> = (0..atrest_common::keys::LISTED_PER_TYPE + 5)
            .map(|i| format!("vol-{i:05}"))
            .collect();
        let uses: Vec<(&str, &str, &str)> = ids
            .iter()
            .map(|id| ("AWS::EC2::Volume", id.as_str(), "k-big"))
            .collect();
        let inv = inventory(&items, &uses).await;
        let [key] = &inv.keys[..] else { panic!("{inv:?}") };
        assert_eq!(key.protected_resources, ids.len());
        assert_eq!(key.unlisted, 5);
        assert_eq!(
            key.protects["AWS::EC2::Volume"].len(),
            atrest_common::keys::LISTED_PER_TYPE
        );
        let finding = key.finding.as_deref().unwrap();
        assert!(
            finding.contains(&format!("still protects {} resources", ids.len())),
            "{finding}"
        );
        assert!(
            finding.contains("vol-00000") && finding.contains(", and 5 more)"),
            "{finding}"
        );
    }

    #[tokio::test]
    async fn a_disabled_key_with_resources_is_a_finding_and_an_enabled_one_is_not() {
        let items = [
            key_item("k-off", "Disabled", "CUSTOMER"),
            key_item("k-on", "Enabled", "CUSTOMER"),
        ];
        let arn = |id: &str| format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{id}");
        let inv = inventory(
            &items,
            &[
                ("AWS::EC2::Volume", "vol-1", &arn("k-off")),
                // The key named by its id resolves to the same entry.
                ("AWS::EC2::Volume", "vol-2", "k-on"),
                ("AWS::EC2::Volume", "vol-3", &arn("k-on")),
            ],
        )
        .await;
        assert_eq!(inv.keys.len(), 2, "{inv:?}");
        let off = inv.keys.iter().find(|k| k.key.ends_with("k-off")).unwrap();
        assert!(off.finding.as_deref().unwrap().contains("is disabled"), "{off:?}");
        let on = inv.keys.iter().find(|k| k.key.ends_with("k-on")).unwrap();
        assert_eq!(on.finding, None);
        assert_eq!(on.protected_resources, 2);
        assert_eq!(on.rotation, "ENABLED");
    }

    #[tokio::test]
    async fn a_customer_key_nothing_uses_is_unused_and_an_aws_key_never_is() {
        let items = [
            key_item("k-idle", "Enabled", "CUSTOMER"),
            key_item("k-aws", "Enabled", "AWS"),
            key_item("k-idle-gone", "PendingDeletion", "CUSTOMER"),
        ];
        let inv = inventory(&items, &[]).await;
        let unused: Vec<&str> = inv.keys.iter().filter(|k| k.unused).map(|k| k.key.as_str()).collect();
        assert_eq!(
            unused,
            [
                format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/k-idle"),
                format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/k-idle-gone")
            ]
        );
        assert_eq!(inv.findings().count(), 0, "nothing depends on them");
    }

    #[tokio::test]
    async fn a_reference_that_does_not_resolve_is_listed_with_why_and_no_verdict() {
        let inv = inventory(&[], &[("AWS::EC2::Volume", "vol-1", "alias/missing")]).await;
        let [key] = &inv.keys[..] else { panic!("{inv:?}") };
        assert_eq!(
            (key.key.as_str(), key.state.as_str(), key.manager),
            ("alias/missing", "Unknown", None)
        );
        assert!(key.note.as_deref().unwrap().contains("alias/missing"), "{key:?}");
        assert_eq!((key.unused, key.finding.as_deref()), (false, None));
        assert_eq!(key.account_id.as_deref(), Some(ACCOUNT));
    }
}
