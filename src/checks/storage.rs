//! Storage and data durability: whether the data a workload keeps survives a restart, a
//! rescheduling, a deleted claim or a lost volume.

use std::fmt::Write as _;

use k8s_openapi::api::core::v1::{Container, PersistentVolumeClaim, Volume, VolumeMount};

use super::util::{
    contains_ignoring_case, datastore_container, human_duration, is_datastore, join_names,
};
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Parameters, Severity};
use crate::workload::{Workload, WorkloadKind, WorkloadObject};
use crate::world::{CronJobFacts, RelatedKind};

pub const CHECKS: &[Check] = &[
    Check {
        id: "storage-ephemeral-datastore",
        category: Category::Storage,
        severity: Severity::Critical,
        needs: Needs::Object,
        title: "A datastore keeps its data on emptyDir or no volume",
        remediation: "Keep the data on a PersistentVolumeClaim mounted at the data directory: a \
                      volumeClaimTemplate in a StatefulSet, or a persistentVolumeClaim volume \
                      (or use a managed service). A pure cache that may lose everything can be \
                      exempted with the prodready.dev/exempt annotation.",
        run: Run::Workload(ephemeral_datastore),
    },
    Check {
        id: "storage-emptydir-data",
        category: Category::Storage,
        severity: Severity::Medium,
        needs: Needs::Object,
        title: "An emptyDir is mounted at a data path",
        remediation: "Mount a PersistentVolumeClaim at this path, or rebuild the data at start-up \
                      from durable storage (object storage, a database); keep emptyDir for \
                      scratch space and caches.",
        run: Run::Workload(emptydir_data),
    },
    Check {
        id: "storage-no-backup",
        category: Category::Storage,
        severity: Severity::High,
        needs: Needs::Related,
        title: "A workload with persistent volumes has no backup",
        remediation: "Back the data up on a schedule: a Velero Schedule that covers the \
                      namespace, a CronJob labelled prodready.dev/backup that dumps the data \
                      (pg_dump, mysqldump...) to storage outside the cluster, or scheduled \
                      VolumeSnapshots (a SnapshotSchedule selecting the claims). Test a restore.",
        run: Run::Workload(no_backup),
    },
    Check {
        id: "storage-reclaim-delete",
        category: Category::Storage,
        severity: Severity::Medium,
        needs: Needs::Related,
        title: "Its volumes are deleted with their claims (reclaimPolicy Delete)",
        remediation: "Set persistentVolumeReclaimPolicy: Retain on the bound PersistentVolumes \
                      (`kubectl patch pv <name> -p '{\"spec\":{\"persistentVolumeReclaimPolicy\":\
                      \"Retain\"}}'`), and provision new claims from a StorageClass with \
                      reclaimPolicy: Retain.",
        run: Run::Workload(reclaim_delete),
    },
    Check {
        id: "storage-rwo-shared",
        category: Category::Storage,
        severity: Severity::High,
        needs: Needs::Related,
        title: "A multi-replica Deployment mounts one ReadWriteOnce claim",
        remediation: "Give each replica its own volume (a StatefulSet with a \
                      volumeClaimTemplate), use a ReadWriteMany claim from a StorageClass that \
                      supports it, or run a single replica.",
        run: Run::Workload(rwo_shared),
    },
    Check {
        id: "live-pvc-pending",
        category: Category::Storage,
        severity: Severity::High,
        needs: Needs::Live,
        title: "A claim it mounts is Pending or Lost",
        remediation: "Read the claim's events (`kubectl describe pvc <name>`): a StorageClass \
                      that does not exist or cannot provision, no PersistentVolume matching its \
                      size and access modes, or a zone the volume cannot reach. A Lost claim's \
                      volume is gone: restore it from a backup.",
        run: Run::Workload(live_pvc_pending),
    },
];

/// A persistent claim the workload's pods mount.
struct Claim<'a> {
    name: &'a str,
    /// The volumeClaimTemplate a StatefulSet's claim comes from.
    template: Option<&'a PersistentVolumeClaim>,
}

fn claim_templates<'a>(w: &Workload<'a>) -> &'a [PersistentVolumeClaim] {
    match w.object {
        WorkloadObject::StatefulSet(s) => s
            .spec
            .as_ref()
            .and_then(|s| s.volume_claim_templates.as_deref())
            .unwrap_or(&[]),
        _ => &[],
    }
}

/// Calls `f` for every persistent claim the pods mount: `persistentVolumeClaim` volumes and,
/// for a StatefulSet, the claims its volumeClaimTemplates create
/// (`<template>-<statefulset>-<ordinal>`). Generic ephemeral volumes are left out: their
/// claims live and die with the pod.
fn for_each_claim(w: &Workload<'_>, mut f: impl FnMut(Claim<'_>)) {
    for v in w.pod_spec.volumes.iter().flatten() {
        if let Some(pvc) = &v.persistent_volume_claim {
            f(Claim {
                name: &pvc.claim_name,
                template: None,
            });
        }
    }
    let WorkloadObject::StatefulSet(sts) = w.object else {
        return;
    };
    let Some(spec) = &sts.spec else {
        return;
    };
    let replicas = spec.replicas.unwrap_or(1).max(0);
    let start = spec
        .ordinals
        .as_ref()
        .and_then(|o| o.start)
        .unwrap_or(0)
        .max(0);
    // One buffer for every generated name: lookups need a name, not an allocation each.
    let mut name = String::new();
    for t in spec.volume_claim_templates.iter().flatten() {
        let Some(template) = t.metadata.name.as_deref() else {
            continue;
        };
        for ordinal in start..start.saturating_add(replicas) {
            name.clear();
            let _ = write!(name, "{template}-{}-{ordinal}", w.name);
            f(Claim {
                name: &name,
                template: Some(t),
            });
        }
    }
}

