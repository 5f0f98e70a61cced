//! One watch per kind, applying events to the World, the workload store and the policy set,
//! and telling the caller which workloads each event can affect.
//!
//! A relist (start-up, a reconnect after 410 Gone) delivers every object again between `Init`
//! and `InitDone`: objects unchanged since they were last seen (same resourceVersion) are
//! skipped, and objects that were not listed again are removed, so a deletion missed while
//! disconnected is not missed for good.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::num::NonZeroU64;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher as watch_stream};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::Sender;

use super::affected::{self, Footprint, Lookup, WorkloadKey, object_key};
use super::error::Error;
use super::footprints::namespace_and_name;
use super::{LiveState, read, strip_metadata, write};
use crate::api::ReadinessPolicy;
use crate::engine::{CompiledPolicy, PolicySet};
use crate::workload::{WorkloadKind, WorkloadObject};
use crate::world::kinds::{self, DynamicKind, KindVisitor, Served, TypedKind};
use crate::world::{RelatedKind, RelatedObject};

/// What one watched object is to the operator.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Item {
    Workload(WorkloadObject),
    Related(RelatedObject),
    Policy(ReadinessPolicy),
}

/// How a watched object was filed, to undo it on deletion (a Pod can move from workload to
/// related object when it gains an owner). The namespace and name are those of the key it is
/// filed under (`Kind/namespace/name`): not kept again for each of tens of thousands of objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filed {
    Workload(WorkloadKind),
    Related(RelatedKind),
    Policy,
}

/// What a watch remembers of one object it filed, under the hash of the object's key: the key
/// itself is held where the object was filed (the workload store, the footprints), and is
/// found there again on the rare relist that misses an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    filed: Filed,
    /// The resourceVersion, hashed (see [`version_digest`]).
    version: Option<NonZeroU64>,
}

