//! Leader election on a Lease: only the leader writes reports and events, every replica keeps
//! its caches warm, and a new leader judges everything once on taking over.

use std::sync::Arc;

use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch::Receiver;
use tokio::task::JoinHandle;

use super::context::{Context, LeaderElection};
use super::error::Error;
use crate::api::names::FIELD_MANAGER;
use crate::live::watch::Sink;

/// A running election; [`Lease::release`] gives the Lease up at shutdown.
pub struct Lease {
    receiver: Option<Receiver<bool>>,
    follower: JoinHandle<()>,
    manager: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

impl Lease {
    /// Gives up leadership at once rather than making the next leader wait for expiry.
    pub async fn release(mut self) {
        self.follower.abort();
        // Closing the channel makes the manager release the Lease and return.
        drop(self.receiver.take());
        match self.manager.await {
            Ok(Ok(_)) => tracing::info!("lease released"),
            Ok(Err(e)) => tracing::warn!(error = %e, "could not release the lease"),
            Err(e) => tracing::warn!(error = %e, "lease task failed"),
        }
    }
}

pub async fn start(
    ctx: Arc<Context>,
    election: LeaderElection,
    sink: Sink,
) -> Result<Lease, Error> {
    let manager = LeaseManagerBuilder::new(ctx.client.clone(), &election.lease_name)
        .with_namespace(&election.lease_namespace)
        .with_identity(&ctx.config.identity)
        .with_duration(election.duration_seconds)
        .with_grace(election.grace_seconds)
        .with_field_manager(FIELD_MANAGER)
        .build()
        .await?;
    let (receiver, manager) = manager.watch().await;
    let mut changes = receiver.clone();
    let follower = tokio::spawn(async move {
        loop {
            let leading = *changes.borrow_and_update();
            let was = ctx.set_leader(leading);
            if leading && !was {
                tracing::info!(identity = %ctx.config.identity, "became the leader");
                // What the previous leader left unfinished is judged again, and the reports
                // of workloads deleted meanwhile are removed.
                for key in ctx.everything() {
                    if sink.send(key).await.is_err() {
                        break;
                    }
                }
            } else if !leading && was {
                tracing::warn!(identity = %ctx.config.identity, "lost the leadership");
            }
            if changes.changed().await.is_err() {
                ctx.set_leader(false);
                return;
            }
        }
    });
    Ok(Lease {
        receiver: Some(receiver),
        follower,
        manager,
    })
}
