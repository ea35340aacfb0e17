//! Which resources the rules found under which key: noted by the resource
//! layer while it judges, read afterwards by the CLI's key inventory. Off
//! unless asked for ([`KeyDirectory::noting_uses`](super::KeyDirectory::noting_uses)),
//! so a Lambda function keeps nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

/// At most this many resource ids are kept per key reference and resource
/// type (the smallest, so the list does not depend on the order things
/// were judged in); the others are counted. A snapshot of a million items
/// is thus noted in the memory of its keys, not of its resources.
pub const LISTED_PER_TYPE: usize = 1000;

/// The resources of one type noted under one key reference.
#[derive(Debug, Clone, Default)]
pub struct TypeUses {
    /// The smallest [`LISTED_PER_TYPE`] resource ids, sorted.
    pub listed: BTreeSet<String>,
    /// Every distinct resource, listed or not.
    pub count: usize,
    /// A keyed 64-bit hash of every resource id noted: each is counted
    /// once (two ids sharing a hash would be counted as one; with the
    /// random key, a chance of about n²/2⁶⁵).
    seen: HashSet<u64>,
}

/// The resources noted under one key, as their records name it.
#[derive(Debug, Clone)]
pub struct KeyUse {
    /// The key as the resources name it: key id, key ARN, alias or alias ARN.
    pub key: String,
    /// The account the resources were judged in, where known.
    pub account_id: Option<String>,
    /// By resource type.
    pub by_type: BTreeMap<String, TypeUses>,
}

/// A key reference, in the account that named it.
type Named = (String, Option<String>);

/// The uses noted so far, by key reference and account, then resource type.
#[derive(Debug, Default)]
pub(super) struct UseLog {
    uses: Mutex<BTreeMap<Named, BTreeMap<String, TypeUses>>>,
    hashing: RandomState,
}

impl UseLog {
    pub(super) fn note(&self, resource_type: &str, resource_id: &str, key: &str, account_id: Option<&str>) {
        let hash = self.hashing.hash_one(resource_id);
        // A poisoned log still holds what was noted before the panic.
        let mut uses = self.uses.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let by_type = uses.entry((key.to_owned(), account_id.map(str::to_owned))).or_default();
        let of_type = match by_type.get_mut(resource_type) {
            Some(t) => t,
            None => by_type.entry(resource_type.to_owned()).or_default(),
        };
        if !of_type.seen.insert(hash) {
            return;
        }
        of_type.count += 1;
        let listable = of_type.listed.len() < LISTED_PER_TYPE
            || of_type.listed.last().is_some_and(|last| resource_id < last.as_str());
        if listable {
            of_type.listed.insert(resource_id.to_owned());
            if of_type.listed.len() > LISTED_PER_TYPE {
                of_type.listed.pop_last();
            }
        }
    }

    pub(super) fn take(&self) -> Vec<KeyUse> {
        let mut uses = self.uses.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *uses)
            .into_iter()
            .map(|((key, account_id), by_type)| KeyUse {
                key,
                account_id,
                by_type,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::keys::{ItemKeySource, KeyDirectory, DEFAULT_TTL};

    fn directory() -> KeyDirectory {
        KeyDirectory::new(ItemKeySource::from_items(&[]), DEFAULT_TTL)
    }

    #[test]
    fn nothing_is_noted_unless_asked() {
        let keys = directory();
        assert!(!keys.notes_uses());
        keys.note_use("AWS::EC2::Volume", "vol-1", "alias/aws/ebs", Some("111122223333"));
        assert!(keys.take_uses().is_empty());
    }

    #[test]
    fn each_use_is_noted_once_and_taken_once() {
        let keys = directory().noting_uses();
        for _ in 0..2 {
            keys.note_use("AWS::SNS::Topic", "arn:aws:sns:eu-west-1:1:t", " alias/orders ", None);
        }
        keys.note_use("AWS::EC2::Volume", "vol-1", "k-1", Some("111122223333"));
        let uses = keys.take_uses();
        let got: Vec<(&str, &str, Vec<&str>, usize)> = uses
            .iter()
            .flat_map(|u| {
                u.by_type.iter().map(|(t, of_type)| {
                    let listed = of_type.listed.iter().map(String::as_str).collect();
                    (u.key.as_str(), t.as_str(), listed, of_type.count)
                })
            })
            .collect();
        assert_eq!(
            got,
            [
                ("alias/orders", "AWS::SNS::Topic", vec!["arn:aws:sns:eu-west-1:1:t"], 1),
                ("k-1", "AWS::EC2::Volume", vec!["vol-1"], 1),
            ]
        );
        assert_eq!(uses[1].account_id.as_deref(), Some("111122223333"));
        assert!(keys.take_uses().is_empty(), "taking empties the log");
    }

    #[test]
    fn past_the_list_limit_resources_are_counted_and_the_smallest_ids_listed() {
        let keys = directory().noting_uses();
        let n = super::LISTED_PER_TYPE + 500;
        // Noted from the largest down, each twice: the list keeps the smallest.
        for i in (0..n).rev() {
            for _ in 0..2 {
                keys.note_use("AWS::EC2::Volume", &format!("vol-{i:05}"), "k-1", None);
            }
        }
        let uses = keys.take_uses();
        let of_type = &uses[0].by_type["AWS::EC2::Volume"];
        assert_eq!(of_type.count, n);
        assert_eq!(of_type.listed.len(), super::LISTED_PER_TYPE);
        assert_eq!(of_type.listed.first().map(String::as_str), Some("vol-00000"));
        assert_eq!(of_type.listed.last().map(String::as_str), Some("vol-00999"));
    }
}
