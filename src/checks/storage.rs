//! Storage and data durability: whether the data a workload keeps survives a restart, a
//! rescheduling, a deleted claim or a lost volume.

use std::fmt::Write as _;

use k8s_openapi::api::core::v1::{Container, PersistentVolumeClaim, Volume};

use super::util::{
    contains_ignoring_case, datastore_container, human_duration, instant, join_names,
};
use super::{Check, Ctx, Out, Run};
use crate::api::{Category, Needs, Parameters, Severity};
use crate::text::persistence;
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
                      (or use a managed service). A Redis-compatible cache that keeps nothing on \
                      disk (`--save \"\"` and no append-only file) is recognised as one.",
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

/// The most StatefulSet claims looked at per template: far above any real StatefulSet.
const MAX_ORDINALS: i32 = 1000;

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
    // The replica count is the user's number: a StatefulSet asking for two billion replicas
    // must not make the engine generate two billion names.
    let replicas = replicas.min(MAX_ORDINALS);
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

/// Whether `for_each_claim` stopped short of the StatefulSet's last ordinal.
fn claims_capped(w: &Workload<'_>) -> bool {
    !claim_templates(w).is_empty() && w.replicas().is_some_and(|r| r > MAX_ORDINALS)
}

/// `claim a`, `claims a and b`, or for many `claims a, b, ... and z (12 claims)`; `capped`
/// when the list stops short of the workload's last claim.
fn claims_phrase<S: AsRef<str>>(names: &[S], capped: bool) -> String {
    match names.len() {
        0 => "no claim".to_string(),
        1 => format!("claim {}", names[0].as_ref()),
        n if n > 5 || capped => format!(
            "claims {}, {}, ... and {} ({})",
            names[0].as_ref(),
            names[1].as_ref(),
            names[n - 1].as_ref(),
            if capped {
                format!("the first {n} of its claims")
            } else {
                format!("{n} claims")
            }
        ),
        _ => format!("claims {}", join_names(names)),
    }
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

/// Redis-compatible servers, whose persistence `text::persistence` reads.
const REDIS_LIKE: &[&str] = &["redis", "valkey", "keydb"];

/// The ConfigMaps a container mounts (as a volume or through a projected one).
fn mounted_config_maps<'a>(w: &Workload<'a>, c: &'a Container) -> impl Iterator<Item = &'a str> {
    c.volume_mounts
        .iter()
        .flatten()
        .filter_map(move |m| volume(w, &m.name))
        .flat_map(|v| {
            let direct = v.config_map.as_ref().map(|m| m.name.as_str());
            let projected = v
                .projected
                .iter()
                .flat_map(|p| p.sources.iter().flatten())
                .filter_map(|s| s.config_map.as_ref().map(|m| m.name.as_str()));
            direct.into_iter().chain(projected)
        })
}

/// Whether a Redis-compatible container runs as a cache that keeps nothing on disk: its
/// command line, or the configuration it mounts from a ConfigMap (the command line wins),
/// turns snapshots and the append-only file off.
fn is_cache(ctx: &Ctx<'_>, c: &Container, datastore: &str) -> bool {
    if !REDIS_LIKE.iter().any(|r| datastore.eq_ignore_ascii_case(r)) {
        return false;
    }
    let w = ctx.workload;
    let file = mounted_config_maps(w, c)
        .filter_map(|name| ctx.world.config_map(w.namespace, name))
        .flat_map(|cm| cm.persistence.iter().map(|(_, p)| *p))
        .find(|p| p.is_set())
        .unwrap_or_default();
    let parts = c.command.iter().chain(c.args.iter()).flatten();
    let line = persistence::of_command_line(parts.map(String::as_str));
    !file.then(line).keeps_data()
}

/// The datastore container whose data does not outlive its pod, with the datastore's name:
/// what storage-ephemeral-datastore reports.
fn ephemeral_store<'a, 'p>(ctx: &Ctx<'a>) -> Option<(&'a Container, &'p str)>
where
    'a: 'p,
{
    let w = ctx.workload;
    // A Job running a datastore image is a client (a dump, a migration), not a store.
    if !w.is_long_running() {
        return None;
    }
    let (c, datastore) = datastore_container(w, ctx.params)?;
    if mounts_durable(w, claim_templates(w), c) || is_cache(ctx, c, datastore) {
        return None;
    }
    Some((c, datastore))
}

fn ephemeral_datastore(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    if !w.is_long_running() || datastore_container(w, ctx.params).is_none() {
        return;
    }
    let Some((c, datastore)) = ephemeral_store(ctx) else {
        return out.pass();
    };
    // Only what the manifest proves: nothing mounted outlives the pod. Where exactly the
    // server writes (its image's data directory, a volume the image declares, an emptyDir) the
    // manifest does not say.
    let transient: Vec<String> = c
        .volume_mounts
        .iter()
        .flatten()
        .filter_map(|m| {
            let kind = transient_kind(volume(w, &m.name)?)?;
            Some(format!("{kind} volume {:?} at {}", m.name, m.mount_path))
        })
        .collect();
    let mounts = match transient.len() {
        0 => String::new(),
        _ => format!(" (it mounts only {})", join_names(&transient)),
    };
    out.fail(format!(
        "container {:?} runs {datastore} with no persistent volume: nothing it mounts outlives \
         its pod{mounts}, so its data is lost at the latest when the pod is deleted, evicted or \
         rescheduled",
        c.name
    ))
    .container(&c.name);
}

fn emptydir_data(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let w = ctx.workload;
    // A Job's emptyDir is scratch space by nature: it is meant to vanish with the pod.
    if !w.is_long_running() {
        return;
    }
    // A datastore whose data does not outlive the pod is storage-ephemeral-datastore's
    // finding: its volumes are not reported a second time.
    let store = ephemeral_store(ctx).map(|(c, _)| c.name.as_str());
    let mut mounts_emptydir = false;
    for v in w.pod_spec.volumes.iter().flatten() {
        if transient_kind(v) != Some("emptyDir") {
            continue;
        }
        // One volume, one finding: every container and path it is mounted at.
        let mut at_data: Vec<(&str, &str)> = Vec::new();
        let mut in_store = false;
        for c in w.long_running_containers() {
            for m in c
                .volume_mounts
                .iter()
                .flatten()
                .filter(|m| m.name == v.name)
            {
                mounts_emptydir = true;
                in_store |= store == Some(c.name.as_str());
                if is_data_path(&m.mount_path, ctx.params) {
                    at_data.push((c.name.as_str(), m.mount_path.as_str()));
                }
            }
        }
        if at_data.is_empty() || in_store {
            continue;
        }
        let places: Vec<String> = at_data
            .iter()
            .map(|(c, path)| format!("{path} in container {c:?}"))
            .collect();
        let f = out.fail(format!(
            "emptyDir volume {:?} is mounted at {}: what it stores there is erased whenever the \
             pod is deleted or rescheduled",
            v.name,
            join_names(&places)
        ));
        let containers: std::collections::BTreeSet<&str> =
            at_data.iter().map(|(c, _)| *c).collect();
        if let [only] = containers.into_iter().collect::<Vec<_>>().as_slice() {
            f.container(only);
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
    let claims = claims_phrase(&names, claims_capped(w));
    let looked = looked.join("; ");
    // Backups are often set up apart from the workload (Velero in its own namespace, a
    // platform team's jobs): offline, nothing in the input is not proof of no backup.
    if ctx.absence_proven() {
        let verb = if names.len() == 1 { "has" } else { "have" };
        out.fail(format!(
            "{claims} {verb} no backup ({looked}): a lost or corrupted volume cannot be restored"
        ));
    } else {
        out.warn(format!(
            "no backup of {claims} is in the input ({looked}): unless something outside it backs \
             them up, a lost or corrupted volume cannot be restored"
        ));
    }
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
                    claims_phrase(claims, claims_capped(w))
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
                    claims_phrase(claims, claims_capped(w))
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
            claims_phrase(&unknown, claims_capped(w))
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
            claims_phrase(&unknown, claims_capped(w)),
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
            "Pending" => match pvc.created {
                Some(created) if ctx.seconds_since(created) < grace => {
                    out.warn(format!(
                        "claim {} has been Pending since {}, inside the {} grace period",
                        c.name,
                        instant(created),
                        human_duration(grace)
                    ))
                    .object(object());
                }
                created => {
                    let how_long = created.map_or_else(
                        || "is Pending".to_string(),
                        |t| format!("has been Pending since {}", instant(t)),
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
    use crate::testing::{findings, judge, judge_complete, messages, now, outcome};
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
                "container \"redis\" runs redis with no persistent volume: nothing it mounts outlives its pod, so its data is lost at the latest when the pod is deleted, evicted or rescheduled"
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
                "container \"redis\" runs redis with no persistent volume: nothing it mounts outlives its pod (it mounts only emptyDir volume \"data\" at /data and emptyDir volume \"tmp\" at /tmp), so its data is lost at the latest when the pod is deleted, evicted or rescheduled"
            ]
        );
        // One cause, one finding: the emptyDir at /data is this finding, not another one.
        assert_eq!(outcome(&r, "storage-emptydir-data"), "pass");
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
                "container \"redis\" runs redis with no persistent volume: nothing it mounts outlives its pod (it mounts only emptyDir volume \"data\" at /cache and ephemeral volume \"scratch\" at /scratch), so its data is lost at the latest when the pod is deleted, evicted or rescheduled"
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
    fn a_statefulset_is_not_a_datastore_by_itself() {
        let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: ledger, namespace: shop}\n\
             spec:\n  serviceName: ledger\n  selector: {matchLabels: {app: ledger}}\n  template:\n    \
             metadata: {labels: {app: ledger}}\n    spec:\n      containers: [{name: app, image: 'ledger:1'}]\n";
        assert_eq!(outcome(&judge(sts), "storage-ephemeral-datastore"), "n/a");
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

    /// A Redis-compatible cache with snapshots and the append-only file off loses nothing on
    /// restart: told on its command line, or in the configuration it mounts.
    #[test]
    fn a_cache_that_keeps_nothing_is_not_an_ephemeral_datastore() {
        let cache = |args: &str| {
            deployment(
                1,
                &format!(
                    "      - name: redis\n        image: valkey/valkey:8\n        args: [{args}]\n"
                ),
                "",
            )
        };
        for args in [
            "--save, '', --appendonly, 'no'",
            "sh, -c, \"exec valkey-server --save '' --maxmemory 100mb\"",
        ] {
            assert_eq!(
                outcome(&judge(&cache(args)), "storage-ephemeral-datastore"),
                "pass",
                "{args}"
            );
        }
        assert_eq!(
            outcome(
                &judge(&cache("--save, '', --appendonly, 'yes'")),
                "storage-ephemeral-datastore"
            ),
            "fail"
        );
        let config = |conf: &str| {
            format!(
                "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: redis, namespace: shop}}\n\
                 data: {{redis.conf: \"{conf}\"}}\n",
                redis_with(
                    "{name: conf, mountPath: /usr/local/etc/redis}",
                    "{name: conf, configMap: {name: redis}}"
                )
            )
        };
        assert_eq!(
            outcome(
                &judge(&config("maxmemory 64mb\\nsave ''\\nappendonly no\\n")),
                "storage-ephemeral-datastore"
            ),
            "pass"
        );
        assert_eq!(
            outcome(
                &judge(&config("save ''\\nappendonly yes\\n")),
                "storage-ephemeral-datastore"
            ),
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
        // One volume, one finding, wherever it is mounted.
        let shared = deployment(
            1,
            &format!(
                "{FEAST}      - name: indexer\n        image: indexer:1\n        \
                 volumeMounts: [{{name: registry, mountPath: /data/registry}}]\n"
            ),
            "      volumes: [{name: registry, emptyDir: {}}, {name: tmp, emptyDir: {}}]\n",
        );
        let r = judge(&shared);
        assert_eq!(
            messages(&r, "storage-emptydir-data"),
            vec![
                "emptyDir volume \"registry\" is mounted at /registry in container \"feast\" and /data/registry in container \"indexer\": what it stores there is erased whenever the pod is deleted or rescheduled"
            ]
        );
        assert_eq!(findings(&r, "storage-emptydir-data")[0].container, None);
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
        // Offline, a backup may be set up apart from the workload: a warning.
        let r = judge(&base);
        assert_eq!(outcome(&r, "storage-no-backup"), "warn");
        assert_eq!(
            messages(&r, "storage-no-backup"),
            vec![
                "no backup of claims data-postgres-0 and data-postgres-1 is in the input (no CronJob in namespace shop is labelled as a backup or runs a dump command such as pg_dump): unless something outside it backs them up, a lost or corrupted volume cannot be restored"
            ]
        );
        // Declared complete (or in the cluster), nothing is nothing.
        let judge = judge_complete;
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
        // The replica count is the user's number: two billion replicas are named in a bounded
        // message after a bounded walk.
        let r = judge(&postgres(2_147_483_647, ""));
        assert_eq!(
            messages(&r, "storage-no-backup"),
            vec![
                "claims data-postgres-0, data-postgres-1, ... and data-postgres-999 (the first 1000 of its claims) have no backup (no CronJob in namespace shop is labelled as a backup or runs a dump command such as pg_dump): a lost or corrupted volume cannot be restored"
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
            vec![
                "claim uploads has been Pending since 2026-06-01T11:58:00Z, inside the 5m grace period"
            ]
        );
        let old = claim("uploads", "ReadWriteOnce", "status: {phase: Pending}\n")
            .replace("2026-06-01T11:58:00Z", "2026-06-01T10:00:00Z");
        let r = judge(&format!("{base}{old}"));
        assert_eq!(
            messages(&r, "live-pvc-pending"),
            vec![
                "claim uploads has been Pending since 2026-06-01T10:00:00Z: no volume is bound to it, so the pods that mount it cannot start"
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
