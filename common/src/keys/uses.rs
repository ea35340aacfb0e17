//! Which resources the rules found under which key: noted by the resource
//! layer while it judges, read afterwards by the CLI's key inventory. Off
//! unless asked for ([`KeyDirectory::noting_uses`](super::KeyDirectory::noting_uses)),
//! so a Lambda function keeps nothing.

use std::collections::BTreeSet;
use std::sync::Mutex;

/// One resource protected by a key, as its record names the key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyUse {
    pub resource_type: String,
    pub resource_id: String,
    /// The key as the resource names it: key id, key ARN, alias or alias ARN.
    pub key: String,
    /// The account the resource was judged in, where known.
    pub account_id: Option<String>,
}

/// The uses noted so far, each once.
#[derive(Debug, Default)]
pub(super) struct UseLog(Mutex<BTreeSet<KeyUse>>);

impl UseLog {
    pub(super) fn note(&self, key_use: KeyUse) {
        // A poisoned log still holds what was noted before the panic.
        let mut uses = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        uses.insert(key_use);
    }

    pub(super) fn take(&self) -> Vec<KeyUse> {
        let mut uses = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *uses).into_iter().collect()
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
        let got: Vec<(&str, &str, &str)> = uses
            .iter()
            .map(|u| (u.resource_type.as_str(), u.resource_id.as_str(), u.key.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("AWS::EC2::Volume", "vol-1", "k-1"),
                ("AWS::SNS::Topic", "arn:aws:sns:eu-west-1:1:t", "alias/orders")
            ]
        );
        assert_eq!(uses[0].account_id.as_deref(), Some("111122223333"));
        assert!(keys.take_uses().is_empty(), "taking empties the log");
    }
}
