//! Pods, ReplicaSets and Jobs that a controller owns: live state of the workload above them
//! (its pods, and the links from pods to Deployments and CronJobs). They are read and watched as
//! workloads, and filed here when [`super::RelatedObject::owned`] finds their owner.

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;

use super::{Kind, RelatedKind, Watch};
use crate::world::meta::{controller_of, name_of, ns_of, pod_owner};
use crate::world::reach::{Footprint, owner};
use crate::world::{Labels, World, ingest};

impl Kind for Pod {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::Pod];
    const WATCHES: &'static [Watch] = &[];

    fn reach(&self) -> Footprint {
        let key = pod_owner(self);
        Footprint::Owner {
            namespace: ns_of(&self.metadata),
            kind: key.kind,
            name: key.name,
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::Pod);
        let ns = ns_of(&self.metadata);
        let owner = pod_owner(&self);
        let facts = ingest::pod(&self);
        Self::remove(world, RelatedKind::Pod, &ns, &facts.name);
        let idx = world.ns_mut(&ns);
        if crate::workload::WorkloadKind::from_kind(&owner.kind).is_none() {
            idx.unjudged_pods.insert(
                facts.name.as_str().into(),
                Labels::from(self.metadata.labels.as_ref()),
            );
        }
        idx.pod_owner.insert(facts.name.clone(), owner.clone());
        idx.pods
            .entry(owner)
            .or_default()
            .insert(facts.name.clone(), facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        let Some(idx) = world.namespaces.get_mut(ns) else {
            return;
        };
        idx.unjudged_pods.remove(name);
        if let Some(owner) = idx.pod_owner.remove(name)
            && let Some(pods) = idx.pods.get_mut(&owner)
        {
            pods.remove(name);
            if pods.is_empty() {
                idx.pods.remove(&owner);
            }
        }
    }
}

impl Kind for ReplicaSet {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::ReplicaSet];
    const WATCHES: &'static [Watch] = &[];

    fn reach(&self) -> Footprint {
        owner(&self.metadata)
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::ReplicaSet);
        let ns = ns_of(&self.metadata);
        if let Some(owner) =
            controller_of(&self.metadata.owner_references).filter(|o| o.kind == "Deployment")
        {
            let owner = owner.name.clone();
            world
                .ns_mut(&ns)
                .replica_set_owner
                .insert(name_of(&self.metadata), owner);
        }
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.replica_set_owner.remove(name);
        }
    }
}

impl Kind for Job {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::Job];
    const WATCHES: &'static [Watch] = &[];

    fn reach(&self) -> Footprint {
        owner(&self.metadata)
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::Job);
        let ns = ns_of(&self.metadata);
        if let Some(owner) =
            controller_of(&self.metadata.owner_references).filter(|o| o.kind == "CronJob")
        {
            let owner = owner.name.clone();
            world
                .ns_mut(&ns)
                .job_owner
                .insert(name_of(&self.metadata), owner);
        }
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.job_owner.remove(name);
        }
    }
}
