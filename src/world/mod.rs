//! The World: one index over every related object a check needs, with label-selector lookups.
//! Built from files by the CLI and kept current from watches by the controller; the engine only
//! reads it. It holds reduced facts, not whole objects. What it keeps of each related kind, and
//! how, is that kind's entry in `kinds`; this file holds the index and its lookups.

mod compact;
mod facts;
pub mod helm;
mod hpas;
pub mod ingest;
pub mod kinds;
pub mod meta;
pub mod reach;
mod selector;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

pub use compact::{ByName, Labels, Named, Names};
pub use facts::*;
pub use kinds::{KindSet, RelatedKind, RelatedObject};
pub use meta::OwnerKey;
pub use reach::{Footprint, Reference};
pub use selector::{LabelSet, Requirement, Selector, SelectorIndex};

use crate::workload::WorkloadObject;
use meta::{name_of, ns_of};

/// A subject a binding grants to: a ServiceAccount, or every ServiceAccount (of a namespace).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum SubjectKey {
    ServiceAccount(String, String),
    AllServiceAccountsIn(String),
    AllServiceAccounts,
}

/// Everything the World knows about one namespace.
#[derive(Debug, Default)]
pub struct NamespaceIndex {
    services: SelectorIndex<ServiceFacts>,
    ingresses: ByName<IngressFacts>,
    /// Service -> the Ingresses routing to it.
    ingresses_by_service: HashMap<Box<str>, Names>,
    network_policies: SelectorIndex<NetworkPolicyFacts>,
    pdbs: SelectorIndex<PdbFacts>,
    hpas: hpas::Hpas,
    config_maps: ByName<ConfigMapFacts>,
    secrets: ByName<SecretFacts>,
    pvcs: ByName<PvcFacts>,
    service_accounts: ByName<ServiceAccountFacts>,
    role_bindings: HashMap<String, (BindingFacts, Vec<SubjectKey>)>,
    /// Monitors looking into this namespace, filed by display (`ServiceMonitor/ns/name`).
    service_monitors: SelectorIndex<MonitorFacts>,
    pod_monitors: SelectorIndex<MonitorFacts>,
    prometheus_rules: BTreeSet<String>,
    cron_jobs: ByName<CronJobFacts>,
    snapshot_claims: HashMap<String, String>,
    /// Filed by display (`SnapshotSchedule/ns/name`).
    snapshot_schedules: SelectorIndex<String>,
    pods: HashMap<OwnerKey, BTreeMap<String, PodFacts>>,
    pod_owner: HashMap<String, OwnerKey>,
    replica_set_owner: HashMap<String, String>,
    job_owner: HashMap<String, String>,
    helm_releases: HashMap<String, HelmReleaseFacts>,
    /// EndpointSlice name -> (Service, ready endpoints).
    endpoint_slices: HashMap<String, (String, u32)>,
    endpoints: HashMap<String, u32>,
    /// The pod templates of the namespace's workloads, by `Kind/name`.
    templates: BTreeMap<Box<str>, TemplateFacts>,
    /// Labels of the pods whose owner prodready does not judge (a custom resource's controller
    /// made them), by name: a Service selecting them routes somewhere.
    unjudged_pods: BTreeMap<Box<str>, Labels>,
}

/// The index. See the module documentation.
#[derive(Debug, Default)]
pub struct World {
    present: KindSet,
    /// The World may lack objects that exist: manifests read offline, not declared the whole
    /// of their namespaces. An object it does not hold is then not proven missing.
    partial: bool,
    namespaces: HashMap<String, NamespaceIndex>,
    namespace_labels: HashMap<String, BTreeMap<String, String>>,
    /// Namespaces being deleted: the apiserver refuses new objects in them.
    terminating: HashSet<String>,
    pvs: HashMap<String, PvFacts>,
    pv_by_claim: HashMap<(String, String), String>,
    storage_classes: BTreeMap<String, StorageClassFacts>,
    cluster_roles: HashMap<String, ClusterRoleFacts>,
    cluster_bindings: HashMap<String, (BindingFacts, Vec<SubjectKey>)>,
    velero_schedules: BTreeMap<String, VeleroScheduleFacts>,
    nodes: HashMap<String, NodeFacts>,
    /// Monitors looking into every namespace, filed by display.
    any_ns_service_monitors: SelectorIndex<MonitorFacts>,
    any_ns_pod_monitors: SelectorIndex<MonitorFacts>,
    /// Where each namespaced monitor was filed, for removal.
    monitor_targets: HashMap<(RelatedKind, String), Vec<String>>,
    /// Decoding problems with related objects (Helm payloads), by `Kind/ns/name`.
    problems: BTreeMap<String, String>,
}

