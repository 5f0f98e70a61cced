//! Backup tools' kinds: Velero's Schedules.

use super::{Kind, RelatedKind, VeleroSchedule, dyn_strings};
use crate::world::meta::{name_of, ns_of};
use crate::world::reach::Footprint;
use crate::world::{VeleroScheduleFacts, World};

impl Kind for VeleroSchedule {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::VeleroSchedule];

    /// Rare, and it reaches namespaces by name or by exclusion: not worth indexing.
    fn reach(&self) -> Footprint {
        Footprint::All
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::VeleroSchedule);
        let obj = &self.0;
        let ns = ns_of(&obj.metadata);
        let name = name_of(&obj.metadata);
        let template = obj.data.get("spec").and_then(|s| s.get("template"));
        let facts = VeleroScheduleFacts {
            display: format!("Schedule/{ns}/{name}"),
            included_namespaces: dyn_strings(template.and_then(|t| t.get("includedNamespaces"))),
            excluded_namespaces: dyn_strings(template.and_then(|t| t.get("excludedNamespaces"))),
            paused: obj
                .data
                .get("spec")
                .and_then(|s| s.get("paused"))
                .and_then(|p| p.as_bool())
                .unwrap_or(false),
        };
        world.velero_schedules.insert(format!("{ns}/{name}"), facts);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        world.velero_schedules.remove(&format!("{ns}/{name}"));
    }
}
