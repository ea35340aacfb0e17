//! The items of a run's files, judged on every core: this thread reads
//! the files (only the punctuation between items, see
//! [`ItemReader`]) and hands their items in batches to workers, one per
//! core; what the workers make of each batch is taken back in file order.
//! At most [`WINDOW_PER_WORKER`] batches per worker are between the reader and the collector at
//! any time (read, being judged, or judged and waiting for an earlier one),
//! so memory stays flat whatever the files' size and however long one
//! batch takes.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;

use crate::error::CliError;
use crate::item_stream::ItemReader;
use crate::sources::Input;

/// Items handed to a worker at a time: enough that the hand-over costs
/// little, few enough that memory stays flat.
const BATCH_ITEMS: usize = 256;
/// Batches read and not yet taken back, per worker.
const WINDOW_PER_WORKER: usize = 4;

/// A run of items of one file, their JSON texts end to end.
pub struct Batch {
    /// The file's index among the run's.
    pub file: usize,
    /// Each item's position in its file and where its text ends in `text`.
    ends: Vec<(usize, usize)>,
    text: String,
}

impl Batch {
    fn new(file: usize) -> Self {
        Batch {
            file,
            ends: Vec::with_capacity(BATCH_ITEMS),
            text: String::new(),
        }
    }

    /// Each item's position in its file (from 0) and its JSON text.
    pub fn items(&self) -> impl Iterator<Item = (usize, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        self.ends
            .iter()
            .zip(starts)
            .map(|(&(i, end), start)| (i, self.text.get(start..end).unwrap_or_default()))
    }
}

/// Reads every file's items — those `keep` (per file, per item) does not
/// set aside — and has `work` run on batches of them on every core, with a
/// Tokio runtime of its worker's own; `take` gets each batch's result in
/// file order. The first error in file order (an item's, or the file's
/// where it cannot be read) stops the run and is returned. Returns how
/// many items each file has.
pub fn in_parallel<T, W, C>(
    files: &[Input],
    keep: Option<&[Vec<bool>]>,
    work: W,
    take: C,
) -> Result<Vec<usize>, CliError>
where
    T: Send,
    W: Fn(&Runtime, &Batch) -> Result<T, CliError> + Sync,
    C: FnMut(T) -> Result<(), CliError> + Send,
{
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let window = workers * WINDOW_PER_WORKER;
    std::thread::scope(|scope| {
        // One token per batch that may be read and not yet taken back: the
        // reader takes one before it sends a batch, the collector gives it
        // back once the batch's result is taken.
        let (token_tx, token_rx) = sync_channel::<()>(window);
        for _ in 0..window {
            token_tx.send(()).map_err(|_| panicked())?;
        }
        let (batch_tx, batch_rx) = sync_channel::<(u64, Batch)>(window);
        // Shared by the workers alone: once they have all stopped, the
        // reader's next send fails, and it stops too.
        let batch_rx = Arc::new(Mutex::new(batch_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, Result<T, CliError>)>(window);
        let work = &work;
        let workers: Vec<_> = (0..workers)
            .map(|_| {
                let (batch_rx, done_tx) = (batch_rx.clone(), done_tx.clone());
                scope.spawn(move || run_worker(&batch_rx, &done_tx, work))
            })
            .collect();
        drop((batch_rx, done_tx));
        let collector = scope.spawn(move || take_in_order(done_rx, &token_tx, take));
        let read = read_batches(files, keep, &token_rx, &batch_tx);
        drop(batch_tx);
        // The collector ends once every worker has, and they once the
        // batches end (or the collector stopped at an error, and with it
        // the tokens).
        let taken = collector.join().unwrap_or_else(|_| Err(panicked()));
        if workers.into_iter().any(|w| w.join().is_err()) {
            return Err(panicked());
        }
        // An item's error comes before any later reading error.
        taken.and(read)
    })
}

/// Reads the kept items of every file into batches, sent in file order
/// with their sequence numbers, each once a token is free; stops early
/// when no one listens any more. Returns how many items each file has.
fn read_batches(
    files: &[Input],
    keep: Option<&[Vec<bool>]>,
    tokens: &Receiver<()>,
    batches: &SyncSender<(u64, Batch)>,
) -> Result<Vec<usize>, CliError> {
    let mut seq = 0;
    let mut counts = Vec::with_capacity(files.len());
    let mut send = |batch: Batch| {
        let sent = tokens.recv().is_ok() && batches.send((seq, batch)).is_ok();
        seq += 1;
        sent
    };
    for (f, Input { path, name }) in files.iter().enumerate() {
        let keep = keep.and_then(|k| k.get(f));
        let mut reader = ItemReader::open_as(path, name.clone())?;
        let mut batch = Batch::new(f);
        let mut count = 0;
        loop {
            let (i, text) = match reader.next_item() {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(e) => {
                    // The items before the bad place are judged first: an
                    // error among them is the earlier one.
                    if !batch.ends.is_empty() {
                        send(batch);
                    }
                    return Err(e);
                }
            };
            count = i + 1;
            if !keep.and_then(|k| k.get(i)).copied().unwrap_or(true) {
                continue;
            }
            batch.text.push_str(text);
            batch.ends.push((i, batch.text.len()));
            if batch.ends.len() == BATCH_ITEMS && !send(std::mem::replace(&mut batch, Batch::new(f))) {
                return Ok(counts);
            }
        }
        if !batch.ends.is_empty() && !send(batch) {
            return Ok(counts);
        }
        counts.push(count);
    }
    Ok(counts)
}

/// A worker: takes batches until there are none, and runs `work` on each.
/// A panic in `work` is that batch's error (so no result goes missing and
/// the collector never waits for one).
fn run_worker<T, W>(batches: &Mutex<Receiver<(u64, Batch)>>, done: &SyncSender<(u64, Result<T, CliError>)>, work: &W)
where
    W: Fn(&Runtime, &Batch) -> Result<T, CliError>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    loop {
        // A poisoned lock means another worker panicked, which the run
        // reports.
        let next = match batches.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((seq, batch)) = next else { return };
        let result = match &runtime {
            Ok(runtime) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(runtime, &batch)))
                .unwrap_or_else(|_| Err(panicked())),
            Err(e) => Err(CliError::Runtime(std::io::Error::new(e.kind(), e.to_string()))),
        };
        if done.send((seq, result)).is_err() {
            return;
        }
    }
}

