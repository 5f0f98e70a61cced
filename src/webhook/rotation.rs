//! Self-managed certificates, the cluster part: the CA and the serving certificate live in two
//! Secrets in prodready's namespace (shared by every replica), the CA bundle is patched into the
//! ValidatingWebhookConfiguration, and both are renewed on schedule. Replicas race safely: a
//! Secret is created only when absent and replaced only at the version that was read, and the
//! loser of a race reads the winner's certificate.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};

use super::certs::{self, Ca, Lifetimes, Serving};
use super::error::Error;
use super::metrics::WebhookMetrics;
use super::tls::{CertStore, PemPair, not_after_pem};

/// When each CA in the Secret was made (`ca.*` and `previous.*`), in Unix seconds.
fn created_key(prefix: &str) -> String {
    format!("prodready.dev/{prefix}-created-at")
}
const ISSUER: &str = "prodready.dev/issuer";
const HOSTS: &str = "prodready.dev/hosts";

/// Where the certificates are kept and what they are for.
#[derive(Clone, Debug)]
pub struct SelfManaged {
    pub namespace: String,
    pub ca_secret: String,
    pub cert_secret: String,
    /// The names the serving certificate is valid for.
    pub hosts: Vec<String>,
    /// The ValidatingWebhookConfiguration whose caBundle is kept current.
    pub webhook_config: Option<String>,
    pub lifetimes: Lifetimes,
    /// How often the certificates are looked at.
    pub check_every: Duration,
}

impl SelfManaged {
    /// The DNS names a Service `service` in `namespace` is reached by, then `extra`.
    pub fn service_hosts(service: &str, namespace: &str, extra: &[String]) -> Vec<String> {
        let mut hosts = vec![
            service.to_string(),
            format!("{service}.{namespace}"),
            format!("{service}.{namespace}.svc"),
            format!("{service}.{namespace}.svc.cluster.local"),
        ];
        hosts.extend(extra.iter().cloned());
        hosts
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn text(secret: &Secret, key: &str) -> Option<String> {
    let bytes = secret.data.as_ref()?.get(key)?;
    String::from_utf8(bytes.0.clone()).ok()
}

fn annotation(secret: &Secret, key: &str) -> Option<String> {
    secret.annotations().get(key).cloned()
}

fn ca_of(secret: &Secret, prefix: &str) -> Option<Ca> {
    Some(Ca {
        pair: PemPair {
            cert: text(secret, &format!("{prefix}.crt"))?,
            key: text(secret, &format!("{prefix}.key"))?,
        },
        created: annotation(secret, &created_key(prefix))?.parse().ok()?,
        bundle: text(secret, "bundle.crt").unwrap_or_default(),
    })
}

fn serving_of(secret: &Secret) -> Option<Serving> {
    Some(Serving {
        pair: PemPair {
            cert: text(secret, "tls.crt")?,
            key: text(secret, "tls.key")?,
        },
        issuer: annotation(secret, ISSUER)?,
        hosts: annotation(secret, HOSTS)?,
    })
}

fn data(entries: &[(&str, &str)]) -> BTreeMap<String, ByteString> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
        .collect()
}

/// The CA Secret: the current CA (`ca.*`), the one before it while its certificates may still
/// be served (`previous.*`), and the bundle the apiserver trusts.
fn ca_secret(
    cfg: &SelfManaged,
    ca: &Ca,
    previous: Option<&Ca>,
    resource_version: Option<String>,
) -> Secret {
    let mut annotations = BTreeMap::from([(created_key("ca"), ca.created.to_string())]);
    let mut entries = vec![
        ("ca.crt", ca.pair.cert.as_str()),
        ("ca.key", ca.pair.key.as_str()),
        ("bundle.crt", ca.bundle.as_str()),
    ];
    if let Some(p) = previous {
        annotations.insert(created_key("previous"), p.created.to_string());
        entries.push(("previous.crt", p.pair.cert.as_str()));
        entries.push(("previous.key", p.pair.key.as_str()));
    }
    Secret {
        metadata: ObjectMeta {
            name: Some(cfg.ca_secret.clone()),
            namespace: Some(cfg.namespace.clone()),
            annotations: Some(annotations),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_string(),
                "prodready".to_string(),
            )])),
            resource_version,
            ..ObjectMeta::default()
        },
        data: Some(data(&entries)),
        type_: Some("Opaque".into()),
        ..Secret::default()
    }
}

