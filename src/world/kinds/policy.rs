//! Kinds that shape how a workload scales and is disrupted: PodDisruptionBudgets and
//! HorizontalPodAutoscalers.

use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use super::{Kind, RelatedKind};
use crate::world::meta::ns_of;
use crate::world::reach::Footprint;
use crate::world::{Selector, World, ingest};

impl Kind for PodDisruptionBudget {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::PodDisruptionBudget];

    fn reach(&self) -> Footprint {
        Footprint::PodSelector {
            namespace: ns_of(&self.metadata),
            selector: selector(self),
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::PodDisruptionBudget);
        let ns = ns_of(&self.metadata);
        let sel = selector(&self);
        let facts = ingest::pdb(&self);
        world.ns_mut(&ns).pdbs.insert(sel, facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.pdbs.remove(name);
        }
    }
}

fn selector(pdb: &PodDisruptionBudget) -> Selector {
    Selector::from_label_selector(pdb.spec.as_ref().and_then(|s| s.selector.as_ref()), true)
}

impl Kind for HorizontalPodAutoscaler {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::HorizontalPodAutoscaler];

    /// The workload it scales.
    fn reach(&self) -> Footprint {
        match &self.spec {
            Some(spec) => Footprint::Owner {
                namespace: ns_of(&self.metadata),
                kind: spec.scale_target_ref.kind.clone(),
                name: spec.scale_target_ref.name.clone(),
            },
            None => Footprint::Nothing,
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::HorizontalPodAutoscaler);
        let ns = ns_of(&self.metadata);
        let facts = ingest::hpa(&self);
        world.ns_mut(&ns).hpas.insert(facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.hpas.remove(name);
        }
    }
}