/// Takes the workers' results as they come and hands them to `take` in
/// file order, giving a token back for each; stops at the first error in
/// that order.
fn take_in_order<T>(
    done: Receiver<(u64, Result<T, CliError>)>,
    tokens: &SyncSender<()>,
    mut take: impl FnMut(T) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for (seq, result) in done {
        waiting.insert(seq, result);
        while let Some(result) = waiting.remove(&next) {
            take(result?)?;
            next += 1;
            // The reader may have stopped; then no one needs it.
            let _ = tokens.try_send(());
        }
    }
    Ok(())
}

fn panicked() -> CliError {
    CliError::Runtime(std::io::Error::other("a worker reading the items stopped unexpectedly"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;

    fn items_file(n: usize) -> (tempfile::TempDir, Vec<Input>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.json");
        let items: Vec<String> = (0..n).map(|k| format!(r#"{{"n": {k}}}"#)).collect();
        std::fs::write(&path, format!("[{}]", items.join(", "))).unwrap();
        let name = path.display().to_string();
        (
            dir,
            vec![Input {
                path: PathBuf::from(&path),
                name,
            }],
        )
    }

    /// The first batch is the slowest to judge, so later ones are done
    /// before it: they are still taken in file order.
    #[test]
    fn results_are_taken_in_file_order_however_long_each_batch_takes() {
        let (_dir, files) = items_file(2000);
        let keep: Vec<Vec<bool>> = vec![(0..2000).map(|k| k % 3 != 0).collect()];
        let mut taken = Vec::new();
        let counts = in_parallel(
            &files,
            Some(&keep),
            |_, batch| {
                let positions: Vec<usize> = batch.items().map(|(i, _)| i).collect();
                if positions.first().is_some_and(|&i| i < 10) {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Ok(positions)
            },
            |positions| {
                taken.extend(positions);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(counts, vec![2000]);
        assert_eq!(taken, (0..2000).filter(|k| k % 3 != 0).collect::<Vec<_>>());
    }

    /// Of two failing batches, the earlier in the file is the error, even
    /// when the later fails first.
    #[test]
    fn the_first_error_in_file_order_is_the_one_returned() {
        let (_dir, files) = items_file(2000);
        let result = in_parallel(
            &files,
            None,
            |_, batch| {
                let first = batch.items().next().map_or(0, |(i, _)| i);
                if first == 0 {
                    std::thread::sleep(Duration::from_millis(200));
                    return Err(CliError::Runtime(std::io::Error::other("early")));
                }
                if first >= 1500 {
                    return Err(CliError::Runtime(std::io::Error::other("late")));
                }
                Ok(())
            },
            |()| Ok(()),
        );
        let Err(CliError::Runtime(e)) = result else {
            panic!("expected an error")
        };
        assert_eq!(e.to_string(), "early");
    }
}