impl World {
    pub fn new() -> World {
        World::default()
    }

    /// Whether objects of this kind are known: seen in the input, or watched in the cluster.
    /// A check whose related kinds are unknown says `skip` rather than `pass`.
    pub fn has(&self, kind: RelatedKind) -> bool {
        self.present.contains(kind)
    }

    /// Declares a kind known even with no object of it (the controller, once a watch synced).
    pub fn mark_present(&mut self, kind: RelatedKind) {
        self.present.insert(kind);
    }

    pub fn mark_absent(&mut self, kind: RelatedKind) {
        self.present.remove(kind);
    }

    pub fn present_kinds(&self) -> KindSet {
        self.present
    }

    /// Declares whether the World may lack objects that exist (see `is_partial`).
    pub fn set_partial(&mut self, partial: bool) {
        self.partial = partial;
    }

    /// Whether an object the World does not hold may still exist: true for manifests read
    /// offline (other manifests, an operator or External Secrets may create it), false in the
    /// cluster, where missing is missing, and for input declared complete.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// Problems met while reading related objects, as (`Kind/ns/name`, reason).
    pub fn problems(&self) -> impl Iterator<Item = (&str, &str)> {
        self.problems.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn ns_mut(&mut self, ns: &str) -> &mut NamespaceIndex {
        if !self.namespaces.contains_key(ns) {
            self.namespaces
                .insert(ns.to_string(), NamespaceIndex::default());
        }
        self.namespaces.get_mut(ns).expect("inserted above")
    }

    pub fn namespace(&self, ns: &str) -> Option<&NamespaceIndex> {
        self.namespaces.get(ns)
    }

    /// Adds or replaces a related object.
    pub fn apply(&mut self, object: RelatedObject) {
        object.apply_to(self);
    }

    /// Records what the World needs from a workload: its pod template's labels and ports, and
    /// CronJobs that may be backups.
    pub fn apply_workload(&mut self, workload: &WorkloadObject) {
        if let Some(view) = workload.view() {
            let facts = template_facts(&view);
            self.ns_mut(view.namespace)
                .templates
                .insert(facts.workload.clone(), facts);
        }
        if let WorkloadObject::CronJob(cj) = workload {
            self.present.insert(RelatedKind::CronJob);
            let ns = ns_of(&cj.metadata);
            let labels = cj.metadata.labels.as_ref();
            let labelled_backup = labels.is_some_and(|l| {
                l.contains_key("prodready.dev/backup")
                    || l.get("app.kubernetes.io/component")
                        .is_some_and(|c| c == "backup")
            });
            let spec = cj.spec.as_ref();
            let pod_spec = spec
                .and_then(|s| s.job_template.spec.as_ref())
                .and_then(|j| j.template.spec.as_ref());
            let facts = CronJobFacts {
                name: name_of(&cj.metadata),
                labelled_backup,
                command_text: pod_spec.map(ingest::command_text).unwrap_or_default(),
                suspended: spec.and_then(|s| s.suspend).unwrap_or(false),
            };
            self.ns_mut(&ns).cron_jobs.insert(facts);
        }
    }

    /// Forgets a workload recorded by `apply_workload`.
    pub fn remove_workload(&mut self, kind: crate::workload::WorkloadKind, ns: &str, name: &str) {
        let Some(idx) = self.namespaces.get_mut(ns) else {
            return;
        };
        idx.templates
            .remove(format!("{}/{name}", kind.as_str()).as_str());
        if kind == crate::workload::WorkloadKind::CronJob {
            idx.cron_jobs.remove(name);
        }
    }

    /// Removes a related object of the World's kind `kind`. `ns` is ignored for cluster-scoped
    /// kinds.
    pub fn remove(&mut self, kind: RelatedKind, ns: &str, name: &str) {
        if kind == RelatedKind::CronJob {
            self.remove_workload(crate::workload::WorkloadKind::CronJob, ns, name);
            return;
        }
        kinds::remove(self, kind, ns, name);
    }

    // ---- lookups -------------------------------------------------------------------------

    /// The namespaces the World holds anything of (objects, workloads), in no set order.
    pub fn namespace_names(&self) -> impl Iterator<Item = &str> {
        self.namespaces.keys().map(String::as_str)
    }

    /// The pod templates of the workloads in `ns`, by `Kind/name`.
    pub fn templates(&self, ns: &str) -> impl Iterator<Item = &TemplateFacts> {
        self.namespaces
            .get(ns)
            .into_iter()
            .flat_map(|i| i.templates.values())
    }

    /// What the selector finds in `ns`: the `Kind/name` of the first workload whose pod
    /// template it matches, or of the first pod of an owner prodready does not judge.
    pub fn first_selected(&self, ns: &str, selector: &Selector) -> Option<String> {
        let idx = self.namespaces.get(ns)?;
        // Labels a workload's controller puts on every pod it makes (a StatefulSet's pod name,
        // a Deployment's template hash, a Job's name) are on no template: a selector may ask
        // for them and still find the pods.
        let on_templates = selector.without_keys(&CONTROLLER_POD_LABELS);
        if let Some(t) = idx
            .templates
            .values()
            .find(|t| on_templates.matches(&t.labels))
        {
            return Some(t.workload.to_string());
        }
        idx.unjudged_pods
            .iter()
            .find(|(_, labels)| selector.matches(*labels))
            .map(|(name, _)| format!("Pod/{name}"))
    }

    /// The Services of `ns` with their selectors, by name.
    pub fn services_in(&self, ns: &str) -> Vec<(&Selector, &ServiceFacts)> {
        let mut out: Vec<(&Selector, &ServiceFacts)> = self
            .namespaces
            .get(ns)
            .map(|i| i.services.iter().map(|(_, sel, svc)| (sel, svc)).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        out
    }

    /// The pod templates of `ns` the selector matches (ignoring the labels controllers add to
    /// every pod), and whether it also matches pods of an owner prodready does not judge,
    /// whose ports are unknown.
    pub fn selected_templates(&self, ns: &str, selector: &Selector) -> (Vec<&TemplateFacts>, bool) {
        let Some(idx) = self.namespaces.get(ns) else {
            return (Vec::new(), false);
        };
        let on_templates = selector.without_keys(&CONTROLLER_POD_LABELS);
        let templates = idx
            .templates
            .values()
            .filter(|t| on_templates.matches(&t.labels))
            .collect();
        let unjudged = idx
            .unjudged_pods
            .values()
            .any(|labels| selector.matches(labels));
        (templates, unjudged)
    }

    /// The pod template of workload `Kind/name` in `ns`.
    pub fn template(&self, ns: &str, workload: &str) -> Option<&TemplateFacts> {
        self.namespaces.get(ns)?.templates.get(workload)
    }

    /// The NetworkPolicies of `ns` with their pod selectors, by name.
    pub fn network_policies_in(&self, ns: &str) -> Vec<(&Selector, &NetworkPolicyFacts)> {
        let mut out: Vec<(&Selector, &NetworkPolicyFacts)> = self
            .namespaces
            .get(ns)
            .map(|i| {
                i.network_policies
                    .iter()
                    .map(|(_, sel, p)| (sel, p))
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        out
    }

    /// The PodDisruptionBudgets of `ns` with their selectors, by name.
    pub fn pdbs_in(&self, ns: &str) -> Vec<(&Selector, &PdbFacts)> {
        let mut out: Vec<(&Selector, &PdbFacts)> = self
            .namespaces
            .get(ns)
            .map(|i| i.pdbs.iter().map(|(_, sel, p)| (sel, p)).collect())
            .unwrap_or_default();
        out.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        out
    }

    /// The HorizontalPodAutoscalers of `ns`, by name.
    pub fn hpas_in(&self, ns: &str) -> Vec<&HpaFacts> {
        self.namespaces
            .get(ns)
            .map(|i| i.hpas.sorted())
            .unwrap_or_default()
    }

    /// The Ingresses of `ns`, by name.
    pub fn ingresses_in(&self, ns: &str) -> Vec<&IngressFacts> {
        self.namespaces
            .get(ns)
            .map(|i| i.ingresses.sorted())
            .unwrap_or_default()
    }

    pub fn namespace_labels(&self, ns: &str) -> Option<&BTreeMap<String, String>> {
        self.namespace_labels.get(ns)
    }

    /// Whether the namespace is being deleted: it has a deletionTimestamp, or the apiserver
    /// refused an object in it for that reason. Nothing is written into it any more; its
    /// reports go with it.
    pub fn is_terminating(&self, ns: &str) -> bool {
        self.terminating.contains(ns)
    }

    /// Records that the namespace is being deleted (the apiserver said so before its watch
    /// did). Only while Namespaces are watched: their watch forgets the namespace once it is
    /// gone, so a namespace created again under the same name is written to again.
    pub fn mark_terminating(&mut self, ns: &str) {
        if self.has(RelatedKind::Namespace) {
            self.terminating.insert(ns.to_string());
        }
    }

    /// Services in `ns` whose selector matches the pod labels.
    pub fn services_selecting(
        &self,
        ns: &str,
        labels: &BTreeMap<String, String>,
    ) -> Vec<&ServiceFacts> {
        self.namespaces
            .get(ns)
            .map(|i| i.services.matching(labels))
            .unwrap_or_default()
    }

    pub fn service(&self, ns: &str, name: &str) -> Option<&ServiceFacts> {
        self.namespaces.get(ns)?.services.get(name)
    }

    /// Ingresses in `ns` that route to the Service.
    pub fn ingresses_for_service(&self, ns: &str, service: &str) -> Vec<&IngressFacts> {
        let Some(idx) = self.namespaces.get(ns) else {
            return Vec::new();
        };
        idx.ingresses_by_service
            .get(service)
            .into_iter()
            .flat_map(Names::iter)
            .filter_map(|n| idx.ingresses.get(n))
            .collect()
    }

    pub fn network_policies_selecting(
        &self,
        ns: &str,
        labels: &BTreeMap<String, String>,
    ) -> Vec<&NetworkPolicyFacts> {
        self.namespaces
            .get(ns)
            .map(|i| i.network_policies.matching(labels))
            .unwrap_or_default()
    }

    pub fn pdbs_selecting(&self, ns: &str, labels: &BTreeMap<String, String>) -> Vec<&PdbFacts> {
        self.namespaces
            .get(ns)
            .map(|i| i.pdbs.matching(labels))
            .unwrap_or_default()
    }

    /// The HorizontalPodAutoscaler that scales `kind/name`, if any (the first by name when
    /// several do).
    pub fn hpa_for(&self, ns: &str, kind: &str, name: &str) -> Option<&HpaFacts> {
        self.namespaces.get(ns)?.hpas.scaling(kind, name)
    }

    pub fn config_map(&self, ns: &str, name: &str) -> Option<&ConfigMapFacts> {
        self.namespaces.get(ns)?.config_maps.get(name)
    }

    pub fn secret(&self, ns: &str, name: &str) -> Option<&SecretFacts> {
        self.namespaces.get(ns)?.secrets.get(name)
    }

    pub fn pvc(&self, ns: &str, name: &str) -> Option<&PvcFacts> {
        self.namespaces.get(ns)?.pvcs.get(name)
    }

    pub fn pv(&self, name: &str) -> Option<&PvFacts> {
        self.pvs.get(name)
    }

    /// The PersistentVolume bound to a claim (by the claim's volumeName or the PV's claimRef).
    pub fn pv_for_claim(&self, ns: &str, claim: &str) -> Option<&PvFacts> {
        if let Some(v) = self.pvc(ns, claim).and_then(|c| c.volume_name.as_deref())
            && let Some(pv) = self.pvs.get(v)
        {
            return Some(pv);
        }
        let name = self.pv_by_claim.get(&(ns.to_string(), claim.to_string()))?;
        self.pvs.get(name)
    }

    pub fn storage_class(&self, name: &str) -> Option<&StorageClassFacts> {
        self.storage_classes.get(name)
    }

    pub fn default_storage_class(&self) -> Option<&StorageClassFacts> {
        self.storage_classes.values().find(|s| s.is_default)
    }

    pub fn service_account(&self, ns: &str, name: &str) -> Option<&ServiceAccountFacts> {
        self.namespaces.get(ns)?.service_accounts.get(name)
    }

    /// Whether a binding names the ServiceAccount itself as a subject (not through a group):
    /// someone granted it API permissions, so its pods use the API.
    pub fn service_account_is_bound(&self, ns: &str, name: &str) -> bool {
        let named = |(_, subs): &(BindingFacts, Vec<SubjectKey>)| {
            subs.iter()
                .any(|s| matches!(s, SubjectKey::ServiceAccount(n, a) if n == ns && a == name))
        };
        self.cluster_bindings.values().any(named)
            || self
                .namespaces
                .get(ns)
                .is_some_and(|idx| idx.role_bindings.values().any(named))
    }

    /// Bindings that grant a role to the ServiceAccount (directly or through a
    /// `system:serviceaccounts` group).
    pub fn bindings_of_service_account(&self, ns: &str, name: &str) -> Vec<&BindingFacts> {
        let wanted = |s: &SubjectKey| match s {
            SubjectKey::ServiceAccount(n, a) => n == ns && a == name,
            SubjectKey::AllServiceAccountsIn(n) => n == ns,
            SubjectKey::AllServiceAccounts => true,
        };
        let mut out: Vec<&BindingFacts> = self
            .cluster_bindings
            .values()
            .filter(|(_, subs)| subs.iter().any(wanted))
            .map(|(b, _)| b)
            .collect();
        if let Some(idx) = self.namespaces.get(ns) {
            out.extend(
                idx.role_bindings
                    .values()
                    .filter(|(_, subs)| subs.iter().any(wanted))
                    .map(|(b, _)| b),
            );
        }
        out.sort_by(|a, b| a.display.cmp(&b.display));
        out
    }

    pub fn cluster_role(&self, name: &str) -> Option<&ClusterRoleFacts> {
        self.cluster_roles.get(name)
    }

    /// ServiceMonitors that scrape a Service with these labels in `ns`.
    pub fn service_monitors_selecting(
        &self,
        ns: &str,
        service_labels: &Labels,
    ) -> Vec<&MonitorFacts> {
        let mut out = self.any_ns_service_monitors.matching(service_labels);
        if let Some(idx) = self.namespaces.get(ns) {
            out.extend(idx.service_monitors.matching(service_labels));
        }
        out
    }

    /// PodMonitors that scrape pods with these labels in `ns`.
    pub fn pod_monitors_selecting(
        &self,
        ns: &str,
        pod_labels: &BTreeMap<String, String>,
    ) -> Vec<&MonitorFacts> {
        let mut out = self.any_ns_pod_monitors.matching(pod_labels);
        if let Some(idx) = self.namespaces.get(ns) {
            out.extend(idx.pod_monitors.matching(pod_labels));
        }
        out
    }

    /// Names of the PrometheusRules in a namespace.
    pub fn prometheus_rules(&self, ns: &str) -> Vec<&str> {
        self.namespaces
            .get(ns)
            .map(|i| i.prometheus_rules.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn velero_schedules_covering(&self, ns: &str) -> Vec<&VeleroScheduleFacts> {
        self.velero_schedules
            .values()
            .filter(|s| s.covers(ns))
            .collect()
    }

    pub fn cron_jobs(&self, ns: &str) -> Vec<&CronJobFacts> {
        self.namespaces
            .get(ns)
            .map(|i| i.cron_jobs.sorted())
            .unwrap_or_default()
    }

    /// Names of the VolumeSnapshots taken of a claim.
    pub fn snapshots_of_claim(&self, ns: &str, claim: &str) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .namespaces
            .get(ns)
            .map(|i| {
                i.snapshot_claims
                    .iter()
                    .filter(|(_, c)| c.as_str() == claim)
                    .map(|(s, _)| s.as_str())
                    .collect()
            })
            .unwrap_or_default();
        out.sort_unstable();
        out
    }

    /// Snapshot schedules whose claim selector matches the claim's labels.
    pub fn snapshot_schedules_for_claim(&self, ns: &str, claim: &PvcFacts) -> Vec<&String> {
        self.namespaces
            .get(ns)
            .map(|i| i.snapshot_schedules.matching(&claim.labels))
            .unwrap_or_default()
    }

    /// The observed pods of a top-level workload.
    pub fn pods_of(&self, ns: &str, kind: &str, name: &str) -> Vec<&PodFacts> {
        let Some(idx) = self.namespaces.get(ns) else {
            return Vec::new();
        };
        let key = |kind: &str, name: &str| OwnerKey {
            kind: kind.to_string(),
            name: name.to_string(),
        };
        let mut out: Vec<&PodFacts> = Vec::new();
        let mut add = |k: OwnerKey| {
            if let Some(p) = idx.pods.get(&k) {
                out.extend(p.values());
            }
        };
        add(key(kind, name));
        match kind {
            "Deployment" => {
                for (rs, owner) in &idx.replica_set_owner {
                    if owner == name {
                        add(key("ReplicaSet", rs));
                    }
                }
            }
            "CronJob" => {
                for (job, owner) in &idx.job_owner {
                    if owner == name {
                        add(key("Job", job));
                    }
                }
            }
            _ => {}
        }
        out
    }

    pub fn helm_release(&self, ns: &str, name: &str) -> Option<&HelmReleaseFacts> {
        self.namespaces.get(ns)?.helm_releases.get(name)
    }

    /// Ready endpoints behind a Service; `None` when the input says nothing about it.
    pub fn ready_endpoints(&self, ns: &str, service: &str) -> Option<u32> {
        let idx = self.namespaces.get(ns)?;
        let mut seen = false;
        let mut total = 0;
        for (svc, ready) in idx.endpoint_slices.values() {
            if svc == service {
                seen = true;
                total += ready;
            }
        }
        if seen {
            return Some(total);
        }
        idx.endpoints.get(service).copied()
    }

    pub fn node(&self, name: &str) -> Option<&NodeFacts> {
        self.nodes.get(name)
    }
}

/// Labels the workload controllers add to the pods they make.
const CONTROLLER_POD_LABELS: [&str; 9] = [
    "pod-template-hash",
    "controller-revision-hash",
    "statefulset.kubernetes.io/pod-name",
    "apps.kubernetes.io/pod-index",
    "job-name",
    "controller-uid",
    "batch.kubernetes.io/job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-completion-index",
];

/// The labels and declared ports of a workload's pod template (init containers' ports too: a
/// native sidecar serves from them).
fn template_facts(view: &crate::workload::Workload<'_>) -> TemplateFacts {
    let ports = view
        .all_containers()
        .flat_map(|c| c.ports.iter().flatten())
        .map(|p| DeclaredPort {
            name: p.name.as_deref().map(Into::into),
            number: p.container_port,
        })
        .collect();
    TemplateFacts {
        workload: format!("{}/{}", view.kind.as_str(), view.name).into(),
        labels: Labels::from(view.pod_labels()),
        ports,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn typed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("a valid object")
    }

    fn dynamic(kind: &str, value: serde_json::Value) -> kube::api::DynamicObject {
        let mut value = value;
        value["apiVersion"] = json!("example.com/v1");
        value["kind"] = json!(kind);
        typed(value)
    }

    fn ingress(name: &str, service: &str) -> RelatedObject {
        RelatedObject::Ingress(typed(json!({
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix",
                 "backend": {"service": {"name": service, "port": {"number": 80}}}}
            ]}}]}
        })))
    }

    fn names<T: Named>(facts: Vec<&T>) -> Vec<&str> {
        facts.into_iter().map(Named::name).collect()
    }

    #[test]
    fn a_namespace_is_terminating_from_its_deletion_until_it_is_gone() {
        let mut world = World::new();
        let namespace = |deleted: bool| {
            let mut value = json!({"metadata": {"name": "shop"}});
            if deleted {
                value["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
            }
            RelatedObject::Namespace(typed(value))
        };
        world.mark_terminating("shop");
        assert!(
            !world.is_terminating("shop"),
            "without a watch of Namespaces, nothing would forget the mark"
        );
        world.apply(namespace(false));
        assert!(!world.is_terminating("shop"));
        world.apply(namespace(true));
        assert!(world.is_terminating("shop"));
        world.remove(RelatedKind::Namespace, "", "shop");
        assert!(
            !world.is_terminating("shop"),
            "created again: written to again"
        );
        world.apply(namespace(false));
        world.mark_terminating("shop");
        assert!(world.is_terminating("shop"));
    }

    #[test]
    fn ingresses_are_found_by_service_until_rerouted_or_removed() {
        let mut world = World::new();
        world.apply(ingress("b", "api"));
        world.apply(ingress("a", "api"));
        assert_eq!(
            names(world.ingresses_for_service("shop", "api")),
            ["a", "b"]
        );
        world.apply(ingress("b", "web"));
        assert_eq!(names(world.ingresses_for_service("shop", "api")), ["a"]);
        assert_eq!(names(world.ingresses_for_service("shop", "web")), ["b"]);
        world.remove(RelatedKind::Ingress, "shop", "a");
        assert!(world.ingresses_for_service("shop", "api").is_empty());
        assert_eq!(
            world.namespace("shop").unwrap().ingresses_by_service.len(),
            1
        );
    }

    #[test]
    fn services_and_monitors_are_found_by_labels() {
        let mut world = World::new();
        world.apply(RelatedObject::Service(typed(json!({
            "metadata": {"name": "api", "namespace": "shop", "labels": {"app": "api"}},
            "spec": {"selector": {"app": "api"}}
        }))));
        world.apply(RelatedObject::ServiceMonitor(kinds::ServiceMonitor(
            dynamic(
                "ServiceMonitor",
                json!({
                    "metadata": {"name": "api", "namespace": "monitoring"},
                    "spec": {"selector": {"matchLabels": {"app": "api"}},
                             "namespaceSelector": {"matchNames": ["shop"]}}
                }),
            ),
        )));
        let pod = BTreeMap::from([("app".to_string(), "api".to_string())]);
        let svc = world.services_selecting("shop", &pod)[0];
        assert_eq!(world.service("shop", "api"), Some(svc));
        let labels = svc.labels.clone();
        let monitors = world.service_monitors_selecting("shop", &labels);
        assert_eq!(monitors[0].display, "ServiceMonitor/monitoring/api");
        world.remove(RelatedKind::ServiceMonitor, "monitoring", "api");
        assert!(world.service_monitors_selecting("shop", &labels).is_empty());
    }

    #[test]
    fn snapshot_schedules_and_hpas() {
        let mut world = World::new();
        world.apply(RelatedObject::SnapshotSchedule(kinds::SnapshotSchedule(
            dynamic(
                "SnapshotSchedule",
                json!({
                    "metadata": {"name": "nightly", "namespace": "shop"},
                    "spec": {"claimSelector": {"matchLabels": {"app": "db"}}}
                }),
            ),
        )));
        world.apply(RelatedObject::PersistentVolumeClaim(typed(json!({
            "metadata": {"name": "data", "namespace": "shop", "labels": {"app": "db"}}
        }))));
        let claim = world.pvc("shop", "data").unwrap().clone();
        assert_eq!(
            world.snapshot_schedules_for_claim("shop", &claim),
            [&"SnapshotSchedule/shop/nightly".to_string()]
        );
        world.remove(RelatedKind::SnapshotSchedule, "shop", "nightly");
        assert!(
            world
                .snapshot_schedules_for_claim("shop", &claim)
                .is_empty()
        );

        for name in ["web-b", "web-a"] {
            world.apply(RelatedObject::HorizontalPodAutoscaler(typed(json!({
                "metadata": {"name": name, "namespace": "shop"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3}
            }))));
        }
        // Two autoscalers on one workload: the first by name, whatever the order they came in.
        assert_eq!(
            &*world.hpa_for("shop", "Deployment", "web").unwrap().name,
            "web-a"
        );
        assert!(world.hpa_for("shop", "Deployment", "api").is_none());
    }
}
