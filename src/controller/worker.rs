//! The work queue and the worker that drains it: keys of workloads to judge arrive from the
//! watches, gather for a moment, and are judged in batches once every watch has synced.
//!
//! The queue is bounded, and the worker drains it into a set while it judges, so a key sent
//! many times is held once: memory stays bounded by the number of workloads whatever the rate
//! of changes, and a watch waits only while the worker is between two polls. A stop is honoured
//! within a batch: no new reconcile starts, those in flight get a moment to finish their writes,
//! and the caller releases the Lease well within a pod's grace period.

use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc::Receiver;
use tracing::Instrument;

use super::context::Context;
use super::error::Error;
use super::reconcile::{self, Outcome};
use crate::live::WorkloadKey;
use crate::live::watch::Sink;

/// Keys the queue holds before a sender waits. The worker moves them into a set as they come,
/// so this only absorbs bursts between two of its polls.
pub const QUEUE_CAPACITY: usize = 1024;

/// How long the reconciles in flight at a stop get to finish their writes.
const DRAIN: Duration = Duration::from_secs(5);

/// Per-workload exponential backoff after errors.
#[derive(Default)]
struct Backoff {
    failures: HashMap<WorkloadKey, u32>,
}

impl Backoff {
    const BASE: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(300);

    fn failed(&mut self, key: &WorkloadKey) -> Duration {
        let n = self.failures.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        Self::BASE
            .saturating_mul(1u32 << (*n - 1).min(10))
            .min(Self::MAX)
    }

    fn succeeded(&mut self, key: &WorkloadKey) {
        self.failures.remove(key);
    }
}

/// Whether the worker goes on.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

type Shutdown<'s> = Pin<&'s mut (dyn Future<Output = ()> + Send)>;

/// The worker: gathers keys, judges them in batches once every watch has synced, and on
/// resync judges everything again (and removes the reports of workloads that are gone).
/// Returns once `shutdown` completes, the writes in flight finished or given up.
pub(super) async fn work(
    ctx: &Arc<Context>,
    mut queue: Receiver<WorkloadKey>,
    sink: Sink,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let mut shutdown: Shutdown<'_> = shutdown.as_mut();
    let mut worker = Worker {
        ctx,
        sink,
        pending: BTreeSet::new(),
        backoff: Backoff::default(),
    };
    let mut synced = false;
    let mut resync = tokio::time::interval(ctx.config.resync);
    resync.tick().await;
    let mut sync_poll = tokio::time::interval(Duration::from_millis(100));
    let started = tokio::time::Instant::now();
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => return,
            key = queue.recv() => match key {
                Some(key) => {
                    worker.pending.insert(key);
                    // Gather what arrives in the next moment: one change often dirties a
                    // workload several times (object, then status, then its pods).
                    let gather = tokio::time::sleep(ctx.config.batch_delay);
                    tokio::pin!(gather);
                    loop {
                        tokio::select! {
                            biased;
                            () = &mut shutdown => return,
                            () = &mut gather => break,
                            more = queue.recv() => match more {
                                Some(k) => { worker.pending.insert(k); }
                                None => break,
                            },
                        }
                    }
                }
                None => return,
            },
            _ = sync_poll.tick(), if !synced => {
                if ctx.is_ready() {
                    tracing::info!("every watch synced: judging every workload");
                } else if started.elapsed() >= ctx.config.sync_timeout {
                    tracing::warn!(pending = ?ctx.state.sync.pending(),
                        "watches still not listed: judging without them");
                } else {
                    continue;
                }
                synced = true;
                worker.pending.extend(ctx.everything());
            },
            _ = resync.tick() => {
                worker.pending.extend(ctx.everything());
            },
        }
        if !synced || worker.pending.is_empty() {
            continue;
        }
        if worker.batch(&mut queue, shutdown.as_mut()).await == Flow::Stop {
            return;
        }
    }
}

struct Worker<'c> {
    ctx: &'c Arc<Context>,
    sink: Sink,
    /// Keys waiting for the next batch.
    pending: BTreeSet<WorkloadKey>,
    backoff: Backoff,
}

impl Worker<'_> {
    /// Judges what is pending, `concurrency` workloads at a time, taking in the keys that keep
    /// arriving meanwhile for the next batch.
    async fn batch(
        &mut self,
        queue: &mut Receiver<WorkloadKey>,
        mut shutdown: Shutdown<'_>,
    ) -> Flow {
        let ctx = self.ctx;
        let mut keys = std::mem::take(&mut self.pending).into_iter();
        let limit = ctx.config.concurrency.max(1);
        let mut in_flight = FuturesUnordered::new();
        loop {
            while in_flight.len() < limit
                && let Some(key) = keys.next()
            {
                in_flight.push(reconcile_one(ctx, key));
            }
            if in_flight.is_empty() {
                return Flow::Continue;
            }
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    tracing::info!(abandoned = keys.len(), in_flight = in_flight.len(),
                        "stopping within a batch: finishing the writes in flight");
                    let drained = tokio::time::timeout(DRAIN, async {
                        while let Some((key, result)) = in_flight.next().await {
                            self.finished(key, result);
                        }
                    })
                    .await;
                    if drained.is_err() {
                        tracing::warn!(?DRAIN, "writes still in flight at stop: abandoned");
                    }
                    return Flow::Stop;
                }
                Some((key, result)) = in_flight.next() => self.finished(key, result),
                Some(key) = queue.recv() => {
                    self.pending.insert(key);
                }
            }
        }
    }

    /// Records how reconciling `key` went; a failure is retried after its backoff.
    fn finished(&mut self, key: WorkloadKey, result: Result<Outcome, Error>) {
        match result {
            Ok(_) => self.backoff.succeeded(&key),
            Err(e) => {
                let delay = self.backoff.failed(&key);
                tracing::warn!(workload = %key, error = %e, retry_in = ?delay,
                    "reconcile failed");
                let sink = self.sink.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = sink.send(key).await;
                });
            }
        }
    }
}

fn reconcile_one(
    ctx: &Context,
    key: WorkloadKey,
) -> impl Future<Output = (WorkloadKey, Result<Outcome, Error>)> + '_ {
    let span = tracing::info_span!("reconcile", workload = %key);
    async move {
        let result = reconcile::reconcile(ctx, &key).await;
        (key, result)
    }
    .instrument(span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::WorkloadKind;

    #[test]
    fn backoff_grows_per_workload_and_resets_on_success() {
        let mut b = Backoff::default();
        let a = WorkloadKey::new(WorkloadKind::Deployment, "ns", "a");
        let other = WorkloadKey::new(WorkloadKind::Deployment, "ns", "b");
        assert_eq!(b.failed(&a), Duration::from_millis(500));
        assert_eq!(b.failed(&a), Duration::from_secs(1));
        assert_eq!(b.failed(&a), Duration::from_secs(2));
        assert_eq!(b.failed(&other), Duration::from_millis(500));
        for _ in 0..20 {
            b.failed(&a);
        }
        assert_eq!(b.failed(&a), Backoff::MAX);
        b.succeeded(&a);
        assert_eq!(b.failed(&a), Duration::from_millis(500));
    }
}
