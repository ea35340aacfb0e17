//! The sweep driver: a rule's periodic sweep run as a pipeline. The next
//! page is listed while the current one is judged; the resources of a page
//! are judged a few at a time (the key directory shares one look-up per
//! key among them); and PutEvaluations batches go out while judging goes
//! on. Evaluations still arrive in listing order, each resource once, and
//! an error stops everything after what was already delivered.

use std::collections::HashSet;

use futures_util::stream::{FuturesOrdered, StreamExt};
use tokio::sync::mpsc;

use crate::error::Error;
use crate::evaluation::Verdict;
use crate::report::{Deadline, Outbox, MAX_BATCH};
use crate::rule::{Rule, RuleContext};
use crate::sweep::Found;

/// At most this many resources are being judged at once. Most judgements
/// wait on a key look-up shared with others, or on one call about their
/// own resource; the bound keeps a sweep well inside every API's rate.
pub const CONCURRENT_JUDGEMENTS: usize = 8;

/// A judged resource, on its way to the outbox.
type Judged = (&'static str, String, Verdict);

/// Runs a rule's sweep. Every resource is judged only when there is time
/// left and only once per invocation; when the deadline nears, what was
/// judged is delivered and [`Error::Deadline`] names what was left.
pub(crate) async fn drive(rule: &dyn Rule, ctx: &RuleContext<'_>, out: &mut Outbox<'_>) -> Result<(), Error> {
    let deadline = out.deadline();
    let (tx, mut rx) = mpsc::channel::<Judged>(MAX_BATCH);
    let judging = async move {
        let mut sweep = rule.sweep(ctx)?;
        let mut scheduled = HashSet::new();
        let mut page = sweep.next_page().await?;
        while let Some(current) = page {
            let (next, cut) = tokio::try_join!(sweep.next_page(), judge_page(current, &mut scheduled, deadline, &tx))?;
            match cut {
                Page::Done => page = next,
                Page::Cut(left) => return Ok(Some(left)),
                Page::Undeliverable => return Ok(None),
            }
        }
        Ok::<_, Error>(None)
    };
    let delivering = async {
        while let Some((resource_type, resource_id, verdict)) = rx.recv().await {
            out.push(resource_type, &resource_id, verdict).await?;
        }
        Ok::<_, Error>(())
    };
    let (judged, delivered) = tokio::join!(judging, delivering);
    // A delivery error stops the judging (its channel closes) and is the
    // cause; else a judging error (what was judged before it is pushed,
    // and what is held is not flushed: Config retries the invocation).
    delivered?;
    match judged? {
        Some(left) => out.cut(left).await,
        None => Ok(()),
    }
}

/// How the judging of a page ended.
enum Page {
    Done,
    /// The deadline came with this many resources of the page unjudged.
    Cut(usize),
    /// Delivery failed and stopped listening: its error is the one reported.
    Undeliverable,
}

/// Judges one page's resources, [`CONCURRENT_JUDGEMENTS`] at a time, and
/// sends their verdicts in listing order.
async fn judge_page<'a>(
    page: Vec<Found<'a>>,
    scheduled: &mut HashSet<(&'static str, String)>,
    deadline: Deadline,
    tx: &mpsc::Sender<Judged>,
) -> Result<Page, Error> {
    let mut rest = page.into_iter();
    let mut judging = FuturesOrdered::new();
    loop {
        if deadline.running_short() {
            return Ok(Page::Cut(judging.len() + rest.len()));
        }
        while judging.len() < CONCURRENT_JUDGEMENTS {
            let Some(found) = rest.next() else { break };
            if !scheduled.insert((found.resource_type, found.resource_id.clone())) {
                continue;
            }
            judging.push_back(async move { (found.resource_type, found.resource_id, found.verdict.await) });
        }
        let Some((resource_type, resource_id, verdict)) = judging.next().await else {
            return Ok(Page::Done);
        };
        if let Some(verdict) = verdict? {
            if tx.send((resource_type, resource_id, verdict)).await.is_err() {
                return Ok(Page::Undeliverable);
            }
        }
    }
}