fn serving_secret(
    cfg: &SelfManaged,
    serving: &Serving,
    bundle: &str,
    resource_version: Option<String>,
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(cfg.cert_secret.clone()),
            namespace: Some(cfg.namespace.clone()),
            annotations: Some(BTreeMap::from([
                (ISSUER.to_string(), serving.issuer.clone()),
                (HOSTS.to_string(), serving.hosts.clone()),
            ])),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_string(),
                "prodready".to_string(),
            )])),
            resource_version,
            ..ObjectMeta::default()
        },
        data: Some(data(&[
            ("tls.crt", serving.pair.cert.as_str()),
            ("tls.key", serving.pair.key.as_str()),
            ("ca.crt", bundle),
        ])),
        type_: Some("kubernetes.io/tls".into()),
        ..Secret::default()
    }
}

fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// Writes `secret`: created when `resource_version` is absent, else replaced at that version.
/// `Ok(false)` when another replica got there first.
async fn write(api: &Api<Secret>, cfg: &SelfManaged, secret: Secret) -> Result<bool, Error> {
    let name = secret.name_any();
    let result = if secret.metadata.resource_version.is_some() {
        api.replace(&name, &PostParams::default(), &secret).await
    } else {
        api.create(&PostParams::default(), &secret).await
    };
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_conflict(&e) => Ok(false),
        Err(source) => Err(Error::Secret {
            namespace: cfg.namespace.clone(),
            name,
            source,
        }),
    }
}

/// The CA to use now, creating or renewing it when needed.
async fn current_ca(api: &Api<Secret>, cfg: &SelfManaged) -> Result<(Ca, Option<Ca>), Error> {
    let secret_error = |source| Error::Secret {
        namespace: cfg.namespace.clone(),
        name: cfg.ca_secret.clone(),
        source,
    };
    // Two tries: a lost race is followed by reading what the winner wrote.
    for _ in 0..2 {
        let existing = api.get_opt(&cfg.ca_secret).await.map_err(secret_error)?;
        let now = now();
        let found = existing
            .as_ref()
            .and_then(|s| ca_of(s, "ca").map(|ca| (ca, ca_of(s, "previous"))));
        let rv = existing.as_ref().and_then(|s| s.resource_version());
        match found {
            Some((ca, previous)) => {
                if certs::ca_renewal(&ca, now)
                    .map_err(Error::certificate)?
                    .is_none()
                {
                    return Ok((ca, previous));
                }
                let renewed =
                    certs::new_ca(now, &cfg.lifetimes, Some(&ca)).map_err(Error::certificate)?;
                tracing::info!(secret = %cfg.ca_secret, "renewing the webhook CA; the old one stays trusted until it expires");
                if write(api, cfg, ca_secret(cfg, &renewed, Some(&ca), rv)).await? {
                    return Ok((renewed, Some(ca)));
                }
            }
            None => {
                let ca = certs::new_ca(now, &cfg.lifetimes, None).map_err(Error::certificate)?;
                if existing.is_some() {
                    tracing::warn!(secret = %cfg.ca_secret, "the CA Secret is unreadable; replacing it");
                } else {
                    tracing::info!(secret = %cfg.ca_secret, "creating the webhook CA");
                }
                if write(api, cfg, ca_secret(cfg, &ca, None, rv)).await? {
                    return Ok((ca, None));
                }
            }
        }
    }
    Err(Error::Contended {
        what: "CA ",
        namespace: cfg.namespace.clone(),
        name: cfg.ca_secret.clone(),
    })
}

/// Puts `bundle` in every webhook of the configuration, when it is not there already.
async fn publish_bundle(client: &Client, name: &str, bundle: &str) -> Result<(), Error> {
    let api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let error = |source| Error::WebhookConfig {
        name: name.to_string(),
        source,
    };
    let Some(config) = api.get_opt(name).await.map_err(error)? else {
        tracing::warn!(
            name,
            "the ValidatingWebhookConfiguration does not exist (yet); its CA bundle will be set when it does"
        );
        return Ok(());
    };
    let webhooks = config.webhooks.unwrap_or_default();
    let stale: Vec<&str> = webhooks
        .iter()
        .filter(|w| {
            w.client_config.ca_bundle.as_ref().map(|b| b.0.as_slice()) != Some(bundle.as_bytes())
        })
        .map(|w| w.name.as_str())
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bundle);
    let patch = serde_json::json!({
        "webhooks": stale.iter().map(|n| serde_json::json!({
            "name": n, "clientConfig": {"caBundle": encoded}
        })).collect::<Vec<_>>()
    });
    api.patch(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .map_err(error)?;
    tracing::info!(
        name,
        webhooks = stale.len(),
        "CA bundle published to the webhook configuration"
    );
    Ok(())
}

