//! Kinds of storage: claims, volumes, classes, and the snapshots taken of claims.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;

use super::{Kind, RelatedKind, SnapshotSchedule, VolumeSnapshot, dyn_selector};
use crate::world::meta::{name_of, ns_of};
use crate::world::reach::{Footprint, Reference, one, referenced};
use crate::world::{Labels, PvFacts, PvcFacts, Selector, StorageClassFacts, World, ingest};

impl Kind for PersistentVolumeClaim {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::PersistentVolumeClaim];

    fn reach(&self) -> Footprint {
        referenced(&self.metadata, Reference::Claim)
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::PersistentVolumeClaim);
        let ns = ns_of(&self.metadata);
        let spec = self.spec.as_ref();
        let facts = PvcFacts {
            name: name_of(&self.metadata),
            storage_class: spec.and_then(|s| s.storage_class_name.clone()),
            access_modes: spec
                .and_then(|s| s.access_modes.clone())
                .unwrap_or_default(),
            volume_name: spec.and_then(|s| s.volume_name.clone()),
            phase: self.status.as_ref().and_then(|s| s.phase.clone()),
            labels: Labels::from(self.metadata.labels.as_ref()),
            created: ingest::ts(&self.metadata.creation_timestamp),
        };
        world.ns_mut(&ns).pvcs.insert(facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.pvcs.remove(name);
        }
    }
}

impl Kind for PersistentVolume {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::PersistentVolume];

    /// The workloads using the claim it is bound to.
    fn reach(&self) -> Footprint {
        match self.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
            Some(claim) => Footprint::Referenced {
                namespace: claim.namespace.clone().unwrap_or_else(|| "default".into()),
                reference: Reference::Claim,
                name: claim.name.clone().unwrap_or_default(),
            },
            None => Footprint::Nothing,
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::PersistentVolume);
        let spec = self.spec.as_ref();
        let facts = PvFacts {
            name: name_of(&self.metadata),
            reclaim_policy: spec.and_then(|s| s.persistent_volume_reclaim_policy.clone()),
            storage_class: spec.and_then(|s| s.storage_class_name.clone()),
            claim: spec.and_then(|s| s.claim_ref.as_ref()).and_then(|c| {
                Some((
                    c.namespace.clone().unwrap_or_else(|| "default".into()),
                    c.name.clone()?,
                ))
            }),
        };
        Self::remove(world, RelatedKind::PersistentVolume, "", &facts.name);
        if let Some(claim) = &facts.claim {
            world.pv_by_claim.insert(claim.clone(), facts.name.clone());
        }
        world.pvs.insert(facts.name.clone(), facts);
    }

    fn remove(world: &mut World, _: RelatedKind, _: &str, name: &str) {
        if let Some(pv) = world.pvs.remove(name)
            && let Some(claim) = pv.claim
        {
            world.pv_by_claim.remove(&claim);
        }
    }
}

impl Kind for StorageClass {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::StorageClass];

    /// Rare and cluster-wide: what it reaches is not worth indexing.
    fn reach(&self) -> Footprint {
        Footprint::All
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::StorageClass);
        let annotations = self.metadata.annotations.as_ref();
        let is_default = annotations.is_some_and(|a| {
            a.get("storageclass.kubernetes.io/is-default-class")
                .or_else(|| a.get("storageclass.beta.kubernetes.io/is-default-class"))
                .is_some_and(|v| v == "true")
        });
        let facts = StorageClassFacts {
            name: name_of(&self.metadata),
            reclaim_policy: self
                .reclaim_policy
                .clone()
                .unwrap_or_else(|| "Delete".into()),
            is_default,
        };
        world.storage_classes.insert(facts.name.clone(), facts);
    }

    fn remove(world: &mut World, _: RelatedKind, _: &str, name: &str) {
        world.storage_classes.remove(name);
    }
}

impl Kind for VolumeSnapshot {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::VolumeSnapshot];

    /// The workloads using the claim it is a snapshot of.
    fn reach(&self) -> Footprint {
        match claim_of(self) {
            Some(claim) => Footprint::Referenced {
                namespace: ns_of(&self.0.metadata),
                reference: Reference::Claim,
                name: claim.to_string(),
            },
            None => Footprint::Nothing,
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::VolumeSnapshot);
        let ns = ns_of(&self.0.metadata);
        let name = name_of(&self.0.metadata);
        if let Some(claim) = claim_of(&self) {
            let claim = claim.to_string();
            world.ns_mut(&ns).snapshot_claims.insert(name, claim);
        }
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.snapshot_claims.remove(name);
        }
    }
}

fn claim_of(snapshot: &VolumeSnapshot) -> Option<&str> {
    snapshot
        .0
        .data
        .get("spec")
        .and_then(|s| s.get("source"))
        .and_then(|s| s.get("persistentVolumeClaimName"))
        .and_then(|c| c.as_str())
}

impl Kind for SnapshotSchedule {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::SnapshotSchedule];

    fn reach(&self) -> Footprint {
        one(ns_of(&self.0.metadata))
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::SnapshotSchedule);
        let ns = ns_of(&self.0.metadata);
        let name = name_of(&self.0.metadata);
        let sel = dyn_selector(self.0.data.get("spec").and_then(|s| s.get("claimSelector")));
        let selector = Selector::from_label_selector(sel.as_ref(), true);
        let display = format!("SnapshotSchedule/{ns}/{name}");
        world
            .ns_mut(&ns)
            .snapshot_schedules
            .insert(selector, display);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.snapshot_schedules
                .remove(&format!("SnapshotSchedule/{ns}/{name}"));
        }
    }
}
