//! A small TTL cache whose concurrent misses for one key share one fetch.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::error::Error;

type Entry<V> = (Instant, Arc<OnceCell<V>>);

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

    fn cell(&self, key: &str) -> Arc<OnceCell<V>> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((created, cell)) if created.elapsed() < self.ttl => cell.clone(),
            _ => {
                let cell = Arc::new(OnceCell::new());
                entries.insert(key.to_owned(), (Instant::now(), cell.clone()));
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
        self.cell(key).get_or_try_init(fetch).await.cloned()
    }

    /// Stores a value already known, unless a live entry exists.
    pub(crate) fn insert_ready(&self, key: &str, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let live = entries
            .get(key)
            .is_some_and(|(created, cell)| created.elapsed() < self.ttl && cell.initialized());
        if !live {
            entries.insert(
                key.to_owned(),
                (Instant::now(), Arc::new(OnceCell::new_with(Some(value)))),
            );
        }
    }
}
