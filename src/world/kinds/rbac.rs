//! Kinds of the RBAC API group: who a workload's ServiceAccount is bound to, and what the
//! ClusterRoles bound grant.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding, Subject};

use super::{Kind, RelatedKind};
use crate::world::meta::{name_of, ns_of};
use crate::world::reach::{Footprint, subject};
use crate::world::{BindingFacts, SubjectKey, World, ingest};

impl Kind for RoleBinding {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::RoleBinding];

    fn reach(&self) -> Footprint {
        let ns = ns_of(&self.metadata);
        Footprint::Many(
            self.subjects
                .iter()
                .flatten()
                .filter_map(|s| subject(s, Some(&ns)))
                .collect(),
        )
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::RoleBinding);
        let ns = ns_of(&self.metadata);
        let name = name_of(&self.metadata);
        let facts = BindingFacts {
            display: format!("RoleBinding/{ns}/{name}"),
            role_kind: self.role_ref.kind.clone(),
            role_name: self.role_ref.name.clone(),
        };
        let subs = subjects(&self.subjects, Some(&ns));
        world.ns_mut(&ns).role_bindings.insert(name, (facts, subs));
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.role_bindings.remove(name);
        }
    }
}

impl Kind for ClusterRoleBinding {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::ClusterRoleBinding];

    fn reach(&self) -> Footprint {
        Footprint::Many(
            self.subjects
                .iter()
                .flatten()
                .filter_map(|s| subject(s, None))
                .collect(),
        )
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::ClusterRoleBinding);
        let name = name_of(&self.metadata);
        let facts = BindingFacts {
            display: format!("ClusterRoleBinding/{name}"),
            role_kind: self.role_ref.kind.clone(),
            role_name: self.role_ref.name.clone(),
        };
        let subs = subjects(&self.subjects, None);
        world.cluster_bindings.insert(name, (facts, subs));
    }

    fn remove(world: &mut World, _: RelatedKind, _: &str, name: &str) {
        world.cluster_bindings.remove(name);
    }
}

impl Kind for ClusterRole {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::ClusterRole];

    /// Rare and cluster-wide: what it reaches is not worth indexing.
    fn reach(&self) -> Footprint {
        Footprint::All
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::ClusterRole);
        let facts = ingest::cluster_role(&self);
        world.cluster_roles.insert(facts.name.clone(), facts);
    }

    fn remove(world: &mut World, _: RelatedKind, _: &str, name: &str) {
        world.cluster_roles.remove(name);
    }
}

/// The ServiceAccounts a binding grants to.
fn subjects(subjects: &Option<Vec<Subject>>, binding_ns: Option<&str>) -> Vec<SubjectKey> {
    let mut out = Vec::new();
    for s in subjects.iter().flatten() {
        match s.kind.as_str() {
            "ServiceAccount" => {
                let ns = s
                    .namespace
                    .as_deref()
                    .or(binding_ns)
                    .unwrap_or("default")
                    .to_string();
                out.push(SubjectKey::ServiceAccount(ns, s.name.clone()));
            }
            "Group" if s.name == "system:serviceaccounts" => {
                out.push(SubjectKey::AllServiceAccounts)
            }
            "Group" => {
                if let Some(ns) = s.name.strip_prefix("system:serviceaccounts:") {
                    out.push(SubjectKey::AllServiceAccountsIn(ns.to_string()));
                }
            }
            _ => {}
        }
    }
    out
}