/// The hash a watch remembers an object's key by.
fn key_digest(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// A resourceVersion, hashed: only ever compared for equality, and a hash is no allocation.
fn version_digest(version: Option<&String>) -> Option<NonZeroU64> {
    let hash = key_digest(version?);
    Some(NonZeroU64::new(hash).unwrap_or(NonZeroU64::MIN))
}

impl LiveState {
    /// Files an object, returning the workloads it can affect.
    pub fn apply_item(&self, item: Item) -> BTreeSet<WorkloadKey> {
        match item {
            Item::Workload(object) => {
                let footprint = affected::workload_footprint(&WorkloadKey::of(&object));
                {
                    let mut world = write(&self.world);
                    world.apply_workload(&object);
                }
                write(&self.workloads).insert(object);
                self.resolve(None, Some(&footprint))
            }
            Item::Related(mut object) => {
                object.strip();
                let key = object.key();
                let new = affected::footprint(&object);
                let old = write(&self.footprints).insert(&key, new.clone());
                write(&self.world).apply(object);
                self.resolve(old.as_ref(), Some(&new))
            }
            Item::Policy(policy) => {
                let name = policy.metadata.name.clone().unwrap_or_default();
                let selector = crate::world::Selector::from_label_selector(
                    policy.spec.namespace_selector.as_ref(),
                    true,
                );
                let new = Footprint::NamespaceSelector(selector);
                let old = write(&self.footprints)
                    .insert(&object_key("ReadinessPolicy", "", &name), new.clone());
                self.set_policy(&name, Some(policy));
                self.resolve(old.as_ref(), Some(&new))
            }
        }
    }

    fn delete_filed(&self, key: &str, filed: Filed) -> BTreeSet<WorkloadKey> {
        let (namespace, name) = namespace_and_name(key);
        match filed {
            Filed::Workload(kind) => {
                let key = WorkloadKey::new(kind, namespace, name);
                let old = write(&self.workloads).remove(&key);
                write(&self.world).remove_workload(kind, namespace, name);
                let footprint = affected::workload_footprint(&key);
                let mut out = BTreeSet::from([key]);
                if old.is_some() {
                    // Whatever the workload reached (a CronJob's namespace) changes too.
                    out.extend(self.resolve(None, Some(&footprint)));
                }
                out
            }
            Filed::Related(kind) => {
                let old = write(&self.footprints).remove(key);
                write(&self.world).remove(kind, namespace, name);
                self.resolve(old.as_ref(), None)
            }
            Filed::Policy => {
                let old = write(&self.footprints).remove(key);
                self.set_policy(name, None);
                self.resolve(old.as_ref(), None)
            }
        }
    }

    /// The keys, among those the state holds, whose hashes a relist found gone, with how each
    /// was filed. Relists are rare and seldom miss anything, so a scan is cheaper than keeping
    /// every key a second time.
    fn keys_of(&self, gone: &HashMap<u64, Filed>) -> Vec<(String, Filed)> {
        let mut found = Vec::new();
        // Related objects and policies leave a footprint under their key, workloads do not.
        for key in read(&self.footprints).keys() {
            if let Some(filed @ (Filed::Related(_) | Filed::Policy)) = gone.get(&key_digest(key)) {
                found.push((key.to_string(), *filed));
            }
        }
        for key in read(&self.workloads).keys() {
            let filed = Filed::Workload(key.kind);
            let key = object_key(key.kind.as_str(), &key.namespace, &key.name);
            if gone.get(&key_digest(&key)) == Some(&filed) {
                found.push((key, filed));
            }
        }
        found
    }

    fn resolve(&self, old: Option<&Footprint>, new: Option<&Footprint>) -> BTreeSet<WorkloadKey> {
        let store = read(&self.workloads);
        let world = read(&self.world);
        let footprints = read(&self.footprints);
        Lookup {
            store: &store,
            world: &world,
            footprints: &footprints,
        }
        .affected(old, new)
    }

    /// Replaces (or removes) one policy and recompiles the set. A policy that does not compile
    /// (an unknown check ID) is left out, with an error in the log, rather than stopping
    /// every evaluation.
    fn set_policy(&self, name: &str, policy: Option<ReadinessPolicy>) {
        let mut sources = write(&self.policy_sources);
        match policy {
            Some(p) => {
                sources.insert(name.to_string(), p);
            }
            None => {
                sources.remove(name);
            }
        }
        let compiled: Vec<CompiledPolicy> = sources
            .values()
            .filter_map(|p| match CompiledPolicy::from_resource(p) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::error!(error = %e, "ignoring a ReadinessPolicy that cannot be used");
                    None
                }
            })
            .collect();
        *write(&self.policies) = PolicySet::new(compiled);
    }
}

/// Applies one watch's events, remembering what it filed so relists and deletions undo it.
pub struct WatchState {
    name: String,
    filed: HashMap<u64, Record>,
    relisted: Option<HashMap<u64, Record>>,
    /// The watch's kinds were known when the current list started.
    known_before_list: bool,
}

impl WatchState {
    pub fn new(name: &str) -> WatchState {
        WatchState {
            name: name.to_string(),
            filed: HashMap::new(),
            relisted: None,
            known_before_list: false,
        }
    }

    fn identity(item: &Item) -> (String, Filed) {
        match item {
            Item::Workload(w) => {
                let key = WorkloadKey::of(w);
                (
                    object_key(key.kind.as_str(), &key.namespace, &key.name),
                    Filed::Workload(key.kind),
                )
            }
            Item::Related(r) => (r.key(), Filed::Related(r.related_kind())),
            Item::Policy(p) => (
                object_key(
                    "ReadinessPolicy",
                    "",
                    p.metadata.name.as_deref().unwrap_or_default(),
                ),
                Filed::Policy,
            ),
        }
    }

