//! What the engine works out once per workload before running the checks: the related objects
//! that concern it, asked of the World.

use crate::checks::Related;
use crate::workload::Workload;
use crate::world::World;

/// The Services, Ingresses, policies, budgets, autoscaler, pods and release of a workload.
pub(crate) fn related<'w>(workload: &Workload<'_>, world: &'w World) -> Related<'w> {
    let ns = workload.namespace;
    let labels = workload.pod_labels();
    let services = world.services_selecting(ns, labels);
    let mut ingresses = Vec::new();
    for svc in &services {
        for ing in world.ingresses_for_service(ns, &svc.name) {
            ingresses.push((ing, *svc));
        }
    }
    Related {
        ingresses,
        network_policies: world.network_policies_selecting(ns, labels),
        pdbs: world.pdbs_selecting(ns, labels),
        hpa: world.hpa_for(ns, workload.kind.as_str(), workload.name),
        pods: world.pods_of(ns, workload.kind.as_str(), workload.name),
        release: workload
            .helm_release()
            .and_then(|r| world.helm_release(ns, r)),
        services,
    }
}
