//! `--openreports`: an OpenReports `Report` beside each ReadinessReport, for Policy Reporter and
//! the other tools of the policy-report ecosystem.
//!
//! The same discipline as the ReadinessReports: written with server-side apply only when its
//! content differs from what the cluster holds (a watch of prodready's own Reports keeps a digest
//! of each), labelled as prodready's, owned by the workload so the garbage collector removes it
//! with the workload, and restored when someone edits or deletes it.
//!
//! The CRD belongs to the OpenReports project and may be missing: then nothing is written, the
//! operator says so once in its log, counts each Report it could not write, and looks again
//! every `crd_recheck`; once the CRD is there its Reports are listed and every workload is
//! judged again, which writes them.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

use futures::StreamExt;
use futures::stream::BoxStream;
use jiff::Timestamp;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_stream};
use prometheus::{IntCounterVec, Opts, Registry};
use sha2::{Digest, Sha256};

use super::optional_crd::{Change, OptionalCrd, Presence};
use super::report_cache::{LabelsDigest, labels_digest};
use super::{Context, Error};
use crate::api::Report;
use crate::api::names::FIELD_MANAGER;
use crate::api::names::{MANAGED_BY, OWN_LABELS};
use crate::live::watch::{Sink, WatchObserver};
use crate::live::{WorkloadKey, read, write};
use crate::output::openreports::{self as format, Body, OpenReport, ResultTimestamp};
use crate::workload::WorkloadKind;

/// The CRD the Reports need.
pub const CRD: OptionalCrd = OptionalCrd {
    group: format::GROUP,
    version: format::VERSION,
    plural: format::PLURAL,
};

/// The name the Report watch reports errors under.
pub const WATCH_NAME: &str = "Report.openreports.io";

fn resource() -> ApiResource {
    ApiResource {
        group: format::GROUP.to_string(),
        version: format::VERSION.to_string(),
        api_version: format::API_VERSION.to_string(),
        kind: format::KIND.to_string(),
        plural: format::PLURAL.to_string(),
    }
}

/// Whether Reports can be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Discovery has not answered yet.
    Unknown = 0,
    /// The CRD is not installed.
    Missing = 1,
    /// The CRD is installed and the Reports that exist are being listed.
    Listing = 2,
    /// Listed: what the cluster holds is known, writes go ahead.
    Ready = 3,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            1 => State::Missing,
            2 => State::Listing,
            3 => State::Ready,
            _ => State::Unknown,
        }
    }
}

/// What the cache keeps of a Report: digests, not the Report (dozens of results each).
#[derive(Clone, Debug, PartialEq)]
struct Cached {
    /// Of the body without timestamps; `None` when the stored object is not one prodready
    /// could have written (then any desired Report differs from it).
    body: Option<[u8; 16]>,
    labels: LabelsDigest,
    owner_uids: Vec<String>,
    resource_version: Option<u64>,
}

impl Cached {
    fn of(object: DynamicObject) -> Cached {
        let meta = object.metadata;
        let body = serde_json::from_value::<Body>(object.data)
            .ok()
            .map(|mut b| body_digest(&mut b));
        Cached {
            body,
            labels: own_labels(meta.labels.as_ref()),
            owner_uids: meta
                .owner_references
                .unwrap_or_default()
                .into_iter()
                .map(|o| o.uid)
                .collect(),
            resource_version: meta
                .resource_version
                .as_deref()
                .and_then(|v| v.parse().ok()),
        }
    }

    /// Whether the cluster's Report already says what `desired` says. Labels and owners of
    /// someone else's are not prodready's business.
    fn holds(&self, desired: &Desired) -> bool {
        self.body == Some(desired.body)
            && self.labels == desired.labels
            && desired
                .owner_uid
                .as_ref()
                .is_none_or(|uid| self.owner_uids.contains(uid))
    }
}

/// The Report wanted, and its digests.
struct Desired {
    report: OpenReport,
    body: [u8; 16],
    labels: LabelsDigest,
    owner_uid: Option<String>,
}

fn own_labels(labels: Option<&BTreeMap<String, String>>) -> LabelsDigest {
    labels_digest(
        labels
            .into_iter()
            .flatten()
            .filter(|(k, _)| OWN_LABELS.contains(&k.as_str())),
    )
}

/// The digest of a body as compared: results' timestamps say when it was written, not what it
/// says, so they are left out (and taken out of `body`).
fn body_digest(body: &mut Body) -> [u8; 16] {
    for r in &mut body.results {
        r.timestamp = None;
    }
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, &*body).expect("a body serializes");
    let mut out = [0; 16];
    out.copy_from_slice(&hasher.finalize()[..16]);
    out
}