fn has_claims(w: &Workload<'_>) -> bool {
    let mut volumes = w.pod_spec.volumes.iter().flatten();
    volumes.any(|v| v.persistent_volume_claim.is_some())
        || (!claim_templates(w).is_empty() && w.replicas().is_some_and(|r| r > 0))
}

/// The claims' names, for a message.
fn claim_names(w: &Workload<'_>) -> Vec<String> {
    let mut names = Vec::new();
    for_each_claim(w, |c| names.push(c.name.to_string()));
    names
}

/// `claim a` or `claims a and b`.
fn claims_phrase<S: AsRef<str>>(names: &[S]) -> String {
    let noun = if names.len() == 1 { "claim" } else { "claims" };
    format!("{noun} {}", join_names(names))
}

fn volume<'a>(w: &Workload<'a>, name: &str) -> Option<&'a Volume> {
    w.pod_spec.volumes.iter().flatten().find(|v| v.name == name)
}

/// Whether a volume outlives the pod. Positive list: a volume with no source at all is
/// defaulted to emptyDir by Kubernetes, and inline CSI volumes are ephemeral by design.
fn is_durable(v: &Volume) -> bool {
    v.persistent_volume_claim.is_some()
        || v.host_path.is_some()
        || v.nfs.is_some()
        || v.iscsi.is_some()
        || v.rbd.is_some()
        || v.cephfs.is_some()
        || v.glusterfs.is_some()
        || v.fc.is_some()
        || v.aws_elastic_block_store.is_some()
        || v.gce_persistent_disk.is_some()
        || v.azure_disk.is_some()
        || v.azure_file.is_some()
        || v.cinder.is_some()
        || v.vsphere_volume.is_some()
        || v.portworx_volume.is_some()
        || v.flex_volume.is_some()
        || v.quobyte.is_some()
        || v.scale_io.is_some()
        || v.storageos.is_some()
        || v.photon_persistent_disk.is_some()
        || v.flocker.is_some()
}

/// The kind of a writable volume that dies with the pod. A volume with no source at all is an
/// emptyDir to Kubernetes.
fn transient_kind(v: &Volume) -> Option<&'static str> {
    if v.ephemeral.is_some() {
        return Some("ephemeral");
    }
    let other = is_durable(v)
        || v.config_map.is_some()
        || v.secret.is_some()
        || v.projected.is_some()
        || v.downward_api.is_some()
        || v.csi.is_some()
        || v.image.is_some()
        || v.git_repo.is_some();
    (!other).then_some("emptyDir")
}

fn is_data_path(path: &str, params: &Parameters) -> bool {
    params
        .data_paths
        .iter()
        .any(|p| !p.is_empty() && path.starts_with(p.as_str()))
}

/// Whether the container mounts a volume that outlives the pod (a template's claim included).
fn mounts_durable(w: &Workload<'_>, templates: &[PersistentVolumeClaim], c: &Container) -> bool {
    c.volume_mounts.iter().flatten().any(|m| {
        templates
            .iter()
            .any(|t| t.metadata.name.as_deref() == Some(m.name.as_str()))
            || volume(w, &m.name).is_some_and(is_durable)
    })
}

/// Where the data of containers without a durable volume lives, and what erases it.
fn data_location(
    w: &Workload<'_>,
    params: &Parameters,
    containers: &[&Container],
) -> (String, &'static str) {
    let mounts: Vec<(&VolumeMount, &str)> = containers
        .iter()
        .flat_map(|c| c.volume_mounts.iter().flatten())
        .filter_map(|m| Some((m, transient_kind(volume(w, &m.name)?)?)))
        .collect();
    // An emptyDir at a data path is where the data is; any other one may be.
    let at_data: Vec<_> = mounts
        .iter()
        .filter(|(m, _)| is_data_path(&m.mount_path, params))
        .collect();
    let shown: Vec<String> = if at_data.is_empty() {
        mounts.iter().collect::<Vec<_>>()
    } else {
        at_data
    }
    .iter()
    .map(|(m, kind)| format!("{kind} volume {:?} at {}", m.name, m.mount_path))
    .collect();
    if shown.is_empty() {
        (
            "in the container filesystem".to_string(),
            "a container restarts",
        )
    } else {
        (
            format!("on {}", join_names(&shown)),
            "the pod is deleted or rescheduled",
        )
    }
}

fn ephemeral_datastore(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    // A Job running a datastore image is a client (a dump, a migration), not a store.
    if !w.is_long_running() || !is_datastore(w, ctx.params) {
        return;
    }
    let templates = claim_templates(w);
    match datastore_container(w, ctx.params) {
        Some((c, datastore)) => {
            if mounts_durable(w, templates, c) {
                return out.pass();
            }
            let (location, erased_when) = data_location(w, ctx.params, &[c]);
            out.fail(format!(
                "container {:?} runs {datastore} with no persistent volume claim: its data \
                 lives {location} and is erased whenever {erased_when}",
                c.name
            ))
            .container(&c.name);
        }
        None => {
            // A StatefulSet running no known datastore image: any container may hold the state.
            if w.long_running_containers()
                .any(|c| mounts_durable(w, templates, c))
            {
                return out.pass();
            }
            let containers: Vec<&Container> = w.long_running_containers().collect();
            let (location, erased_when) = data_location(w, ctx.params, &containers);
            out.fail(format!(
                "StatefulSet {} mounts no persistent volume claim: its data lives {location} \
                 and is erased whenever {erased_when}",
                w.name
            ));
        }
    }
}

