//! The Prometheus operator's kinds: what scrapes a workload, and which alert rules exist.

use std::collections::BTreeSet;

use kube::api::DynamicObject;

use super::{
    Kind, PodMonitor, PrometheusRule, RelatedKind, ServiceMonitor, dyn_selector, dyn_strings,
};
use crate::world::meta::{name_of, ns_of};
use crate::world::reach::{Footprint, one};
use crate::world::{MonitorFacts, MonitorNamespaces, Selector, World};

impl Kind for ServiceMonitor {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::ServiceMonitor];

    fn reach(&self) -> Footprint {
        monitor_reach(&self.0)
    }

    fn apply(self, world: &mut World) {
        apply_monitor(world, RelatedKind::ServiceMonitor, self.0);
    }

    fn remove(world: &mut World, kind: RelatedKind, ns: &str, name: &str) {
        remove_monitor(world, kind, ns, name);
    }
}

impl Kind for PodMonitor {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::PodMonitor];

    fn reach(&self) -> Footprint {
        monitor_reach(&self.0)
    }

    fn apply(self, world: &mut World) {
        apply_monitor(world, RelatedKind::PodMonitor, self.0);
    }

    fn remove(world: &mut World, kind: RelatedKind, ns: &str, name: &str) {
        remove_monitor(world, kind, ns, name);
    }
}

impl Kind for PrometheusRule {
    const KINDS: &'static [RelatedKind] = &[RelatedKind::PrometheusRule];

    fn reach(&self) -> Footprint {
        one(ns_of(&self.0.metadata))
    }

    fn apply(self, world: &mut World) {
        world.present.insert(RelatedKind::PrometheusRule);
        let ns = ns_of(&self.0.metadata);
        let name = name_of(&self.0.metadata);
        world.ns_mut(&ns).prometheus_rules.insert(name);
    }

    fn remove(world: &mut World, _: RelatedKind, ns: &str, name: &str) {
        if let Some(idx) = world.namespaces.get_mut(ns) {
            idx.prometheus_rules.remove(name);
        }
    }
}

/// The namespaces a monitor looks into: every one, those it names, or its own.
fn monitor_reach(obj: &DynamicObject) -> Footprint {
    let ns = ns_of(&obj.metadata);
    let ns_sel = obj
        .data
        .get("spec")
        .and_then(|s| s.get("namespaceSelector"));
    if ns_sel
        .and_then(|n| n.get("any"))
        .and_then(|a| a.as_bool())
        .unwrap_or(false)
    {
        return Footprint::All;
    }
    let names: BTreeSet<String> = ns_sel
        .and_then(|n| n.get("matchNames"))
        .and_then(|m| m.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        one(ns)
    } else {
        Footprint::Namespaces(names)
    }
}

fn monitor_display(kind: RelatedKind, ns: &str, name: &str) -> String {
    format!("{}/{ns}/{name}", kind.as_str())
}

/// Files a monitor in every namespace it looks into (or with those looking into all of them).
fn apply_monitor(world: &mut World, kind: RelatedKind, obj: DynamicObject) {
    world.present.insert(kind);
    let ns = ns_of(&obj.metadata);
    let name = name_of(&obj.metadata);
    remove_monitor(world, kind, &ns, &name);
    let spec = obj.data.get("spec");
    let selector = Selector::from_label_selector(
        dyn_selector(spec.and_then(|s| s.get("selector"))).as_ref(),
        true,
    );
    let ns_sel = spec.and_then(|s| s.get("namespaceSelector"));
    let any = ns_sel
        .and_then(|n| n.get("any"))
        .and_then(|a| a.as_bool())
        .unwrap_or(false);
    let names = dyn_strings(ns_sel.and_then(|n| n.get("matchNames")));
    let key = format!("{ns}/{name}");
    let facts = MonitorFacts {
        display: monitor_display(kind, &ns, &name),
        namespaces: if any {
            MonitorNamespaces::Any
        } else if names.is_empty() {
            MonitorNamespaces::Names(vec![ns.clone()])
        } else {
            MonitorNamespaces::Names(names.clone())
        },
    };
    let targets = match &facts.namespaces {
        MonitorNamespaces::Any => {
            let idx = if kind == RelatedKind::ServiceMonitor {
                &mut world.any_ns_service_monitors
            } else {
                &mut world.any_ns_pod_monitors
            };
            idx.insert(selector, facts);
            Vec::new()
        }
        MonitorNamespaces::Names(targets) => {
            let targets = targets.clone();
            for target in &targets {
                let idx = world.ns_mut(target);
                let idx = if kind == RelatedKind::ServiceMonitor {
                    &mut idx.service_monitors
                } else {
                    &mut idx.pod_monitors
                };
                idx.insert(selector.clone(), facts.clone());
            }
            targets
        }
    };
    world.monitor_targets.insert((kind, key), targets);
}

fn remove_monitor(world: &mut World, kind: RelatedKind, ns: &str, name: &str) {
    let key = format!("{ns}/{name}");
    if let Some(targets) = world.monitor_targets.remove(&(kind, key)) {
        let display = monitor_display(kind, ns, name);
        for target in targets {
            if let Some(idx) = world.namespaces.get_mut(&target) {
                if kind == RelatedKind::ServiceMonitor {
                    idx.service_monitors.remove(&display);
                } else {
                    idx.pod_monitors.remove(&display);
                }
            }
        }
        if kind == RelatedKind::ServiceMonitor {
            world.any_ns_service_monitors.remove(&display);
        } else {
            world.any_ns_pod_monitors.remove(&display);
        }
    }
}