    /// Handles one event; returns the workloads to judge again. `relist_kinds` are marked
    /// present in the World once the first list is complete.
    pub fn handle(
        &mut self,
        state: &LiveState,
        event: Event<Item>,
        present: &[RelatedKind],
    ) -> BTreeSet<WorkloadKey> {
        let mut out = BTreeSet::new();
        match event {
            Event::Init => {
                self.relisted = Some(HashMap::new());
                // Objects arriving mark their kind present; whether it was known before the
                // list decides if completing it changes what every workload can be judged on.
                let world = read(&state.world);
                self.known_before_list =
                    self.known_before_list || present.iter().all(|k| world.has(*k));
            }
            Event::InitApply(item) => {
                let (key, filed) = Self::identity(&item);
                let record = Record {
                    filed,
                    version: version_of(&item),
                };
                let digest = key_digest(&key);
                let unchanged =
                    record.version.is_some() && self.filed.get(&digest) == Some(&record);
                if !unchanged {
                    out.extend(self.file(state, &key, filed, item));
                }
                if let Some(relisted) = self.relisted.as_mut() {
                    relisted.insert(digest, record);
                }
            }
            Event::InitDone => {
                if let Some(relisted) = self.relisted.take() {
                    let gone: HashMap<u64, Filed> = self
                        .filed
                        .iter()
                        .filter(|(k, _)| !relisted.contains_key(*k))
                        .map(|(k, r)| (*k, r.filed))
                        .collect();
                    if !gone.is_empty() {
                        for (key, filed) in state.keys_of(&gone) {
                            out.extend(state.delete_filed(&key, filed));
                        }
                    }
                    self.filed = relisted;
                }
                let newly_known = !present.is_empty() && !self.known_before_list;
                {
                    let mut world = write(&state.world);
                    for kind in present {
                        world.mark_present(*kind);
                    }
                }
                self.known_before_list = true;
                state.sync.mark_synced(&self.name);
                // A kind that becomes known changes what checks can judge (skip becomes pass or
                // fail): every workload. A relist of a known kind changes only what it applied.
                if newly_known {
                    out.extend(state.all_workloads());
                }
            }
            Event::Apply(item) => {
                let version = version_of(&item);
                let (key, filed) = Self::identity(&item);
                out.extend(self.file(state, &key, filed, item));
                self.filed
                    .insert(key_digest(&key), Record { filed, version });
            }
            Event::Delete(item) => {
                let (key, filed) = Self::identity(&item);
                let filed = self
                    .filed
                    .remove(&key_digest(&key))
                    .map_or(filed, |r| r.filed);
                out.extend(state.delete_filed(&key, filed));
            }
        }
        out
    }

    fn file(
        &mut self,
        state: &LiveState,
        key: &str,
        filed: Filed,
        item: Item,
    ) -> BTreeSet<WorkloadKey> {
        let mut out = BTreeSet::new();
        // Filed differently than before (a bare Pod that gained an owner): undo the old filing.
        if let Some(old) = self.filed.get(&key_digest(key))
            && old.filed != filed
        {
            out.extend(state.delete_filed(key, old.filed));
        }
        out.extend(state.apply_item(item));
        out
    }
}

fn version_of(item: &Item) -> Option<NonZeroU64> {
    version_digest(match item {
        Item::Workload(w) => w.meta().resource_version.as_ref(),
        Item::Related(r) => r.meta().resource_version.as_ref(),
        Item::Policy(p) => p.metadata.resource_version.as_ref(),
    })
}

/// Where workload keys to judge again are sent. Bounded: a watch waits while the consumer
/// catches up rather than queueing without limit.
pub type Sink = Sender<WorkloadKey>;

/// Counts what happens to the watches (kept by the controller's metrics).
pub trait WatchObserver: Send + Sync {
    /// The watch is about to start: its series exist from now on, at zero, so that a rate
    /// over them works before its first error.
    fn watching(&self, watch: &str);
    fn error(&self, watch: &str);
    fn restart(&self, watch: &str);
}

/// One watch: how to build its stream, and how to turn its objects into items.
pub struct WatchSpec {
    pub name: String,
    pub present: Vec<RelatedKind>,
    stream: futures::stream::BoxStream<'static, Result<Event<Item>, watcher::Error>>,
}

fn typed<K, F>(
    api: Api<K>,
    config: watcher::Config,
    convert: F,
) -> futures::stream::BoxStream<'static, Result<Event<Item>, watcher::Error>>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    F: Fn(K) -> Option<Item> + Send + 'static,
{
    watch_stream(api, config)
        .default_backoff()
        .map(move |event| {
            event.map(|e| match e {
                Event::Apply(o) => convert_event(o, &convert, Event::Apply),
                Event::InitApply(o) => convert_event(o, &convert, Event::InitApply),
                Event::Delete(o) => convert_event(o, &convert, Event::Delete),
                Event::Init => Some(Event::Init),
                Event::InitDone => Some(Event::InitDone),
            })
        })
        .filter_map(|e| async move { e.transpose() })
        .boxed()
}

