//! Judges one workload and brings its ReadinessReport to what the judgement says: written with
//! server-side apply only when its content differs, deleted when the workload is gone.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
};
use kube::runtime::events::{Event, EventType};

use super::context::Context;
use super::desired::{self, Desired};
use super::error::Error;
use super::report_cache::CachedReport;
use crate::api::names::FIELD_MANAGER;
use crate::api::{ReadinessReport, Report};
use crate::live::{WorkloadKey, read, write as write_world};
use crate::workload::WorkloadObject;

/// What reconciling one workload did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Unchanged,
    Written,
    Deleted,
    /// Judged, but not written: another replica leads.
    NotLeader,
    /// Not judged: the namespace is being deleted, and its reports with it.
    NamespaceTerminating,
}

/// Evaluates a workload under the policy of its namespace. A check that panics is a finding
/// (the engine catches it); a panic anywhere else is caught here and reported as an error for
/// this workload alone.
fn evaluate(ctx: &Context, workload: &WorkloadObject) -> Result<Report, Error> {
    let started = Instant::now();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let view = workload.view().ok_or(Error::NoPodTemplate)?;
        let world = read(&ctx.state.world);
        let policies = read(&ctx.state.policies);
        let policy = policies.for_namespace(view.namespace, &world);
        Ok(crate::engine::evaluate(
            &view,
            &world,
            policy,
            Timestamp::now(),
        ))
    }));
    ctx.metrics.evaluations.inc();
    ctx.metrics
        .evaluation_duration
        .observe(started.elapsed().as_secs_f64());
    match result {
        Ok(r) => r,
        Err(panic) => Err(Error::Panicked(crate::engine::panic_message(&*panic))),
    }
}

pub async fn reconcile(ctx: &Context, key: &WorkloadKey) -> Result<Outcome, Error> {
    // The apiserver refuses new reports and events in a namespace being deleted, and deletes
    // the ones it holds: writing there would only be refused, or undone.
    if read(&ctx.state.world).is_terminating(&key.namespace) {
        return Ok(Outcome::NamespaceTerminating);
    }
    let stored = read(&ctx.state.workloads).get(key).cloned();
    let name = desired::report_name(key.kind.as_str(), &key.name);
    let existing = ctx.reports.get(&key.namespace, &name);
    let Some(stored) = stored else {
        return remove_orphan(ctx, key, &name, existing).await;
    };
    let workload = stored.object()?;
    drop(stored);
    let judged = evaluate(ctx, &workload)?;
    let previous = existing.as_ref().and_then(|r| r.status.as_ref());
    let wanted = desired::desired(&workload, judged, previous, Timestamp::now());
    let writes = desired::writes_needed(&wanted, existing.as_deref());
    let outcome = if !writes.any() {
        Outcome::Unchanged
    } else if !ctx.is_leader() {
        Outcome::NotLeader
    } else {
        if !write(ctx, &wanted, writes, existing.is_none()).await? {
            return Ok(Outcome::NamespaceTerminating);
        }
        if let Some(change) = desired::verdict_change(previous, &wanted.status) {
            record_event(ctx, &workload, change).await;
        }
        Outcome::Written
    };
    let owner = wanted.owner.as_ref().map(|o| o.uid.as_str());
    super::openreports::reconcile(ctx, &wanted.status, owner).await?;
    Ok(outcome)
}

/// Writes the report; `false` when the apiserver refused it because its namespace is being
/// deleted (not an error: the namespace is marked, and nothing is written into it again).
async fn write(
    ctx: &Context,
    desired: &Desired,
    writes: desired::Writes,
    created: bool,
) -> Result<bool, Error> {
    let api: Api<ReadinessReport> = Api::namespaced(ctx.client.clone(), &desired.namespace);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let result = async {
        // Metadata and spec: the labels and owner the report must carry.
        let apply_object = || async {
            let applied = api
                .patch(
                    &desired.name,
                    &params,
                    &Patch::Apply(desired::object_patch(desired)),
                )
                .await?;
            ctx.reports.upsert(applied);
            Ok::<(), kube::Error>(())
        };
        if writes.object {
            apply_object().await?;
        }
        // A new object has no status yet; an existing one keeps its status when only its
        // metadata was restored.
        if writes.status || created {
            let applied = api
                .patch_status(
                    &desired.name,
                    &params,
                    &Patch::Apply(desired::status_patch(desired)),
                )
                .await?;
            ctx.reports.upsert(applied);
            // The answer is the object as it is now: metadata someone edited after the report
            // was read (a label removed) shows here, and its watch event, older than this
            // answer, will not ask again. Restore it now.
            if !writes.object
                && let Some(now) = ctx.reports.get(&desired.namespace, &desired.name)
                && desired::writes_needed(desired, Some(&now)).object
            {
                apply_object().await?;
            }
        }
        Ok::<(), kube::Error>(())
    }
    .await;
    if let Err(e) = &result
        && namespace_terminating(e)
    {
        tracing::debug!(namespace = %desired.namespace, "namespace being deleted: not written");
        write_world(&ctx.state.world).mark_terminating(&desired.namespace);
        return Ok(false);
    }
    let label = match (&result, created) {
        (Err(_), _) => "error",
        (Ok(()), true) => "created",
        (Ok(()), false) => "updated",
    };
    ctx.metrics.report_writes.with_label_values(&[label]).inc();
    result?;
    tracing::info!(report = %desired.name, score = desired.status.score,
        verdict = %desired.status.verdict, created, "report written");
    Ok(true)
}

