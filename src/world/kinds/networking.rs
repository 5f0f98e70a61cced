//! Kinds of the networking and discovery API groups: Ingresses, NetworkPolicies and the
//! EndpointSlices behind Services.

use std::collections::BTreeSet;

use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};

use super::{Kind, RelatedKind};
use crate::world::meta::{name_of, ns_of};
use crate::world::reach::Footprint;
use crate::world::{Selector, World, ingest};

impl Kind for Ingress {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::Ingress];
    /// `extensions/v1beta1` and `networking.k8s.io/v1beta1` Ingresses route differently.
    const THIS_VERSION_ONLY: bool = true;

    fn reach(&self) -> Footprint {
        Footprint::Services {
            namespace: ns_of(&self.metadata),
            names: ingest::ingress(self).services,
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::Ingress);
        let ns = ns_of(&self.metadata);
        let facts = ingest::ingress_facts(&self);
        Self::remove(world, RelatedKind::Ingress, &ns, &facts.name);
        let idx = world.ns_mut(&ns);
        for svc in facts.services.iter() {
            let routes = idx.ingresses_by_service.entry(svc.into()).or_default();
            *routes = routes.with(&facts.name);
        }
        idx.ingresses.insert(facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        let Some(idx) = world.namespaces.get_mut(ns) else {
            return;
        };
        if let Some(old) = idx.ingresses.remove(name) {
            for svc in old.services.iter() {
                if let Some(routes) = idx.ingresses_by_service.get_mut(svc) {
                    *routes = routes.without(name);
                    if routes.is_empty() {
                        idx.ingresses_by_service.remove(svc);
                    }
                }
            }
        }
    }
}

impl Kind for NetworkPolicy {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::NetworkPolicy];
    const THIS_VERSION_ONLY: bool = true;

    fn reach(&self) -> Footprint {
        Footprint::PodSelector {
            namespace: ns_of(&self.metadata),
            selector: pod_selector(self),
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::NetworkPolicy);
        let ns = ns_of(&self.metadata);
        let sel = pod_selector(&self);
        let facts = ingest::network_policy(&self);
        world.ns_mut(&ns).network_policies.insert(sel, facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.network_policies.remove(name);
        }
    }
}

fn pod_selector(np: &NetworkPolicy) -> Selector {
    Selector::from_label_selector(np.spec.as_ref().and_then(|s| s.pod_selector.as_ref()), true)
}

impl Kind for EndpointSlice {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::EndpointSlice];

    fn reach(&self) -> Footprint {
        match service_of(self) {
            Some(s) => Footprint::Services {
                namespace: ns_of(&self.metadata),
                names: BTreeSet::from([s.clone()]),
            },
            None => Footprint::Nothing,
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::EndpointSlice);
        let ns = ns_of(&self.metadata);
        let Some(service) = service_of(&self).cloned() else {
            return;
        };
        let ready = self
            .endpoints
            .iter()
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
            .count() as u32;
        world
            .ns_mut(&ns)
            .endpoint_slices
            .insert(name_of(&self.metadata), (service, ready));
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.endpoint_slices.remove(name);
        }
    }
}

/// The Service an EndpointSlice belongs to.
fn service_of(slice: &EndpointSlice) -> Option<&String> {
    slice
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/service-name"))
}