fn convert_event<K: Resource>(
    mut object: K,
    convert: &impl Fn(K) -> Option<Item>,
    wrap: fn(Item) -> Event<Item>,
) -> Option<Event<Item>> {
    strip_metadata(object.meta_mut());
    convert(object).map(wrap)
}

/// Which namespace the operator watches (`None`: every namespace).
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub namespace: Option<String>,
}

impl Scope {
    fn api<K>(&self, client: &Client) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        match &self.namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
}

fn spec(
    name: &str,
    present: &[RelatedKind],
    stream: futures::stream::BoxStream<'static, Result<Event<Item>, watcher::Error>>,
) -> WatchSpec {
    WatchSpec {
        name: name.to_string(),
        present: present.to_vec(),
        stream,
    }
}

/// The custom resources the API serves, found through discovery: a kind it does not serve is
/// not watched (its checks skip).
pub async fn discover_optional(client: &Client) -> Vec<ApiResource> {
    struct Dynamic(Vec<Served>);
    impl KindVisitor for Dynamic {
        type Output = ();
        fn namespaced<K: TypedKind<Scope = NamespaceResourceScope>>(&mut self) {}
        fn cluster<K: TypedKind<Scope = ClusterResourceScope>>(&mut self) {}
        fn dynamic<K: DynamicKind>(&mut self) {
            self.0.push(K::SERVED);
        }
    }
    let mut dynamic = Dynamic(Vec::new());
    kinds::visit_all(&mut dynamic);
    let mut out = Vec::new();
    for served in dynamic.0 {
        match kube::discovery::group(client, served.group).await {
            Ok(g) => {
                if let Some((resource, _)) = g.recommended_kind(served.kind) {
                    out.push(resource);
                }
            }
            Err(e) => {
                tracing::debug!(group = served.group, error = %e, "optional API group not served")
            }
        }
    }
    out
}

/// Objects per list request.
const LIST_PAGE_SIZE: u32 = 100;

/// Lists come in pages of 100 rather than kube's 500: every watch lists at once at start-up,
/// and a page is held decoded (a Deployment is about 10 KiB typed) until it is filed, so the
/// page size sets the start-up peak, which the allocator then keeps.
fn config() -> watcher::Config {
    watcher::Config::default().page_size(LIST_PAGE_SIZE)
}

/// A workload kind's watch: Pods, Jobs and ReplicaSets a controller owns are related objects.
fn workload_watch<K>(api: Api<K>, wrap: fn(K) -> WorkloadObject) -> WatchSpec
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let name = K::kind(&()).to_string();
    let kind = WorkloadKind::from_kind(&name).expect("a workload kind");
    // Owned Pods, Jobs and ReplicaSets make their related kind known once listed.
    let present: &[RelatedKind] = match kind {
        WorkloadKind::Pod => &[RelatedKind::Pod],
        WorkloadKind::Job => &[RelatedKind::Job],
        WorkloadKind::ReplicaSet => &[RelatedKind::ReplicaSet],
        WorkloadKind::CronJob => &[RelatedKind::CronJob],
        _ => &[],
    };
    spec(&name, present, typed(api, config(), wrap_workload(wrap)))
}

fn wrap_workload<K>(wrap: fn(K) -> WorkloadObject) -> impl Fn(K) -> Option<Item> + Send + 'static
where
    K: 'static,
{
    move |o| {
        Some(match RelatedObject::owned(wrap(o)) {
            Ok(related) => Item::Related(related),
            Err(workload) => Item::Workload(workload),
        })
    }
}

/// Builds the watches of every related kind, as its entry in `world::kinds` says.
struct RelatedWatches<'a> {
    client: &'a Client,
    scope: &'a Scope,
    discovered: &'a [ApiResource],
    out: Vec<WatchSpec>,
}