fn desired(report: &Report, owner_uid: Option<&str>) -> Desired {
    let mut open = format::report(report, owner_uid, None);
    let body = body_digest(&mut open.body);
    let labels = own_labels(open.metadata.labels.as_ref());
    Desired {
        report: open,
        body,
        labels,
        owner_uid: owner_uid.map(str::to_string),
    }
}

type Key = (String, String);

/// The operator's OpenReports side: whether the CRD is there, what the cluster holds, and what
/// was written.
pub struct OpenReports {
    state: AtomicU8,
    presence: Mutex<Presence>,
    cache: RwLock<BTreeMap<Key, Cached>>,
    /// `prodready_openreports_writes_total{result}`.
    writes: IntCounterVec,
}

/// The `result` values of `prodready_openreports_writes_total`, exported from the start.
const RESULTS: [&str; 4] = ["created", "updated", "error", "crd_missing"];

impl OpenReports {
    /// Registers its counter in the operator's registry.
    pub fn new(registry: &Registry) -> Arc<OpenReports> {
        let writes = IntCounterVec::new(
            Opts::new(
                "prodready_openreports_writes_total",
                "OpenReports Report writes (created, updated, error), and Reports not written \
                 because the OpenReports CRD is not installed (crd_missing)",
            ),
            &["result"],
        )
        .expect("valid metric");
        for result in RESULTS {
            writes.with_label_values(&[result]);
        }
        registry
            .register(Box::new(writes.clone()))
            .expect("metric names are unique");
        Arc::new(OpenReports {
            state: AtomicU8::new(State::Unknown as u8),
            presence: Mutex::new(Presence::default()),
            cache: RwLock::new(BTreeMap::new()),
            writes,
        })
    }

    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::SeqCst))
    }

    fn set_state(&self, state: State) {
        self.state.store(state as u8, Ordering::SeqCst);
    }

    /// How many Reports the cache knows.
    pub fn len(&self) -> usize {
        read(&self.cache).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn count(&self, result: &str) {
        self.writes.with_label_values(&[result]).inc();
    }

    fn upsert(&self, object: DynamicObject) {
        let key = key_of(&object);
        let cached = Cached::of(object);
        let mut cache = write(&self.cache);
        if let Some(held) = cache.get(&key)
            && let (Some(held), Some(new)) = (held.resource_version, cached.resource_version)
            && held > new
        {
            return;
        }
        cache.insert(key, cached);
    }

    /// Looks whether the CRD is served and acts on what changed: says so once, and forgets
    /// what it knew of Reports when the CRD went away. `true` when a watch must start.
    async fn look(&self, ctx: &Context) -> bool {
        let served = match CRD.served(&ctx.client).await {
            Ok(served) => served,
            Err(e) => {
                tracing::debug!(crd = %CRD.display(), error = %e, "cannot ask whether the CRD is installed");
                return false;
            }
        };
        let change = self
            .presence
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(served);
        match change {
            Change::Appeared => {
                tracing::info!(crd = %CRD.display(), "OpenReports CRD installed: listing prodready's Reports, then writing them");
                self.set_state(State::Listing);
                true
            }
            Change::Missing => {
                tracing::warn!(crd = %CRD.display(),
                    "OpenReports CRD not installed: no Report is written until it is (see docs/openreports.md)");
                self.set_state(State::Missing);
                write(&self.cache).clear();
                false
            }
            Change::Same => false,
        }
    }
}

fn key_of(object: &DynamicObject) -> Key {
    (
        object.metadata.namespace.clone().unwrap_or_default(),
        object.metadata.name.clone().unwrap_or_default(),
    )
}

/// The workload a Report is about, from its scope.
fn workload_of(object: &DynamicObject) -> Option<WorkloadKey> {
    let scope = object.data.get("scope")?;
    let kind = WorkloadKind::from_kind(scope.get("kind")?.as_str()?)?;
    let name = scope.get("name")?.as_str()?;
    let namespace = object.metadata.namespace.as_deref()?;
    Some(WorkloadKey::new(kind, namespace, name))
}

