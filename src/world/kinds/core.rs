//! Kinds of the core API group: Services and their endpoints, configuration, accounts,
//! namespaces and nodes.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Namespace, Node, Secret, Service, ServiceAccount,
};

use super::{Kind, RelatedKind, Watch};
use crate::world::meta::{name_of, ns_of};
use crate::world::reach::{Footprint, Reference, referenced};
use crate::world::{SecretFacts, Selector, ServiceAccountFacts, World, helm, ingest};

impl Kind for Service {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::Service];

    /// The pods it selects, and the StatefulSet it governs by name (which it need not select).
    fn reach(&self) -> Footprint {
        Footprint::Many(vec![
            Footprint::PodSelector {
                namespace: ns_of(&self.metadata),
                selector: Selector::from_map(self.spec.as_ref().and_then(|s| s.selector.as_ref())),
            },
            referenced(&self.metadata, Reference::Service),
        ])
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::Service);
        let ns = ns_of(&self.metadata);
        let sel = Selector::from_map(self.spec.as_ref().and_then(|s| s.selector.as_ref()));
        let facts = ingest::service(&self);
        world.ns_mut(&ns).services.insert(sel, facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.services.remove(name);
        }
    }
}

/// Read from manifests only: in a cluster, the EndpointSlices say the same.
impl Kind for Endpoints {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::Endpoints];
    const WATCHES: &'static [Watch] = &[];

    fn reach(&self) -> Footprint {
        Footprint::Services {
            namespace: ns_of(&self.metadata),
            names: BTreeSet::from([self.metadata.name.clone().unwrap_or_default()]),
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::Endpoints);
        let ns = ns_of(&self.metadata);
        let ready = self
            .subsets
            .iter()
            .flatten()
            .map(|s| s.addresses.as_ref().map_or(0, |a| a.len()))
            .sum::<usize>() as u32;
        world
            .ns_mut(&ns)
            .endpoints
            .insert(name_of(&self.metadata), ready);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.endpoints.remove(name);
        }
    }
}

impl Kind for ConfigMap {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::ConfigMap];

    fn reach(&self) -> Footprint {
        referenced(&self.metadata, Reference::ConfigMap)
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::ConfigMap);
        let ns = ns_of(&self.metadata);
        let facts = ingest::config_map(&self);
        world.ns_mut(&ns).config_maps.insert(facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.config_maps.remove(name);
        }
    }
}