impl RelatedWatches<'_> {
    fn add<K>(&mut self, api: impl Fn() -> Api<K>)
    where
        K: TypedKind + Resource + Clone + Debug,
    {
        for w in K::WATCHES {
            let mut cfg = config();
            if let Some(fields) = w.fields {
                cfg = cfg.fields(fields);
            }
            let stream = typed(api(), cfg, |o: K| Some(Item::Related(o.into())));
            let name = w.name.unwrap_or(K::SERVED.kind);
            self.out
                .push(spec(name, w.present.unwrap_or(K::KINDS), stream));
        }
    }
}

impl KindVisitor for RelatedWatches<'_> {
    type Output = ();

    fn namespaced<K: TypedKind<Scope = NamespaceResourceScope>>(&mut self) {
        let (client, scope) = (self.client, self.scope);
        self.add::<K>(|| scope.api::<K>(client));
    }

    fn cluster<K: TypedKind<Scope = ClusterResourceScope>>(&mut self) {
        let client = self.client;
        self.add::<K>(|| Api::<K>::all(client.clone()));
    }

    fn dynamic<K: DynamicKind>(&mut self) {
        let Some(resource) = self
            .discovered
            .iter()
            .find(|r| r.group == K::SERVED.group && r.kind == K::SERVED.kind)
        else {
            return;
        };
        let api: Api<DynamicObject> = match (&self.scope.namespace, K::SERVED.namespaced) {
            (Some(ns), true) => Api::namespaced_with(self.client.clone(), ns, resource),
            _ => Api::all_with(self.client.clone(), resource),
        };
        let stream = typed(api, config(), |o: DynamicObject| {
            Some(Item::Related(K::from(o).into()))
        });
        self.out.push(spec(&resource.kind, K::KINDS, stream));
    }
}

/// Every watch the World needs, plus the workloads and the policies.
pub fn watches(client: &Client, scope: &Scope, discovered: &[ApiResource]) -> Vec<WatchSpec> {
    let mut out = vec![
        workload_watch(scope.api::<Deployment>(client), WorkloadObject::Deployment),
        workload_watch(
            scope.api::<StatefulSet>(client),
            WorkloadObject::StatefulSet,
        ),
        workload_watch(scope.api::<DaemonSet>(client), WorkloadObject::DaemonSet),
        workload_watch(scope.api::<CronJob>(client), WorkloadObject::CronJob),
        workload_watch(scope.api::<Job>(client), WorkloadObject::Job),
        workload_watch(scope.api::<ReplicaSet>(client), WorkloadObject::ReplicaSet),
        workload_watch(scope.api::<Pod>(client), WorkloadObject::Pod),
    ];
    let mut related = RelatedWatches {
        client,
        scope,
        discovered,
        out: Vec::new(),
    };
    kinds::visit_all(&mut related);
    out.extend(related.out);
    out.push(spec(
        "ReadinessPolicy",
        &[],
        typed(Api::<ReadinessPolicy>::all(client.clone()), config(), |o| {
            Some(Item::Policy(o))
        }),
    ));
    out
}