/// The apiserver's refusal of a new object in a namespace being deleted (its NamespaceLifecycle
/// admission: 403 with the cause `NamespaceTerminating`, "... because it is being terminated").
fn namespace_terminating(e: &kube::Error) -> bool {
    let kube::Error::Api(status) = e else {
        return false;
    };
    status.code == 403
        && (status
            .details
            .as_ref()
            .is_some_and(|d| d.causes.iter().any(|c| c.reason == "NamespaceTerminating"))
            || status.message.contains("because it is being terminated"))
}

/// Deletes the report of a workload that is gone. Only once every watch has synced (before,
/// an absent workload may just not be listed yet), only as leader, and only after asking the
/// apiserver that the workload is really gone.
async fn remove_orphan(
    ctx: &Context,
    key: &WorkloadKey,
    name: &str,
    existing: Option<Arc<CachedReport>>,
) -> Result<Outcome, Error> {
    let Some(existing) = existing else {
        return Ok(Outcome::Unchanged);
    };
    if !ctx.state.sync.all_synced() {
        return Ok(Outcome::Unchanged);
    }
    if !ctx.is_leader() {
        return Ok(Outcome::NotLeader);
    }
    let kind = key.kind;
    let (group, version) = match kind.api_version().split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", kind.api_version()),
    };
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind.as_str()));
    let workloads: Api<DynamicObject> =
        Api::namespaced_with(ctx.client.clone(), &key.namespace, &resource);
    if let Some(live) = workloads.get_opt(&key.name).await? {
        let owner_uid = existing.owner_uids.first().map(String::as_str);
        // Still there: the watch has not delivered it yet. Judged when it does.
        if owner_uid.is_none() || live.metadata.uid.as_deref() == owner_uid {
            return Ok(Outcome::Unchanged);
        }
    }
    let api: Api<ReadinessReport> = Api::namespaced(ctx.client.clone(), &key.namespace);
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(e) => {
            ctx.metrics
                .report_writes
                .with_label_values(&["error"])
                .inc();
            return Err(e.into());
        }
    }
    ctx.reports.remove(&key.namespace, name);
    ctx.metrics
        .report_writes
        .with_label_values(&["deleted"])
        .inc();
    tracing::info!(report = name, "report of a deleted workload removed");
    Ok(Outcome::Deleted)
}

async fn record_event(ctx: &Context, workload: &WorkloadObject, change: desired::VerdictChange) {
    let meta = workload.meta();
    let kind = workload.kind();
    let reference = ObjectReference {
        api_version: Some(kind.api_version().to_string()),
        kind: Some(kind.as_str().to_string()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        ..ObjectReference::default()
    };
    let event = Event {
        type_: if change.warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: change.reason.to_string(),
        note: Some(change.note.chars().take(1000).collect()),
        action: "Evaluate".to_string(),
        secondary: None,
    };
    // An event is a courtesy: failing to record one never fails the reconcile.
    if let Err(e) = ctx.recorder.publish(&event, &reference).await {
        tracing::warn!(error = %e, reason = change.reason, "could not record an event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    #[test]
    fn a_refusal_for_a_namespace_being_deleted_is_recognised() {
        let refused = Status::failure(
            "readinessreports.prodready.dev \"deployment-a\" is forbidden: unable to create new \
             content in namespace shop because it is being terminated",
            "Forbidden",
        )
        .with_code(403);
        assert!(namespace_terminating(&kube::Error::Api(refused.boxed())));
        let other = Status::failure("forbidden: no RBAC", "Forbidden").with_code(403);
        assert!(!namespace_terminating(&kube::Error::Api(other.boxed())));
    }
}
