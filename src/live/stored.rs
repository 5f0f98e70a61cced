//! A workload as the live state keeps it between evaluations: the object as compressed compact
//! JSON, and beside it the few things change resolution reads on every related change.
//!
//! A typed k8s-openapi object holds every optional field of every container inline (a Container
//! is 2 KiB before any of its strings, a Volume 3 KiB), so a Deployment takes about five times
//! its JSON size once decoded; deflate (already at hand for Helm's release payloads) then takes
//! the JSON's repeated field names down to about a quarter. The object is decoded again only
//! when it is judged: microseconds, against the judging's tens.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use crate::workload::{Workload, WorkloadKind, WorkloadObject};

use super::error::Error;
use crate::world::Reference;

/// See the module documentation.
#[derive(Debug)]
pub struct StoredWorkload {
    kind: WorkloadKind,
    json: Box<[u8]>,
    pub links: Links,
}

impl StoredWorkload {
    pub fn new(object: &WorkloadObject) -> StoredWorkload {
        let json = match object {
            WorkloadObject::Deployment(o) => serde_json::to_vec(o),
            WorkloadObject::StatefulSet(o) => serde_json::to_vec(o),
            WorkloadObject::DaemonSet(o) => serde_json::to_vec(o),
            WorkloadObject::CronJob(o) => serde_json::to_vec(o),
            WorkloadObject::Job(o) => serde_json::to_vec(o),
            WorkloadObject::ReplicaSet(o) => serde_json::to_vec(o),
            WorkloadObject::Pod(o) => serde_json::to_vec(o),
        }
        .expect("a decoded object encodes again");
        StoredWorkload {
            kind: object.kind(),
            json: deflate(&json).into_boxed_slice(),
            links: object.view().map(|w| Links::of(&w)).unwrap_or_default(),
        }
    }

    pub fn kind(&self) -> WorkloadKind {
        self.kind
    }

    /// The object, decoded again. It was encoded from a decoded object, so this fails only if
    /// the memory holding it was damaged; the error still names what could not be read.
    pub fn object(&self) -> Result<WorkloadObject, Error> {
        let kind = self.kind;
        let mut json = Vec::with_capacity(self.json.len() * 4);
        flate2::read::DeflateDecoder::new(&self.json[..])
            .read_to_end(&mut json)
            .map_err(|source| Error::Inflate { kind, source })?;
        let json = &json[..];
        let object = match self.kind {
            WorkloadKind::Deployment => {
                serde_json::from_slice(json).map(WorkloadObject::Deployment)
            }
            WorkloadKind::StatefulSet => {
                serde_json::from_slice(json).map(WorkloadObject::StatefulSet)
            }
            WorkloadKind::DaemonSet => serde_json::from_slice(json).map(WorkloadObject::DaemonSet),
            WorkloadKind::CronJob => serde_json::from_slice(json).map(WorkloadObject::CronJob),
            WorkloadKind::Job => serde_json::from_slice(json).map(WorkloadObject::Job),
            WorkloadKind::ReplicaSet => {
                serde_json::from_slice(json).map(WorkloadObject::ReplicaSet)
            }
            WorkloadKind::Pod => serde_json::from_slice(json).map(WorkloadObject::Pod),
        };
        object.map_err(|source| Error::Decode { kind, source })
    }

    /// Bytes held for the object itself, compressed.
    pub fn encoded_len(&self) -> usize {
        self.json.len()
    }
}

fn deflate(json: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(json.len() / 3),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(json)
        .and_then(|()| encoder.finish())
        .expect("deflating into memory cannot fail")
}

/// What a workload's pods carry and name, read when a related object changes: the labels
/// selectors match, the Helm release, and the objects it references by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    pub pod_labels: BTreeMap<String, String>,
    pub helm_release: Option<String>,
    pub service_account: String,
    /// Sorted and without repeats, as are the lists below.
    config_maps: Vec<String>,
    secrets: Vec<String>,
    claims: Vec<String>,
    /// A StatefulSet's volumeClaimTemplates, which create claims `<template>-<set>-<ordinal>`.
    claim_templates: Vec<String>,
    /// A StatefulSet's governing Service.
    service_name: Option<String>,
    name: String,
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort_unstable();
    names.dedup();
    names.shrink_to_fit();
    names
}