fn emptydir_data(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    // A Job's emptyDir is scratch space by nature: it is meant to vanish with the pod.
    if !w.is_long_running() {
        return;
    }
    let mut mounts_emptydir = false;
    for c in w.long_running_containers() {
        for m in c.volume_mounts.iter().flatten() {
            if volume(w, &m.name).and_then(transient_kind) != Some("emptyDir") {
                continue;
            }
            mounts_emptydir = true;
            if is_data_path(&m.mount_path, ctx.params) {
                out.fail(format!(
                    "emptyDir volume {:?} is mounted at {} in container {:?}: what it stores \
                     there is erased whenever the pod is deleted or rescheduled",
                    m.name, m.mount_path, c.name
                ))
                .container(&c.name);
            }
        }
    }
    if mounts_emptydir {
        out.pass();
    }
}

const BACKUP_KINDS: &[RelatedKind] = &[
    RelatedKind::CronJob,
    RelatedKind::VeleroSchedule,
    RelatedKind::VolumeSnapshot,
    RelatedKind::SnapshotSchedule,
];

fn is_backup_job(cj: &CronJobFacts, params: &Parameters) -> bool {
    cj.labelled_backup
        || params
            .backup_commands
            .iter()
            // An empty entry in the policy names no command.
            .any(|c| !c.is_empty() && contains_ignoring_case(&cj.command_text, c))
}

fn no_backup(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    // A Job's claim is scratch space or a backup's destination, not data to back up.
    if !w.is_long_running() || !has_claims(w) {
        return;
    }
    if !ctx.has_any(BACKUP_KINDS) {
        return out.skip_missing(BACKUP_KINDS);
    }
    let (world, ns) = (ctx.world, w.namespace);
    if !world.velero_schedules_covering(ns).is_empty() {
        return out.pass();
    }
    let cron_jobs = world.cron_jobs(ns);
    if cron_jobs
        .iter()
        .any(|cj| !cj.suspended && is_backup_job(cj, ctx.params))
    {
        return out.pass();
    }
    let mut snapshotted = false;
    for_each_claim(w, |c| {
        snapshotted = snapshotted
            || !world.snapshots_of_claim(ns, c.name).is_empty()
            || world
                .pvc(ns, c.name)
                .is_some_and(|p| !world.snapshot_schedules_for_claim(ns, p).is_empty());
    });
    if snapshotted {
        return out.pass();
    }
    let mut looked: Vec<String> = Vec::new();
    if ctx.has(&[RelatedKind::VeleroSchedule]) {
        looked.push(format!("no Velero Schedule covers namespace {ns}"));
    }
    if ctx.has(&[RelatedKind::CronJob]) {
        let suspended: Vec<&str> = cron_jobs
            .iter()
            .filter(|cj| is_backup_job(cj, ctx.params))
            .map(|cj| cj.name.as_str())
            .collect();
        match suspended.len() {
            0 => {
                let example = ctx
                    .params
                    .backup_commands
                    .first()
                    .map(|c| format!(" or runs a dump command such as {c}"))
                    .unwrap_or_default();
                looked.push(format!(
                    "no CronJob in namespace {ns} is labelled as a backup{example}"
                ));
            }
            1 => looked.push(format!(
                "backup CronJob {} in namespace {ns} is suspended",
                suspended[0]
            )),
            _ => looked.push(format!(
                "backup CronJobs {} in namespace {ns} are suspended",
                join_names(&suspended)
            )),
        }
    }
    if ctx.has(&[RelatedKind::VolumeSnapshot]) {
        looked.push("no VolumeSnapshot of them exists".to_string());
    }
    if ctx.has(&[RelatedKind::SnapshotSchedule]) {
        looked.push("no SnapshotSchedule selects them".to_string());
    }
    let names = claim_names(w);
    let verb = if names.len() == 1 { "has" } else { "have" };
    out.fail(format!(
        "{} {verb} no backup ({}): a lost or corrupted volume cannot be restored",
        claims_phrase(&names),
        looked.join("; ")
    ));
}

/// Why a claim's data goes with it: the bound volume, or the class it is provisioned from.
enum Deleter {
    Volume(String),
    Class { name: String, default: bool },
}