/// Runs one watch until the stream ends (never, in practice: errors are retried with backoff).
pub async fn run(
    watch: WatchSpec,
    state: Arc<LiveState>,
    sink: Sink,
    observer: Arc<dyn WatchObserver>,
) {
    let WatchSpec {
        name,
        present,
        mut stream,
    } = watch;
    let mut applied = WatchState::new(&name);
    // A list that got to its end (the watcher announces a list before it makes it): a list
    // announced after one is a relist, a restart of the watch.
    let mut completed_list = false;
    while let Some(event) = stream.next().await {
        match event {
            Ok(event) => {
                match event {
                    Event::InitDone => completed_list = true,
                    Event::Init if completed_list => {
                        observer.restart(&name);
                        tracing::info!(watch = %name, "watch relisting");
                    }
                    _ => {}
                }
                for key in applied.handle(&state, event, &present) {
                    if sink.send(key).await.is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                let forbidden = !completed_list && is_forbidden(&e);
                // A refused list is counted once: retrying it is not a new failure.
                if !(forbidden && state.sync.is_synced(&name)) {
                    observer.error(&name);
                }
                if forbidden {
                    // A kind the operator may not read (its RBAC left out on purpose) must not
                    // hold readiness forever: its checks skip, and the watch keeps retrying in
                    // case the permission is granted later.
                    if !state.sync.is_synced(&name) {
                        tracing::warn!(watch = %name, error = %e,
                            "not allowed to list this kind: the checks that need it skip");
                        state.sync.mark_synced(&name);
                    }
                } else {
                    tracing::warn!(watch = %name, error = %e, "watch error; retrying with backoff");
                }
            }
        }
    }
}

/// Starts every watch the World needs into `state`, sending the keys of the workloads each
/// change affects to `sink`. Returns the watch names (to wait for their first list) and the
/// tasks.
pub async fn spawn_all(
    client: &Client,
    scope: &Scope,
    state: Arc<LiveState>,
    sink: Sink,
    observer: Arc<dyn WatchObserver>,
) -> (Vec<String>, Vec<tokio::task::JoinHandle<()>>) {
    let optional = discover_optional(client).await;
    let specs = watches(client, scope, &optional);
    let names = specs.iter().map(|s| s.name.clone()).collect();
    for spec in &specs {
        observer.watching(&spec.name);
    }
    let tasks = specs
        .into_iter()
        .map(|spec| tokio::spawn(run(spec, state.clone(), sink.clone(), observer.clone())))
        .collect();
    (names, tasks)
}

/// The apiserver refused the list for lack of permission.
fn is_forbidden(error: &watcher::Error) -> bool {
    matches!(
        error,
        watcher::Error::InitialListFailed(kube::Error::Api(status)) if status.code == 403
    )
}

/// Lists one kind once into the state (a one-shot audit): returns when the list is complete,
/// or with the first error (the kind then stays unknown and its checks skip).
pub async fn list_once(watch: WatchSpec, state: &LiveState) -> Result<(), Error> {
    let WatchSpec {
        name,
        present,
        mut stream,
    } = watch;
    let mut applied = WatchState::new(&name);
    while let Some(event) = stream.next().await {
        match event {
            Ok(event) => {
                let done = matches!(event, Event::InitDone);
                applied.handle(state, event, &present);
                if done {
                    return Ok(());
                }
            }
            Err(source) => {
                return Err(Error::List {
                    watch: name,
                    source,
                });
            }
        }
    }
    Err(Error::ListEnded { watch: name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn netpol(name: &str, app: &str, rv: &str) -> Item {
        Item::Related(RelatedObject::NetworkPolicy(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "shop", "resourceVersion": rv},
                "spec": {"podSelector": {"matchLabels": {"app": app}}}
            }))
            .unwrap(),
        ))
    }

    fn deployment(name: &str, rv: &str) -> Item {
        Item::Workload(WorkloadObject::Deployment(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "shop", "resourceVersion": rv},
                "spec": {"selector": {}, "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": []}}}
            }))
            .unwrap(),
        ))
    }

    /// Whether any NetworkPolicy in the World selects the pods labelled `app: <app>` in `shop`.
    fn selected_by_a_policy(state: &LiveState, app: &str) -> bool {
        let labels = [("app".to_string(), app.to_string())].into();
        !read(&state.world)
            .network_policies_selecting("shop", &labels)
            .is_empty()
    }

    fn names(keys: BTreeSet<WorkloadKey>) -> Vec<String> {
        keys.into_iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn relist_skips_unchanged_objects_and_removes_missed_deletions() {
        let state = LiveState::default();
        let mut workloads = WatchState::new("Deployment");
        let mut policies = WatchState::new("NetworkPolicy");
        state
            .sync
            .expect(["Deployment".to_string(), "NetworkPolicy".to_string()]);
        workloads.handle(&state, Event::Init, &[]);
        workloads.handle(&state, Event::InitApply(deployment("api", "1")), &[]);
        workloads.handle(&state, Event::InitApply(deployment("web", "1")), &[]);
        workloads.handle(&state, Event::InitDone, &[]);
        policies.handle(&state, Event::Init, &[RelatedKind::NetworkPolicy]);
        let first = policies.handle(&state, Event::InitApply(netpol("np", "api", "5")), &[]);
        assert_eq!(names(first), ["Deployment/shop/api"]);
        let done = policies.handle(&state, Event::InitDone, &[RelatedKind::NetworkPolicy]);
        assert_eq!(done.len(), 2, "a kind now known re-judges everything");
        assert!(state.sync.all_synced());
        assert!(read(&state.world).has(RelatedKind::NetworkPolicy));

        // Relist after 410 Gone: `np` unchanged, `web` deleted while disconnected.
        policies.handle(&state, Event::Init, &[]);
        let again = policies.handle(&state, Event::InitApply(netpol("np", "api", "5")), &[]);
        assert!(again.is_empty(), "an unchanged object is not applied again");
        let done = policies.handle(&state, Event::InitDone, &[RelatedKind::NetworkPolicy]);
        assert!(
            done.is_empty(),
            "a relist of a known kind re-judges nothing unchanged"
        );
        workloads.handle(&state, Event::Init, &[]);
        workloads.handle(&state, Event::InitApply(deployment("api", "1")), &[]);
        let gone = workloads.handle(&state, Event::InitDone, &[]);
        assert_eq!(names(gone), ["Deployment/shop/web"]);
        assert_eq!(state.all_workloads().len(), 1);

        // A related object deleted while disconnected: found again by its key, unfiled, and
        // what it selected is judged again.
        policies.handle(&state, Event::Init, &[]);
        let gone = policies.handle(&state, Event::InitDone, &[RelatedKind::NetworkPolicy]);
        assert_eq!(names(gone), ["Deployment/shop/api"]);
        assert!(read(&state.footprints).is_empty());
        assert!(!selected_by_a_policy(&state, "api"));
    }

    #[test]
    fn deleting_a_network_policy_affects_what_it_selected() {
        let state = LiveState::default();
        let mut workloads = WatchState::new("Deployment");
        let mut policies = WatchState::new("NetworkPolicy");
        workloads.handle(&state, Event::Apply(deployment("api", "1")), &[]);
        workloads.handle(&state, Event::Apply(deployment("web", "1")), &[]);
        policies.handle(&state, Event::Apply(netpol("np", "api", "2")), &[]);
        let moved = policies.handle(&state, Event::Apply(netpol("np", "web", "3")), &[]);
        assert_eq!(names(moved), ["Deployment/shop/api", "Deployment/shop/web"]);
        let deleted = policies.handle(&state, Event::Delete(netpol("np", "web", "3")), &[]);
        assert_eq!(names(deleted), ["Deployment/shop/web"]);
        assert!(!selected_by_a_policy(&state, "web"));
    }

    #[test]
    fn secret_values_are_dropped_before_caching() {
        let mut object = RelatedObject::Secret(
            serde_json::from_value(json!({
                "metadata": {"name": "db", "namespace": "shop"},
                "data": {"password": "aHVudGVyMg=="}
            }))
            .unwrap(),
        );
        object.strip();
        let RelatedObject::Secret(secret) = object else {
            unreachable!()
        };
        assert!(secret.data.unwrap()["password"].0.is_empty());
    }

    #[test]
    fn a_policy_edit_recompiles_the_set_and_reaches_its_namespaces() {
        let state = LiveState::default();
        let mut workloads = WatchState::new("Deployment");
        workloads.handle(&state, Event::Apply(deployment("api", "1")), &[]);
        let policy: ReadinessPolicy = serde_json::from_value(json!({
            "apiVersion": "prodready.dev/v1alpha1", "kind": "ReadinessPolicy",
            "metadata": {"name": "strict", "resourceVersion": "1"},
            "spec": {"checks": [{"id": "network-no-policy", "enabled": false}]}
        }))
        .unwrap();
        let mut policies = WatchState::new("ReadinessPolicy");
        let keys = policies.handle(&state, Event::Apply(Item::Policy(policy.clone())), &[]);
        assert_eq!(names(keys), ["Deployment/shop/api"]);
        assert_eq!(read(&state.policies).policies().len(), 1);
        policies.handle(&state, Event::Delete(Item::Policy(policy)), &[]);
        assert!(read(&state.policies).policies().is_empty());
    }
}