impl Links {
    pub fn of(workload: &Workload<'_>) -> Links {
        let spec = workload.pod_spec;
        let mut config_maps = Vec::new();
        let mut secrets = Vec::new();
        let mut claims = Vec::new();
        for c in workload.all_containers() {
            for source in c.env.iter().flatten().filter_map(|e| e.value_from.as_ref()) {
                config_maps.extend(source.config_map_key_ref.as_ref().map(|r| r.name.clone()));
                secrets.extend(source.secret_key_ref.as_ref().map(|r| r.name.clone()));
            }
            for e in c.env_from.iter().flatten() {
                config_maps.extend(e.config_map_ref.as_ref().map(|r| r.name.clone()));
                secrets.extend(e.secret_ref.as_ref().map(|r| r.name.clone()));
            }
        }
        for v in spec.volumes.iter().flatten() {
            config_maps.extend(v.config_map.as_ref().map(|m| m.name.clone()));
            secrets.extend(v.secret.as_ref().and_then(|s| s.secret_name.clone()));
            claims.extend(
                v.persistent_volume_claim
                    .as_ref()
                    .map(|c| c.claim_name.clone()),
            );
            for source in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
                config_maps.extend(source.config_map.as_ref().map(|m| m.name.clone()));
                secrets.extend(source.secret.as_ref().map(|s| s.name.clone()));
            }
        }
        secrets.extend(
            spec.image_pull_secrets
                .iter()
                .flatten()
                .map(|r| r.name.clone()),
        );
        let claim_templates = match workload.object {
            WorkloadObject::StatefulSet(sts) => sts
                .spec
                .iter()
                .flat_map(|s| s.volume_claim_templates.iter().flatten())
                .filter_map(|t| t.metadata.name.clone())
                .collect(),
            _ => Vec::new(),
        };
        let service_name = match workload.object {
            WorkloadObject::StatefulSet(sts) => {
                sts.spec.as_ref().and_then(|s| s.service_name.clone())
            }
            _ => None,
        };
        Links {
            pod_labels: workload.pod_labels().clone(),
            helm_release: workload.helm_release().map(str::to_string),
            service_account: workload.service_account().to_string(),
            config_maps: sorted(config_maps),
            secrets: sorted(secrets),
            claims: sorted(claims),
            claim_templates: sorted(claim_templates),
            service_name,
            name: workload.name.to_string(),
        }
    }

    /// Whether the workload references an object of its namespace by name.
    pub fn references(&self, reference: Reference, name: &str) -> bool {
        let listed = |names: &[String]| names.binary_search_by(|n| n.as_str().cmp(name)).is_ok();
        match reference {
            Reference::ServiceAccount => self.service_account == name,
            Reference::ConfigMap => listed(&self.config_maps),
            Reference::Secret => listed(&self.secrets),
            Reference::Claim => listed(&self.claims) || self.claim_from_template(name),
            Reference::Service => self.service_name.as_deref() == Some(name),
        }
    }

    fn claim_from_template(&self, claim: &str) -> bool {
        self.claim_templates.iter().any(|template| {
            claim
                .strip_prefix(template.as_str())
                .and_then(|r| r.strip_prefix('-'))
                .and_then(|r| r.strip_prefix(self.name.as_str()))
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|ordinal| {
                    !ordinal.is_empty() && ordinal.bytes().all(|b| b.is_ascii_digit())
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stored_workload_decodes_to_the_object_it_was_given() {
        let object = WorkloadObject::StatefulSet(
            serde_json::from_value(json!({
                "metadata": {"name": "pg", "namespace": "shop", "uid": "u-1",
                             "annotations": {"meta.helm.sh/release-name": "db"}},
                "spec": {"selector": {}, "serviceName": "pg",
                         "template": {"metadata": {"labels": {"app": "pg"}},
                                      "spec": {"containers": [{"name": "pg", "image": "postgres:17",
                                          "envFrom": [{"secretRef": {"name": "pg-auth"}}]}],
                                               "imagePullSecrets": [{"name": "registry"}],
                                               "volumes": [{"name": "c", "configMap": {"name": "pg-conf"}}]}},
                         "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}
            }))
            .unwrap(),
        );
        let stored = StoredWorkload::new(&object);
        assert_eq!(stored.object().unwrap(), object);
        let WorkloadObject::StatefulSet(sts) = &object else {
            unreachable!()
        };
        let json = serde_json::to_vec(sts).unwrap();
        assert!(
            stored.encoded_len() < json.len() * 3 / 4,
            "{} bytes stored for {} of JSON",
            stored.encoded_len(),
            json.len()
        );
        let links = &stored.links;
        assert_eq!(links.pod_labels["app"], "pg");
        assert_eq!(links.helm_release.as_deref(), Some("db"));
        assert!(links.references(Reference::ServiceAccount, "default"));
        assert!(links.references(Reference::Secret, "pg-auth"));
        // Its governing Service, which a change re-judges it for even when it selects nothing.
        assert!(links.references(Reference::Service, "pg"));
        assert!(!links.references(Reference::Service, "pg-read"));
        assert!(links.references(Reference::Secret, "registry"));
        assert!(!links.references(Reference::Secret, "pg-conf"));
        assert!(links.references(Reference::ConfigMap, "pg-conf"));
        assert!(links.references(Reference::Claim, "data-pg-0"));
        assert!(links.references(Reference::Claim, "data-pg-12"));
        assert!(!links.references(Reference::Claim, "data-pg-"));
        assert!(!links.references(Reference::Claim, "data-pgx-0"));
    }
}