fn reclaim_delete(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    if !has_claims(w) {
        return;
    }
    const KINDS: &[RelatedKind] = &[RelatedKind::PersistentVolume, RelatedKind::StorageClass];
    if !ctx.has_any(KINDS) {
        return out.skip_missing(KINDS);
    }
    let (world, ns) = (ctx.world, w.namespace);
    let mut failing: Vec<(Deleter, Vec<String>)> = Vec::new();
    let mut judged = false;
    let mut unknown: Vec<String> = Vec::new();
    for_each_claim(w, |c| {
        let deleter = if let Some(pv) = world.pv_for_claim(ns, c.name) {
            // A PersistentVolume created without a policy defaults to Retain.
            (pv.reclaim_policy.as_deref() == Some("Delete"))
                .then(|| Deleter::Volume(pv.name.clone()))
        } else {
            // Not bound yet (or its volume is not known): the class decides what it will get.
            let class = match (world.pvc(ns, c.name), c.template) {
                (Some(pvc), _) => Some(pvc.storage_class.as_deref()),
                (None, Some(t)) => Some(
                    t.spec
                        .as_ref()
                        .and_then(|s| s.storage_class_name.as_deref()),
                ),
                (None, None) => None,
            };
            let sc = match class {
                // An empty class binds to a pre-made volume: nothing is provisioned.
                Some(Some("")) | None => None,
                Some(Some(name)) => world.storage_class(name),
                Some(None) => world.default_storage_class(),
            };
            let Some(sc) = sc else {
                unknown.push(c.name.to_string());
                return;
            };
            (sc.reclaim_policy == "Delete").then(|| Deleter::Class {
                name: sc.name.clone(),
                default: class == Some(None),
            })
        };
        judged = true;
        let Some(deleter) = deleter else {
            return;
        };
        let same = |d: &Deleter| match (d, &deleter) {
            (Deleter::Class { name: a, .. }, Deleter::Class { name: b, .. }) => a == b,
            _ => false,
        };
        match failing.iter_mut().find(|(d, _)| same(d)) {
            Some((_, claims)) => claims.push(c.name.to_string()),
            None => failing.push((deleter, vec![c.name.to_string()])),
        }
    });
    for (deleter, claims) in &failing {
        match deleter {
            Deleter::Volume(pv) => {
                out.fail(format!(
                    "{} is bound to PersistentVolume {pv}, whose reclaimPolicy is Delete: \
                     deleting the claim (or its namespace) deletes the volume and its data",
                    claims_phrase(claims)
                ))
                .object(format!("PersistentVolume/{pv}"));
            }
            Deleter::Class { name, default } => {
                let (verb, which) = match (claims.len(), default) {
                    (1, true) => ("uses", "the default StorageClass"),
                    (1, false) => ("uses", "StorageClass"),
                    (_, true) => ("use", "the default StorageClass"),
                    (_, false) => ("use", "StorageClass"),
                };
                out.fail(format!(
                    "{} {verb} {which} {name}, whose reclaimPolicy is Delete: deleting a claim \
                     (or its namespace) deletes its volume and the data",
                    claims_phrase(claims)
                ))
                .object(format!("StorageClass/{name}"));
            }
        }
    }
    if judged {
        out.pass();
    } else if !unknown.is_empty() {
        out.skip(format!(
            "not judged: neither the PersistentVolume nor the StorageClass of {} is known",
            claims_phrase(&unknown)
        ));
    }
}

fn rwo_shared(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    if !matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::ReplicaSet) {
        return;
    }
    let replicas = w.replicas().unwrap_or(1);
    let hpa = ctx.related.hpa.filter(|h| h.max_replicas >= 2);
    if replicas < 2 && hpa.is_none() {
        return;
    }
    if !has_claims(w) {
        return;
    }
    if !ctx.has(&[RelatedKind::PersistentVolumeClaim]) {
        return out.skip_missing(&[RelatedKind::PersistentVolumeClaim]);
    }
    let mut judged = false;
    let mut unknown: Vec<String> = Vec::new();
    for_each_claim(w, |c| {
        let Some(pvc) = ctx.world.pvc(w.namespace, c.name) else {
            unknown.push(c.name.to_string());
            return;
        };
        judged = true;
        if !pvc.is_read_write_once() {
            return;
        }
        let pod_only = pvc.access_modes.iter().any(|m| m == "ReadWriteOncePod");
        let mode = if pod_only {
            "ReadWriteOncePod"
        } else {
            "ReadWriteOnce"
        };
        let scale = match hpa {
            Some(h) if replicas < 2 => format!(
                "HorizontalPodAutoscaler {} scales the {} up to {} replicas",
                h.name,
                w.kind.as_str(),
                h.max_replicas
            ),
            _ => format!("the {} runs {replicas} replicas", w.kind.as_str()),
        };
        let consequence = if pod_only {
            "only one pod can mount it, the others hang in ContainerCreating"
        } else {
            "replicas scheduled on another node cannot attach it and hang in ContainerCreating"
        };
        out.fail(format!(
            "claim {} is {mode} but {scale}: {consequence}",
            c.name
        ))
        .object(format!("PersistentVolumeClaim/{}", c.name));
    });
    if judged {
        out.pass();
    } else if !unknown.is_empty() {
        out.skip(format!(
            "not judged: {} {} not among the known PersistentVolumeClaims",
            claims_phrase(&unknown),
            if unknown.len() == 1 { "is" } else { "are" }
        ));
    }
}

fn live_pvc_pending(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    // With no pod to consume them, claims of a WaitForFirstConsumer class stay Pending by design.
    if w.replicas() == Some(0) || !has_claims(w) {
        return;
    }
    if !ctx.has(&[RelatedKind::PersistentVolumeClaim]) {
        return out.skip_missing(&[RelatedKind::PersistentVolumeClaim]);
    }
    let grace = ctx.params.grace_period_seconds;
    let mut judged = false;
    for_each_claim(w, |c| {
        let Some(pvc) = ctx.world.pvc(w.namespace, c.name) else {
            return;
        };
        let Some(phase) = pvc.phase.as_deref() else {
            return;
        };
        judged = true;
        let object = || format!("PersistentVolumeClaim/{}", c.name);
        match phase {
            "Lost" => {
                out.fail(format!(
                    "claim {} is Lost: its PersistentVolume is gone, so the pods that mount it \
                     cannot start",
                    c.name
                ))
                .object(object());
            }
            "Pending" => match pvc.created.map(|t| ctx.seconds_since(t)) {
                Some(age) if age < grace => {
                    out.warn(format!(
                        "claim {} has been Pending for {}, inside the {} grace period",
                        c.name,
                        human_duration(age),
                        human_duration(grace)
                    ))
                    .object(object());
                }
                age => {
                    let how_long = age.map_or_else(
                        || "is Pending".to_string(),
                        |a| format!("has been Pending for {}", human_duration(a)),
                    );
                    out.fail(format!(
                        "claim {} {how_long}: no volume is bound to it, so the pods that mount \
                         it cannot start",
                        c.name
                    ))
                    .object(object());
                }
            },
            _ => {}
        }
    });
    if judged {
        out.pass();
    } else {
        out.skip("not judged: none of its claims is known with a status (phase)");
    }
}

