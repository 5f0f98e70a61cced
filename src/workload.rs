//! A uniform view over the kinds prodready judges: Deployment, StatefulSet, DaemonSet, CronJob,
//! Job, ReplicaSet and Pod. Checks read the pod template through it without caring which kind
//! carries it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::WorkloadRef;

/// The kinds prodready judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Job,
    ReplicaSet,
    Pod,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::Job => "Job",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::Pod => "Pod",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            WorkloadKind::Deployment
            | WorkloadKind::StatefulSet
            | WorkloadKind::DaemonSet
            | WorkloadKind::ReplicaSet => "apps/v1",
            WorkloadKind::CronJob | WorkloadKind::Job => "batch/v1",
            WorkloadKind::Pod => "v1",
        }
    }

    pub fn from_kind(kind: &str) -> Option<WorkloadKind> {
        Some(match kind {
            "Deployment" => WorkloadKind::Deployment,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "CronJob" => WorkloadKind::CronJob,
            "Job" => WorkloadKind::Job,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "Pod" => WorkloadKind::Pod,
            _ => return None,
        })
    }
}

/// A judged object, owned.
// Variants differ in size, but each object is stored once and read many times: boxing would
// add an indirection to every check for no saving.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum WorkloadObject {
    Deployment(Deployment),
    StatefulSet(StatefulSet),
    DaemonSet(DaemonSet),
    CronJob(CronJob),
    Job(Job),
    ReplicaSet(ReplicaSet),
    Pod(Pod),
}

static EMPTY_LABELS: BTreeMap<String, String> = BTreeMap::new();

impl WorkloadObject {
    pub fn kind(&self) -> WorkloadKind {
        match self {
            WorkloadObject::Deployment(_) => WorkloadKind::Deployment,
            WorkloadObject::StatefulSet(_) => WorkloadKind::StatefulSet,
            WorkloadObject::DaemonSet(_) => WorkloadKind::DaemonSet,
            WorkloadObject::CronJob(_) => WorkloadKind::CronJob,
            WorkloadObject::Job(_) => WorkloadKind::Job,
            WorkloadObject::ReplicaSet(_) => WorkloadKind::ReplicaSet,
            WorkloadObject::Pod(_) => WorkloadKind::Pod,
        }
    }

    pub fn meta(&self) -> &ObjectMeta {
        match self {
            WorkloadObject::Deployment(o) => &o.metadata,
            WorkloadObject::StatefulSet(o) => &o.metadata,
            WorkloadObject::DaemonSet(o) => &o.metadata,
            WorkloadObject::CronJob(o) => &o.metadata,
            WorkloadObject::Job(o) => &o.metadata,
            WorkloadObject::ReplicaSet(o) => &o.metadata,
            WorkloadObject::Pod(o) => &o.metadata,
        }
    }

    pub fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            WorkloadObject::Deployment(o) => &mut o.metadata,
            WorkloadObject::StatefulSet(o) => &mut o.metadata,
            WorkloadObject::DaemonSet(o) => &mut o.metadata,
            WorkloadObject::CronJob(o) => &mut o.metadata,
            WorkloadObject::Job(o) => &mut o.metadata,
            WorkloadObject::ReplicaSet(o) => &mut o.metadata,
            WorkloadObject::Pod(o) => &mut o.metadata,
        }
    }

    /// The pod template's metadata and spec; `None` when the object has no spec at all.
    fn template(&self) -> Option<(Option<&ObjectMeta>, &PodSpec)> {
        fn tpl(
            t: &k8s_openapi::api::core::v1::PodTemplateSpec,
        ) -> Option<(Option<&ObjectMeta>, &PodSpec)> {
            Some((t.metadata.as_ref(), t.spec.as_ref()?))
        }
        match self {
            WorkloadObject::Deployment(o) => tpl(&o.spec.as_ref()?.template),
            WorkloadObject::StatefulSet(o) => tpl(&o.spec.as_ref()?.template),
            WorkloadObject::DaemonSet(o) => tpl(&o.spec.as_ref()?.template),
            WorkloadObject::ReplicaSet(o) => tpl(o.spec.as_ref()?.template.as_ref()?),
            WorkloadObject::Job(o) => tpl(&o.spec.as_ref()?.template),
            WorkloadObject::CronJob(o) => {
                tpl(&o.spec.as_ref()?.job_template.spec.as_ref()?.template)
            }
            WorkloadObject::Pod(o) => Some((Some(&o.metadata), o.spec.as_ref()?)),
        }
    }

    /// A borrowed view for the engine. `None` when the object has no pod spec to judge.
    pub fn view(&self) -> Option<Workload<'_>> {
        let (template_meta, pod_spec) = self.template()?;
        let meta = self.meta();
        Some(Workload {
            kind: self.kind(),
            object: self,
            meta,
            namespace: meta.namespace.as_deref().unwrap_or("default"),
            name: meta.name.as_deref().unwrap_or(""),
            template_meta,
            pod_spec,
        })
    }

    /// Whether the object is judged on its own, rather than through the object that owns it
    /// (a ReplicaSet of a Deployment, a Pod of a ReplicaSet, a Job of a CronJob).
    pub fn is_top_level(&self) -> bool {
        match self {
            WorkloadObject::ReplicaSet(_) | WorkloadObject::Pod(_) | WorkloadObject::Job(_) => self
                .meta()
                .owner_references
                .as_ref()
                .is_none_or(|owners| !owners.iter().any(|o| o.controller == Some(true))),
            _ => true,
        }
    }
}