/// Brings the Report of `report` to what it says: nothing when the cluster already holds it,
/// a server-side apply otherwise. `owner_uid` is the judged object's. Without `--openreports`,
/// or while the Reports are not listed yet, it does nothing.
pub async fn reconcile(
    ctx: &Context,
    report: &Report,
    owner_uid: Option<&str>,
) -> Result<(), Error> {
    let Some(open) = &ctx.openreports else {
        return Ok(());
    };
    match open.state() {
        State::Ready => {}
        State::Missing => {
            open.count("crd_missing");
            return Ok(());
        }
        // Judged again once listed.
        State::Unknown | State::Listing => return Ok(()),
    }
    let mut want = desired(report, owner_uid);
    let meta = &want.report.metadata;
    let key = (
        meta.namespace.clone().unwrap_or_default(),
        meta.name.clone().unwrap_or_default(),
    );
    let existed = match read(&open.cache).get(&key) {
        Some(held) if held.holds(&want) => return Ok(()),
        held => held.is_some(),
    };
    if !ctx.is_leader() {
        return Ok(());
    }
    let stamp = ResultTimestamp::from(Timestamp::now());
    for r in &mut want.report.body.results {
        r.timestamp = Some(stamp);
    }
    let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &key.0, &resource());
    let applied = api
        .patch(
            &key.1,
            // Strict: a field the installed CRD does not know is refused, not pruned, so a
            // Report is never stored with less than it says (nor rewritten for ever to match).
            &PatchParams::apply(FIELD_MANAGER)
                .force()
                .validation_strict(),
            &Patch::Apply(&want.report),
        )
        .await;
    match applied {
        Ok(object) => {
            open.upsert(object);
            open.count(if existed { "updated" } else { "created" });
            tracing::info!(report = %key.1, created = !existed, "OpenReports Report written");
            Ok(())
        }
        Err(e) => {
            open.count("error");
            Err(e.into())
        }
    }
}

/// Looks for the CRD once before the first judgement (so that judgements made without it are
/// counted from the start), then keeps looking every `crd_recheck` and keeps the cache of
/// prodready's Reports through a watch while the CRD is there. Runs until aborted.
pub async fn start(ctx: &Arc<Context>, sink: Sink) -> Option<tokio::task::JoinHandle<()>> {
    let open = ctx.openreports.clone()?;
    let watching = open.look(ctx).await;
    Some(tokio::spawn(run(ctx.clone(), open, sink, watching)))
}

type ReportEvents = BoxStream<'static, Result<Event<DynamicObject>, watcher::Error>>;

fn watch(ctx: &Context) -> ReportEvents {
    ctx.metrics.watching(WATCH_NAME);
    let api: Api<DynamicObject> = match &ctx.config.namespace {
        Some(ns) => Api::namespaced_with(ctx.client.clone(), ns, &resource()),
        None => Api::all_with(ctx.client.clone(), &resource()),
    };
    let config = watcher::Config::default().labels(&format!("{}={}", MANAGED_BY.0, MANAGED_BY.1));
    watch_stream(api, config).default_backoff().boxed()
}

