//! A small TTL cache whose concurrent misses for one key share one fetch.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::OnceCell;

use crate::error::Error;

/// When an entry was made (monotonic, for the TTL; wall clock, to compare
/// with the capture time of a configuration item), and its value.
type Entry<V> = (Instant, SystemTime, Arc<OnceCell<V>>);

pub(crate) struct Cache<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

impl<V: Clone> Cache<V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        Cache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn cell(&self, key: &str, not_before: Option<SystemTime>) -> Arc<OnceCell<V>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((created, wall, cell)) if created.elapsed() < self.ttl && not_before.is_none_or(|t| *wall >= t) => {
                cell.clone()
            }
            _ => {
                let cell = Arc::new(OnceCell::new());
                entries.insert(key.to_owned(), (Instant::now(), SystemTime::now(), cell.clone()));
                cell
            }
        }
    }

    /// The cached value, or the result of `fetch` (errors are not cached:
    /// the next caller fetches again).
    pub(crate) async fn get_or_try_init<F, Fut>(&self, key: &str, fetch: F) -> Result<V, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, Error>>,
    {
        self.cell(key, None).get_or_try_init(fetch).await.cloned()
    }

    /// [`Cache::get_or_try_init`], fetching anew unless the cached value was
    /// fetched at or after `not_before`.
    pub(crate) async fn get_or_try_init_since<F, Fut>(
        &self,
        key: &str,
        not_before: SystemTime,
        fetch: F,
    ) -> Result<V, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, Error>>,
    {
        self.cell(key, Some(not_before)).get_or_try_init(fetch).await.cloned()
    }

    /// Stores a value already known, unless a live entry exists.
    pub(crate) fn insert_ready(&self, key: &str, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let live = entries
            .get(key)
            .is_some_and(|(created, _, cell)| created.elapsed() < self.ttl && cell.initialized());
        if !live {
            entries.insert(
                key.to_owned(),
                (
                    Instant::now(),
                    SystemTime::now(),
                    Arc::new(OnceCell::new_with(Some(value))),
                ),
            );
        }
    }
}