#[cfg(test)]
mod tests {
    use crate::api::ReadinessPolicySpec;
    use crate::engine::{CompiledPolicy, evaluate};
    use crate::input::Inventory;
    use crate::testing::{findings, judge, messages, now, outcome};
    use crate::world::RelatedKind;

    fn deployment(replicas: u32, containers: &str, volumes: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\n\
             spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    \
             metadata: {{labels: {{app: api}}}}\n    spec:\n      containers:\n{containers}{volumes}"
        )
    }

    const REDIS: &str = "      - name: redis\n        image: redis:7.2\n";

    fn redis_with(mount: &str, volume: &str) -> String {
        deployment(
            1,
            &format!("{REDIS}        volumeMounts: [{mount}]\n"),
            &format!("      volumes: [{volume}]\n"),
        )
    }

    fn postgres(replicas: u32, extra_spec: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: postgres, namespace: shop}}\n\
             spec:\n  replicas: {replicas}\n{extra_spec}  serviceName: postgres\n  \
             selector: {{matchLabels: {{app: postgres}}}}\n  template:\n    \
             metadata: {{labels: {{app: postgres}}}}\n    spec:\n      containers:\n      \
             - name: postgres\n        image: postgres:16\n        \
             volumeMounts: [{{name: data, mountPath: /var/lib/postgresql/data}}]\n  \
             volumeClaimTemplates:\n  - metadata: {{name: data}}\n    \
             spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 10Gi}}}}}}\n"
        )
    }

    #[test]
    fn ephemeral_datastore() {
        let r = judge(&deployment(1, REDIS, ""));
        assert_eq!(
            messages(&r, "storage-ephemeral-datastore"),
            vec![
                "container \"redis\" runs redis with no persistent volume claim: its data lives in the container filesystem and is erased whenever a container restarts"
            ]
        );
        let f = findings(&r, "storage-ephemeral-datastore");
        assert_eq!(f[0].container.as_deref(), Some("redis"));

        let r = judge(&redis_with(
            "{name: conf, mountPath: /usr/local/etc/redis}, {name: data, mountPath: /data}, {name: tmp, mountPath: /tmp}",
            "{name: conf, configMap: {name: redis}}, {name: data, emptyDir: {}}, {name: tmp, emptyDir: {medium: Memory}}",
        ));
        assert_eq!(
            messages(&r, "storage-ephemeral-datastore"),
            vec![
                "container \"redis\" runs redis with no persistent volume claim: its data lives on emptyDir volume \"data\" at /data and is erased whenever the pod is deleted or rescheduled"
            ]
        );
        // A volume with no source is an emptyDir to Kubernetes; generic ephemeral volumes die
        // with the pod too.
        let r = judge(&redis_with(
            "{name: data, mountPath: /cache}, {name: scratch, mountPath: /scratch}",
            "{name: data}, {name: scratch, ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce]}}}}",
        ));
        assert_eq!(outcome(&r, "storage-ephemeral-datastore"), "fail");
        assert_eq!(
            messages(&r, "storage-ephemeral-datastore"),
            vec![
                "container \"redis\" runs redis with no persistent volume claim: its data lives on emptyDir volume \"data\" at /cache and ephemeral volume \"scratch\" at /scratch and is erased whenever the pod is deleted or rescheduled"
            ]
        );

        let r = judge(&redis_with(
            "{name: data, mountPath: /data}",
            "{name: data, persistentVolumeClaim: {claimName: redis-data}}",
        ));
        assert_eq!(outcome(&r, "storage-ephemeral-datastore"), "pass");
        assert_eq!(
            outcome(&judge(&postgres(3, "")), "storage-ephemeral-datastore"),
            "pass"
        );
        // Not a datastore; and a Job running a datastore image is a client of one.
        let api = "      - name: app\n        image: api:1\n";
        assert_eq!(
            outcome(
                &judge(&deployment(2, api, "")),
                "storage-ephemeral-datastore"
            ),
            "n/a"
        );
        let dump = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: dump, namespace: shop}\n\
             spec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          \
             restartPolicy: OnFailure\n          containers: [{name: dump, image: 'postgres:16', command: [pg_dump]}]\n";
        assert_eq!(outcome(&judge(dump), "storage-ephemeral-datastore"), "n/a");
    }

    #[test]
    fn statefulset_without_claims_is_an_ephemeral_datastore() {
        let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ledger, namespace: shop}\n\
             spec:\n  serviceName: ledger\n  selector: {matchLabels: {app: ledger}}\n  template:\n    \
             metadata: {labels: {app: ledger}}\n    spec:\n      containers: [{name: app, image: 'ledger:1'}]\n";
        assert_eq!(
            messages(&judge(sts), "storage-ephemeral-datastore"),
            vec![
                "StatefulSet ledger mounts no persistent volume claim: its data lives in the container filesystem and is erased whenever a container restarts"
            ]
        );
        // A template the datastore container does not mount keeps nothing of its data.
        let unmounted = postgres(1, "").replace(
            "volumeMounts: [{name: data, mountPath: /var/lib/postgresql/data}]",
            "volumeMounts: []",
        );
        assert_eq!(
            outcome(&judge(&unmounted), "storage-ephemeral-datastore"),
            "fail"
        );
    }

    const FEAST: &str = "      - name: feast\n        image: feastdev/feature-server:0.40\n        \
         volumeMounts: [{name: registry, mountPath: /registry}, {name: tmp, mountPath: /tmp}]\n";

    #[test]
    fn emptydir_at_data_path() {
        let r = judge(&deployment(
            1,
            FEAST,
            "      volumes: [{name: registry, emptyDir: {}}, {name: tmp, emptyDir: {}}]\n",
        ));
        assert_eq!(
            messages(&r, "storage-emptydir-data"),
            vec![
                "emptyDir volume \"registry\" is mounted at /registry in container \"feast\": what it stores there is erased whenever the pod is deleted or rescheduled"
            ]
        );
        assert_eq!(
            findings(&r, "storage-emptydir-data")[0]
                .container
                .as_deref(),
            Some("feast")
        );
        // Scratch space is fine; so is a claim at the data path.
        let r = judge(&deployment(
            1,
            FEAST,
            "      volumes: [{name: registry, persistentVolumeClaim: {claimName: feast}}, {name: tmp, emptyDir: {}}]\n",
        ));
        assert_eq!(outcome(&r, "storage-emptydir-data"), "pass");
        let api = "      - name: app\n        image: api:1\n";
        assert_eq!(
            outcome(&judge(&deployment(1, api, "")), "storage-emptydir-data"),
            "n/a"
        );
        // A native sidecar's data counts as well.
        let sidecar = deployment(
            1,
            "      - name: app\n        image: api:1\n",
            "      initContainers: [{name: sync, image: 'sync:1', restartPolicy: Always, volumeMounts: [{name: state, mountPath: /var/lib/sync}]}]\n      \
             volumes: [{name: state, emptyDir: {}}]\n",
        );
        assert_eq!(
            messages(&judge(&sidecar), "storage-emptydir-data"),
            vec![
                "emptyDir volume \"state\" is mounted at /var/lib/sync in container \"sync\": what it stores there is erased whenever the pod is deleted or rescheduled"
            ]
        );
    }

    fn judge_without_cron_jobs(yaml: &str) -> crate::api::Report {
        let mut inv = Inventory::new();
        inv.add_text("test.yaml", yaml);
        inv.world.mark_absent(RelatedKind::CronJob);
        let view = inv.workloads[0].object.view().expect("pod spec");
        let policy = CompiledPolicy::compile(None, &ReadinessPolicySpec::default()).unwrap();
        evaluate(&view, &inv.world, &policy, now())
    }

    fn cron_job(name: &str, labels: &str, command: &str, suspend: bool) -> String {
        format!(
            "---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: {name}, namespace: shop, labels: {{{labels}}}}}\n\
             spec:\n  schedule: '@daily'\n  suspend: {suspend}\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          \
             restartPolicy: OnFailure\n          containers: [{{name: job, image: 'tools:1', command: [sh, -c, '{command}']}}]\n"
        )
    }

    fn velero(excluded: &str) -> String {
        format!(
            "---\napiVersion: velero.io/v1\nkind: Schedule\nmetadata: {{name: nightly, namespace: velero}}\n\
             spec:\n  schedule: '0 1 * * *'\n  template: {{includedNamespaces: ['*'], excludedNamespaces: [{excluded}]}}\n"
        )
    }

    #[test]
    fn no_backup() {
        let base = postgres(2, "");
        let r = judge(&base);
        assert_eq!(
            messages(&r, "storage-no-backup"),
            vec![
                "claims data-postgres-0 and data-postgres-1 have no backup (no CronJob in namespace shop is labelled as a backup or runs a dump command such as pg_dump): a lost or corrupted volume cannot be restored"
            ]
        );
        // Every kind looked for is named.
        let snapshot_of_other = "---\napiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n\
             metadata: {name: other-snap, namespace: shop}\nspec: {source: {persistentVolumeClaimName: other}}\n";
        let r = judge(&format!(
            "{base}{}{}{}",
            velero("shop"),
            snapshot_of_other,
            cron_job("logs", "", "logrotate", false)
        ));
        assert_eq!(
            messages(&r, "storage-no-backup"),
            vec![
                "claims data-postgres-0 and data-postgres-1 have no backup (no Velero Schedule covers namespace shop; no CronJob in namespace shop is labelled as a backup or runs a dump command such as pg_dump; no VolumeSnapshot of them exists): a lost or corrupted volume cannot be restored"
            ]
        );
        // A suspended backup job does not count, and the message says so.
        let r = judge(&format!(
            "{base}{}",
            cron_job("pg-backup", "", "PG_DUMP -Fc app > /backup/app.dump", true)
        ));
        assert_eq!(
            messages(&r, "storage-no-backup"),
            vec![
                "claims data-postgres-0 and data-postgres-1 have no backup (backup CronJob pg-backup in namespace shop is suspended): a lost or corrupted volume cannot be restored"
            ]
        );

        let passing = [
            velero("kube-system"),
            cron_job("pg-backup", "", "pg_dump -Fc app > /backup/app.dump", false),
            cron_job("snap", "prodready.dev/backup: 'true'", "true", false),
            "---\napiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\n\
             metadata: {name: data-snap, namespace: shop}\nspec: {source: {persistentVolumeClaimName: data-postgres-1}}\n"
                .to_string(),
            "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data-postgres-0, namespace: shop, labels: {backup: hourly}}\n\
             spec: {accessModes: [ReadWriteOnce]}\n---\n\
             apiVersion: snapscheduler.backube/v1\nkind: SnapshotSchedule\nmetadata: {name: hourly, namespace: shop}\n\
             spec: {schedule: '0 * * * *', claimSelector: {matchLabels: {backup: hourly}}}\n"
                .to_string(),
        ];
        for extra in passing {
            let r = judge(&format!("{base}{extra}"));
            assert_eq!(outcome(&r, "storage-no-backup"), "pass", "{extra}");
            assert!(findings(&r, "storage-no-backup").is_empty());
        }

        assert_eq!(
            messages(&judge_without_cron_jobs(&base), "storage-no-backup"),
            vec![
                "not judged: no CronJob, Schedule (velero.io), VolumeSnapshot or SnapshotSchedule objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        assert_eq!(
            outcome(&judge_without_cron_jobs(&base), "storage-no-backup"),
            "skip"
        );
        // No claim, nothing to back up.
        assert_eq!(
            outcome(&judge(&deployment(1, REDIS, "")), "storage-no-backup"),
            "n/a"
        );
    }

    fn storage_class(name: &str, policy: &str, default: bool) -> String {
        format!(
            "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: {name}\n  \
             annotations: {{storageclass.kubernetes.io/is-default-class: '{default}'}}\n\
             provisioner: ebs.csi.aws.com\n{policy}"
        )
    }

    fn pv(name: &str, claim: &str, policy: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {name}}}\n\
             spec:\n  capacity: {{storage: 10Gi}}\n  accessModes: [ReadWriteOnce]\n  \
             persistentVolumeReclaimPolicy: {policy}\n  claimRef: {{namespace: shop, name: {claim}}}\n  \
             csi: {{driver: ebs.csi.aws.com, volumeHandle: vol-1}}\n"
        )
    }

    #[test]
    fn reclaim_delete() {
        // Ordinals may start elsewhere than 0.
        let base = postgres(2, "  ordinals: {start: 1}\n");
        assert_eq!(
            messages(&judge(&base), "storage-reclaim-delete"),
            vec![
                "not judged: no PersistentVolume or StorageClass objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let r = judge(&format!("{base}{}", storage_class("gp3", "", true)));
        assert_eq!(
            messages(&r, "storage-reclaim-delete"),
            vec![
                "claims data-postgres-1 and data-postgres-2 use the default StorageClass gp3, whose reclaimPolicy is Delete: deleting a claim (or its namespace) deletes its volume and the data"
            ]
        );
        assert_eq!(
            findings(&r, "storage-reclaim-delete")[0].object.as_deref(),
            Some("StorageClass/gp3")
        );
        // A bound volume's own policy wins over its class's.
        let r = judge(&format!(
            "{base}{}{}{}",
            storage_class("gp3", "", true),
            pv("pvc-1", "data-postgres-1", "Retain"),
            pv("pvc-2", "data-postgres-2", "Delete")
        ));
        assert_eq!(
            messages(&r, "storage-reclaim-delete"),
            vec![
                "claim data-postgres-2 is bound to PersistentVolume pvc-2, whose reclaimPolicy is Delete: deleting the claim (or its namespace) deletes the volume and its data"
            ]
        );
        let r = judge(&format!(
            "{base}{}{}",
            pv("pvc-1", "data-postgres-1", "Retain"),
            pv("pvc-2", "data-postgres-2", "Retain")
        ));
        assert_eq!(outcome(&r, "storage-reclaim-delete"), "pass");
        let r = judge(&format!(
            "{base}{}",
            storage_class("gp3-retain", "reclaimPolicy: Retain\n", true)
        ));
        assert_eq!(outcome(&r, "storage-reclaim-delete"), "pass");

        // A claim naming a class that is not known cannot be judged.
        let named = redis_with(
            "{name: data, mountPath: /data}",
            "{name: data, persistentVolumeClaim: {claimName: redis-data}}",
        );
        let claim = "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: redis-data, namespace: shop}\n\
             spec: {accessModes: [ReadWriteOnce], storageClassName: fast}\n";
        let r = judge(&format!("{named}{claim}{}", storage_class("gp3", "", true)));
        assert_eq!(
            messages(&r, "storage-reclaim-delete"),
            vec![
                "not judged: neither the PersistentVolume nor the StorageClass of claim redis-data is known"
            ]
        );
        let r = judge(&format!(
            "{named}{claim}{}",
            storage_class("fast", "reclaimPolicy: Delete\n", false)
        ));
        assert_eq!(
            messages(&r, "storage-reclaim-delete"),
            vec![
                "claim redis-data uses StorageClass fast, whose reclaimPolicy is Delete: deleting a claim (or its namespace) deletes its volume and the data"
            ]
        );
    }

    fn claim(name: &str, modes: &str, status: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}, namespace: shop, creationTimestamp: '2026-06-01T11:58:00Z'}}\n\
             spec: {{accessModes: [{modes}]}}\n{status}"
        )
    }

    fn uploads(replicas: u32) -> String {
        deployment(
            replicas,
            "      - name: app\n        image: api:1\n        volumeMounts: [{name: uploads, mountPath: /uploads}]\n",
            "      volumes: [{name: uploads, persistentVolumeClaim: {claimName: uploads}}]\n",
        )
    }

    #[test]
    fn rwo_shared() {
        let r = judge(&format!(
            "{}{}",
            uploads(3),
            claim("uploads", "ReadWriteOnce", "")
        ));
        assert_eq!(
            messages(&r, "storage-rwo-shared"),
            vec![
                "claim uploads is ReadWriteOnce but the Deployment runs 3 replicas: replicas scheduled on another node cannot attach it and hang in ContainerCreating"
            ]
        );
        assert_eq!(
            findings(&r, "storage-rwo-shared")[0].object.as_deref(),
            Some("PersistentVolumeClaim/uploads")
        );
        let r = judge(&format!(
            "{}{}",
            uploads(2),
            claim("uploads", "ReadWriteOncePod", "")
        ));
        assert_eq!(
            messages(&r, "storage-rwo-shared"),
            vec![
                "claim uploads is ReadWriteOncePod but the Deployment runs 2 replicas: only one pod can mount it, the others hang in ContainerCreating"
            ]
        );
        // An autoscaler that can add replicas makes a single-replica Deployment shared too.
        let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api, namespace: shop}\n\
             spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, minReplicas: 1, maxReplicas: 4}\n";
        let r = judge(&format!(
            "{}{}{hpa}",
            uploads(1),
            claim("uploads", "ReadWriteOnce", "")
        ));
        assert_eq!(
            messages(&r, "storage-rwo-shared"),
            vec![
                "claim uploads is ReadWriteOnce but HorizontalPodAutoscaler api scales the Deployment up to 4 replicas: replicas scheduled on another node cannot attach it and hang in ContainerCreating"
            ]
        );

        let r = judge(&format!(
            "{}{}",
            uploads(3),
            claim("uploads", "ReadWriteMany, ReadWriteOnce", "")
        ));
        assert_eq!(outcome(&r, "storage-rwo-shared"), "pass");
        assert_eq!(outcome(&judge(&uploads(3)), "storage-rwo-shared"), "skip");
        assert_eq!(
            messages(
                &judge(&format!(
                    "{}{}",
                    uploads(3),
                    claim("other", "ReadWriteOnce", "")
                )),
                "storage-rwo-shared"
            ),
            vec!["not judged: claim uploads is not among the known PersistentVolumeClaims"]
        );
        let r = judge(&format!(
            "{}{}",
            uploads(1),
            claim("uploads", "ReadWriteOnce", "")
        ));
        assert_eq!(outcome(&r, "storage-rwo-shared"), "n/a");
        let r = judge(&format!(
            "{}{}",
            postgres(3, ""),
            claim("data-postgres-0", "ReadWriteOnce", "")
        ));
        assert_eq!(outcome(&r, "storage-rwo-shared"), "n/a");
    }

    #[test]
    fn live_pvc_pending() {
        let base = uploads(1);
        assert_eq!(
            messages(&judge(&base), "live-pvc-pending"),
            vec![
                "not judged: no PersistentVolumeClaim objects are known (none in the input, or not watched in the cluster)"
            ]
        );
        let r = judge(&format!("{base}{}", claim("uploads", "ReadWriteOnce", "")));
        assert_eq!(
            messages(&r, "live-pvc-pending"),
            vec!["not judged: none of its claims is known with a status (phase)"]
        );
        let r = judge(&format!(
            "{base}{}",
            claim("uploads", "ReadWriteOnce", "status: {phase: Bound}\n")
        ));
        assert_eq!(outcome(&r, "live-pvc-pending"), "pass");
        let r = judge(&format!(
            "{base}{}",
            claim("uploads", "ReadWriteOnce", "status: {phase: Pending}\n")
        ));
        assert_eq!(outcome(&r, "live-pvc-pending"), "warn");
        assert_eq!(
            messages(&r, "live-pvc-pending"),
            vec!["claim uploads has been Pending for 2m, inside the 5m grace period"]
        );
        let old = claim("uploads", "ReadWriteOnce", "status: {phase: Pending}\n")
            .replace("2026-06-01T11:58:00Z", "2026-06-01T10:00:00Z");
        let r = judge(&format!("{base}{old}"));
        assert_eq!(
            messages(&r, "live-pvc-pending"),
            vec![
                "claim uploads has been Pending for 2h: no volume is bound to it, so the pods that mount it cannot start"
            ]
        );
        let r = judge(&format!(
            "{base}{}",
            claim("uploads", "ReadWriteOnce", "status: {phase: Lost}\n")
        ));
        assert_eq!(
            messages(&r, "live-pvc-pending"),
            vec![
                "claim uploads is Lost: its PersistentVolume is gone, so the pods that mount it cannot start"
            ]
        );
        assert_eq!(
            findings(&r, "live-pvc-pending")[0].object.as_deref(),
            Some("PersistentVolumeClaim/uploads")
        );
        // Scaled to zero, a WaitForFirstConsumer claim waits for a pod by design.
        let r = judge(&format!(
            "{}{}",
            uploads(0),
            claim("uploads", "ReadWriteOnce", "status: {phase: Pending}\n")
        ));
        assert_eq!(outcome(&r, "live-pvc-pending"), "n/a");
    }
}