/// The serving certificate to use now, issuing it when needed.
async fn current_serving(
    api: &Api<Secret>,
    cfg: &SelfManaged,
    ca: &Ca,
    previous: Option<&Ca>,
) -> Result<Serving, Error> {
    for _ in 0..2 {
        let existing = api
            .get_opt(&cfg.cert_secret)
            .await
            .map_err(|source| Error::Secret {
                namespace: cfg.namespace.clone(),
                name: cfg.cert_secret.clone(),
                source,
            })?;
        let now = now();
        let serving = existing.as_ref().and_then(serving_of);
        let Some(reason) =
            certs::serving_renewal(serving.as_ref(), ca, &cfg.hosts, now, &cfg.lifetimes)
                .map_err(Error::certificate)?
        else {
            return Ok(serving.expect("no renewal means a certificate exists"));
        };
        let signer = certs::signing_ca(ca, previous, now, &cfg.lifetimes);
        let issued = certs::issue_serving(signer, &cfg.hosts, now, &cfg.lifetimes)
            .map_err(Error::certificate)?;
        tracing::info!(secret = %cfg.cert_secret, reason = reason.as_str(), "issuing a webhook serving certificate");
        let rv = existing.as_ref().and_then(|s| s.resource_version());
        if write(api, cfg, serving_secret(cfg, &issued, &ca.bundle, rv)).await? {
            return Ok(issued);
        }
    }
    Err(Error::Contended {
        what: "",
        namespace: cfg.namespace.clone(),
        name: cfg.cert_secret.clone(),
    })
}

/// One round: the CA, the bundle in the webhook configuration, the serving certificate.
pub async fn ensure(client: &Client, cfg: &SelfManaged) -> Result<(Ca, Serving), Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), &cfg.namespace);
    let (ca, previous) = current_ca(&api, cfg).await?;
    if let Some(name) = &cfg.webhook_config {
        publish_bundle(client, name, &ca.bundle).await?;
    }
    let serving = current_serving(&api, cfg, &ca, previous.as_ref()).await?;
    Ok((ca, serving))
}

/// Records what is served now in the store and the metrics.
pub fn install(
    store: &CertStore,
    metrics: &WebhookMetrics,
    ca: &Ca,
    serving: &Serving,
) -> Result<(), Error> {
    store
        .replace(&serving.pair, "the serving certificate Secret")
        .map_err(Error::certificate)?;
    metrics.certificate_expires("serving", store.not_after());
    if let Ok(expiries) = not_after_pem(&ca.pair.cert)
        && let Some(first) = expiries.first()
    {
        metrics.certificate_expires("ca", *first);
    }
    Ok(())
}

/// Keeps the certificates current until the task is aborted; serves each new one from the
/// next handshake on.
pub async fn run(
    client: Client,
    cfg: SelfManaged,
    store: Arc<CertStore>,
    metrics: WebhookMetrics,
    mut served: Serving,
) {
    loop {
        // A new CA is followed closely, to move the serving certificate to it soon.
        tokio::time::sleep(cfg.check_every.min(cfg.lifetimes.propagation)).await;
        match ensure(&client, &cfg).await {
            Ok((ca, serving)) => {
                if serving != served {
                    match install(&store, &metrics, &ca, &serving) {
                        Ok(()) => {
                            tracing::info!("serving the renewed webhook certificate");
                            served = serving;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "the renewed certificate cannot be served")
                        }
                    }
                } else if let Ok(expiries) = not_after_pem(&ca.pair.cert)
                    && let Some(first) = expiries.first()
                {
                    metrics.certificate_expires("ca", *first);
                }
            }
            Err(e) => tracing::warn!(error = %e, "webhook certificate check failed; retrying"),
        }
    }
}