/// A borrowed view of a judged object, built per evaluation (cheap: references only).
#[derive(Clone, Copy, Debug)]
pub struct Workload<'a> {
    pub kind: WorkloadKind,
    pub object: &'a WorkloadObject,
    pub meta: &'a ObjectMeta,
    pub namespace: &'a str,
    pub name: &'a str,
    /// The pod template's metadata (the Pod's own for a bare Pod).
    pub template_meta: Option<&'a ObjectMeta>,
    pub pod_spec: &'a PodSpec,
}

impl<'a> Workload<'a> {
    pub fn reference(&self) -> WorkloadRef {
        WorkloadRef {
            api_version: self.kind.api_version().to_string(),
            kind: self.kind.as_str().to_string(),
            namespace: self.namespace.to_string(),
            name: self.name.to_string(),
        }
    }

    /// The labels the workload's pods carry.
    pub fn pod_labels(&self) -> &'a BTreeMap<String, String> {
        self.template_meta
            .and_then(|m| m.labels.as_ref())
            .unwrap_or(&EMPTY_LABELS)
    }

    /// The pod template's annotations.
    pub fn pod_annotations(&self) -> &'a BTreeMap<String, String> {
        self.template_meta
            .and_then(|m| m.annotations.as_ref())
            .unwrap_or(&EMPTY_LABELS)
    }

    /// The workload's own annotations.
    pub fn annotations(&self) -> &'a BTreeMap<String, String> {
        self.meta.annotations.as_ref().unwrap_or(&EMPTY_LABELS)
    }

    pub fn labels(&self) -> &'a BTreeMap<String, String> {
        self.meta.labels.as_ref().unwrap_or(&EMPTY_LABELS)
    }

    /// The main containers (not init containers).
    pub fn containers(&self) -> &'a [Container] {
        &self.pod_spec.containers
    }

    /// Init containers, including native sidecars (`restartPolicy: Always`).
    pub fn init_containers(&self) -> &'a [Container] {
        self.pod_spec.init_containers.as_deref().unwrap_or(&[])
    }

    /// Every container that runs for the pod's lifetime: main containers and native sidecars.
    pub fn long_running_containers(&self) -> impl Iterator<Item = &'a Container> + 'a {
        let sidecars = self
            .init_containers()
            .iter()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"));
        self.containers().iter().chain(sidecars)
    }

    /// Every container of every sort (init, sidecar, main).
    pub fn all_containers(&self) -> impl Iterator<Item = &'a Container> + 'a {
        self.init_containers()
            .iter()
            .chain(self.containers().iter())
    }

    /// Whether the workload serves continuously (rather than running to completion).
    pub fn is_long_running(&self) -> bool {
        match self.kind {
            WorkloadKind::Deployment
            | WorkloadKind::StatefulSet
            | WorkloadKind::DaemonSet
            | WorkloadKind::ReplicaSet => true,
            WorkloadKind::Job | WorkloadKind::CronJob => false,
            WorkloadKind::Pod => !matches!(
                self.pod_spec.restart_policy.as_deref(),
                Some("Never") | Some("OnFailure")
            ),
        }
    }

    /// Desired replicas for kinds that have them (Kubernetes defaults an unset count to 1).
    pub fn replicas(&self) -> Option<i32> {
        match self.object {
            WorkloadObject::Deployment(d) => Some(d.spec.as_ref()?.replicas.unwrap_or(1)),
            WorkloadObject::StatefulSet(s) => Some(s.spec.as_ref()?.replicas.unwrap_or(1)),
            WorkloadObject::ReplicaSet(r) => Some(r.spec.as_ref()?.replicas.unwrap_or(1)),
            _ => None,
        }
    }

    /// The Helm release that manages the workload, from Helm's ownership annotations.
    pub fn helm_release(&self) -> Option<&'a str> {
        self.annotations()
            .get("meta.helm.sh/release-name")
            .map(String::as_str)
    }

    /// The ServiceAccount the pods run as.
    pub fn service_account(&self) -> &'a str {
        self.pod_spec
            .service_account_name
            .as_deref()
            .or(self.pod_spec.service_account.as_deref())
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
    }

    /// Images of every container, init containers included.
    pub fn images(&self) -> impl Iterator<Item = (&'a Container, &'a str)> + 'a {
        self.all_containers()
            .map(|c| (c, c.image.as_deref().unwrap_or("")))
    }
}