/// Secrets are two kinds to the World: the key names of ordinary Secrets, and the Helm releases
/// stored in Secrets of type `helm.sh/release.v1`.
impl Kind for Secret {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::Secret, RelatedKind::HelmRelease];
    /// Helm releases apart, by field selector: the other Secrets' watch never carries their
    /// (large) payloads.
    const WATCHES: &'static [Watch] = &[
        Watch {
            name: Some("Secret (Helm release)"),
            fields: Some(helm::RELEASE_SELECTOR),
            present: Some(&[RelatedKind::HelmRelease]),
        },
        Watch {
            name: Some("Secret"),
            fields: Some("type!=helm.sh/release.v1"),
            present: Some(&[RelatedKind::Secret]),
        },
    ];

    fn related_kind(&self) -> RelatedKind {
        if helm::is_release_secret(self) {
            RelatedKind::HelmRelease
        } else {
            RelatedKind::Secret
        }
    }

    fn reach(&self) -> Footprint {
        if helm::is_release_secret(self) {
            match helm::release_name(self) {
                Some(release) => Footprint::Release {
                    namespace: ns_of(&self.metadata),
                    release,
                },
                None => Footprint::Nothing,
            }
        } else {
            referenced(&self.metadata, Reference::Secret)
        }
    }

    /// A Secret's values are dropped before it is cached anywhere, unless it is a Helm release
    /// (whose payload is decoded once, on change).
    fn strip(&mut self) {
        if helm::is_release_secret(self) {
            return;
        }
        if let Some(data) = self.data.as_mut() {
            for value in data.values_mut() {
                value.0.clear();
            }
        }
        if let Some(data) = self.string_data.as_mut() {
            for value in data.values_mut() {
                value.clear();
            }
        }
    }

    fn apply(self, world: &mut World) {
        let ns = ns_of(&self.metadata);
        if helm::is_release_secret(&self) {
            world.present.insert(RelatedKind::HelmRelease);
            let Some(release) = helm::release_name(&self) else {
                return;
            };
            let (facts, problem) = helm::decode_revision(&self);
            let key = format!("Secret/{ns}/{}", facts.secret);
            match problem {
                Some(p) => {
                    world.problems.insert(key, p.to_string());
                }
                None => {
                    world.problems.remove(&key);
                }
            }
            let entry = world
                .ns_mut(&ns)
                .helm_releases
                .entry(release.clone())
                .or_default();
            entry.name = release;
            entry.revisions.insert(facts.revision, facts);
            return;
        }
        world.present.insert(RelatedKind::Secret);
        let data = self.data.iter().flatten().map(|(k, _)| k.as_str());
        let string_data = self.string_data.iter().flatten().map(|(k, _)| k.as_str());
        let facts = SecretFacts {
            name: name_of(&self.metadata).into(),
            secret_type: self.type_.as_deref().unwrap_or("Opaque").into(),
            keys: data.chain(string_data).collect(),
        };
        world.ns_mut(&ns).secrets.insert(facts);
    }

    fn remove(world: &mut World, kind: RelatedKind, ns: &str, name: &str) {
        let Some(idx) = world.namespaces.get_mut(ns) else {
            return;
        };
        if kind == RelatedKind::Secret {
            idx.secrets.remove(name);
            return;
        }
        // `name` is the storage Secret's name: drop that revision.
        for release in idx.helm_releases.values_mut() {
            release.revisions.retain(|_, r| r.secret != name);
        }
        idx.helm_releases.retain(|_, r| !r.revisions.is_empty());
        world.problems.remove(&format!("Secret/{ns}/{name}"));
    }
}

impl Kind for ServiceAccount {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::ServiceAccount];

    fn reach(&self) -> Footprint {
        referenced(&self.metadata, Reference::ServiceAccount)
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::ServiceAccount);
        let ns = ns_of(&self.metadata);
        let facts = ServiceAccountFacts {
            name: name_of(&self.metadata),
            automount_token: self.automount_service_account_token,
        };
        world.ns_mut(&ns).service_accounts.insert(facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.service_accounts.remove(name);
        }
    }
}

impl Kind for Namespace {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::Namespace];

    fn reach(&self) -> Footprint {
        Footprint::NamespaceLabels {
            name: self.metadata.name.clone().unwrap_or_default(),
            labels: self.metadata.labels.clone().unwrap_or_default(),
        }
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::Namespace);
        let name = name_of(&self.metadata);
        // A deletion, once started, is never undone: the namespace only goes away.
        if self.metadata.deletion_timestamp.is_some() {
            world.terminating.insert(name.clone());
        }
        world
            .namespace_labels
            .insert(name, self.metadata.labels.clone().unwrap_or_default());
    }

    fn remove(world: &mut World, _: RelatedKind, _: &str, name: &str) {
        world.namespace_labels.remove(name);
        world.terminating.remove(name);
    }
}

impl Kind for Node {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::Node];

    fn reach(&self) -> Footprint {
        Footprint::Zone(zone(self))
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::Node);
        let facts = crate::world::NodeFacts {
            name: name_of(&self.metadata),
            zone: zone(&self),
        };
        world.nodes.insert(facts.name.clone(), facts);
    }

    fn remove(world: &mut World, _: RelatedKind, _: &str, name: &str) {
        world.nodes.remove(name);
    }
}

/// A node's zone: what spread checks read of it.
fn zone(node: &Node) -> Option<String> {
    let labels = node.metadata.labels.as_ref();
    labels.and_then(|l| {
        l.get("topology.kubernetes.io/zone")
            .or_else(|| l.get("failure-domain.beta.kubernetes.io/zone"))
            .cloned()
    })
}
