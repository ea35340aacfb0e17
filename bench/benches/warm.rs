//! Warm invocation: the handler of `ebs-volume-encrypted` on one change event,
//! in process, its AWS calls answered by canned responses (the key is cached
//! after the first iteration, as in a warm container).

use atrest_bench::{canned_handler, change_event};
use criterion::{criterion_group, criterion_main, Criterion};

fn warm(c: &mut Criterion) {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => panic!("no tokio runtime: {e}"),
    };
    let handler = canned_handler();
    let event = change_event();
    let rule = &atrest_rules::ebs_volume_encrypted::RULE;
    // One evaluation, delivered: the figure is meaningless otherwise.
    let summary = runtime.block_on(handler.handle(rule, event.clone()));
    assert!(summary.is_ok(), "the benchmarked invocation fails: {summary:?}");
    c.bench_function("warm change event (ebs-volume-encrypted)", |b| {
        b.to_async(&runtime).iter(|| handler.handle(rule, event.clone()))
    });
}

criterion_group!(benches, warm);
criterion_main!(benches);