async fn run(ctx: Arc<Context>, open: Arc<OpenReports>, sink: Sink, watching: bool) {
    let mut recheck = tokio::time::interval(ctx.config.crd_recheck);
    // The first tick is immediate: the look just taken counts as it.
    recheck.tick().await;
    let mut events: Option<ReportEvents> = watching.then(|| watch(&ctx));
    let mut relisted: Option<HashSet<Key>> = None;
    loop {
        let next = async {
            match events.as_mut() {
                Some(stream) => stream.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = recheck.tick() => {
                if open.look(&ctx).await {
                    events = Some(watch(&ctx));
                } else if open.state() == State::Missing {
                    events = None;
                }
            }
            event = next => {
                let Some(event) = event else {
                    // The watch retries its errors and never ends; should it end all the same,
                    // the next look starts it again as if the CRD had just appeared.
                    events = None;
                    *open.presence.lock().unwrap_or_else(PoisonError::into_inner) =
                        Presence::default();
                    continue;
                };
                let touched = match event {
                    Ok(event) => handle(&ctx, &open, event, &mut relisted),
                    Err(e) => {
                        ctx.metrics.error(WATCH_NAME);
                        tracing::warn!(watch = WATCH_NAME, error = %e, "watch error; retrying with backoff");
                        Vec::new()
                    }
                };
                for key in touched {
                    if sink.send(key).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Applies one watch event to the cache and returns the workloads to judge again: the one whose
/// Report someone changed or deleted (judging it restores the Report), or all of them once the
/// Reports are first listed.
fn handle(
    ctx: &Context,
    open: &OpenReports,
    event: Event<DynamicObject>,
    relisted: &mut Option<HashSet<Key>>,
) -> Vec<WorkloadKey> {
    let mut touched = Vec::new();
    match event {
        Event::Init => *relisted = Some(HashSet::new()),
        Event::InitApply(object) => {
            if let Some(seen) = relisted.as_mut() {
                seen.insert(key_of(&object));
            }
            touched.extend(workload_of(&object));
            open.upsert(object);
        }
        Event::InitDone => {
            if let Some(seen) = relisted.take() {
                write(&open.cache).retain(|k, _| seen.contains(k));
            }
            if open.state() != State::Ready {
                open.set_state(State::Ready);
                tracing::info!(
                    reports = open.len(),
                    "OpenReports Reports listed: writing them"
                );
                touched = ctx.state.all_workloads();
            }
        }
        Event::Apply(object) => {
            touched.extend(workload_of(&object));
            open.upsert(object);
        }
        Event::Delete(object) => {
            write(&open.cache).remove(&key_of(&object));
            touched.extend(workload_of(&object));
        }
    }
    touched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CheckResult, Finding, Severity, WorkloadRef};

    fn judged(message: &'static str) -> Report {
        Report {
            workload: WorkloadRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "shop".into(),
                name: "api".into(),
            },
            findings: vec![Finding {
                check_id: "security-run-as-root".into(),
                severity: Severity::High,
                result: CheckResult::Fail,
                category: crate::api::Category::Security,
                message: message.into(),
                remediation: "".into(),
                container: Some("app".into()),
                object: None,
            }],
            passed_checks: vec!["security-privileged".into()],
            ..Report::default()
        }
    }

    /// What the apiserver hands back after an apply: the Report with timestamps, as JSON, with
    /// metadata of its own.
    fn stored(want: &Desired, rv: &str, at: i64) -> DynamicObject {
        let mut report = want.report.clone();
        for r in &mut report.body.results {
            r.timestamp = Some(ResultTimestamp {
                seconds: at,
                nanos: 0,
            });
        }
        let mut object: DynamicObject =
            serde_json::from_value(serde_json::to_value(&report).unwrap()).unwrap();
        object.metadata.resource_version = Some(rv.into());
        object.metadata.uid = Some("report-uid".into());
        object
    }

    #[test]
    fn what_was_written_is_held_at_any_later_time() {
        let want = desired(&judged("runs as root"), Some("u-1"));
        let held = Cached::of(stored(&want, "5", 1000));
        assert!(held.holds(&desired(&judged("runs as root"), Some("u-1"))));
        // Another message, another owner, a label removed: each needs a write.
        assert!(!held.holds(&desired(&judged("runs as root now"), Some("u-1"))));
        assert!(!held.holds(&desired(&judged("runs as root"), Some("u-2"))));
        let mut unlabelled = stored(&want, "6", 1000);
        unlabelled
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .remove("prodready.dev/workload-name");
        assert!(!Cached::of(unlabelled).holds(&want));
        // Someone else's label and owner are left alone.
        let mut extra = stored(&want, "7", 1000);
        extra
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("team".into(), "shop".into());
        let mut other_owner = extra.metadata.owner_references.clone().unwrap()[0].clone();
        other_owner.uid = "someone".into();
        extra
            .metadata
            .owner_references
            .as_mut()
            .unwrap()
            .insert(0, other_owner);
        assert!(Cached::of(extra).holds(&want));
        // A result value prodready never writes (someone's edit) is never held.
        let mut edited = stored(&want, "8", 1000);
        edited.data["results"][0]["result"] = "error".into();
        assert_eq!(Cached::of(edited).body, None);
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let registry = Registry::new();
        let open = OpenReports::new(&registry);
        let first = desired(&judged("a"), None);
        let second = desired(&judged("b"), None);
        open.upsert(stored(&second, "12", 0));
        open.upsert(stored(&first, "11", 0));
        let key = ("shop".to_string(), "prodready-deployment-api".to_string());
        assert!(read(&open.cache)[&key].holds(&second));
        // Every result value is exported before anything happens.
        let text = {
            let mut out = Vec::new();
            prometheus::Encoder::encode(
                &prometheus::TextEncoder::new(),
                &registry.gather(),
                &mut out,
            )
            .unwrap();
            String::from_utf8(out).unwrap()
        };
        for result in RESULTS {
            assert!(
                text.contains(&format!(
                    "prodready_openreports_writes_total{{result=\"{result}\"}} 0"
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn a_report_names_its_workload() {
        let want = desired(&judged("a"), None);
        let object = stored(&want, "1", 0);
        assert_eq!(
            workload_of(&object),
            Some(WorkloadKey::new(WorkloadKind::Deployment, "shop", "api"))
        );
    }
}
