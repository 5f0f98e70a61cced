//! Helm 3 release Secrets (`sh.helm.release.v1.<name>.v<revision>`, type `helm.sh/release.v1`):
//! the `release` key holds base64(gzip(JSON)) inside the Secret's own base64. Only the status,
//! chart metadata and the autoscaling values are kept.

use std::io::Read;

use base64::Engine as _;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;
use serde_json::Value;

use super::facts::HelmRevisionFacts;

/// The Secret type Helm 3 stores releases under.
pub const HELM_RELEASE_SECRET_TYPE: &str = "helm.sh/release.v1";

/// Decompressed releases larger than this are not read (a hostile or corrupt payload).
const MAX_RELEASE_BYTES: u64 = 64 << 20;

#[derive(Deserialize)]
struct StoredRelease {
    #[serde(default)]
    info: Option<Info>,
    #[serde(default)]
    chart: Option<Chart>,
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    version: Option<u32>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    last_deployed: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct Chart {
    #[serde(default)]
    metadata: Option<ChartMetadata>,
    #[serde(default)]
    values: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChartMetadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    app_version: Option<String>,
    #[serde(default)]
    deprecated: Option<bool>,
}

/// The field selector of the Secrets Helm stores releases in.
pub const RELEASE_SELECTOR: &str = "type=helm.sh/release.v1";

/// Whether a Secret stores a Helm release.
pub fn is_release_secret(secret: &Secret) -> bool {
    secret.type_.as_deref() == Some(HELM_RELEASE_SECRET_TYPE)
}

/// The release name of a release Secret, from its `name` label or its own name.
pub fn release_name(secret: &Secret) -> Option<String> {
    if let Some(n) = secret.metadata.labels.as_ref().and_then(|l| l.get("name")) {
        return Some(n.clone());
    }
    let name = secret.metadata.name.as_deref()?;
    let rest = name.strip_prefix("sh.helm.release.v1.")?;
    let (release, _) = rest.rsplit_once(".v")?;
    Some(release.to_string())
}

/// Decodes one revision. What cannot be decoded falls back to the Secret's labels, and the
/// reason is returned beside the facts.
pub fn decode_revision(secret: &Secret) -> (HelmRevisionFacts, Option<PayloadError>) {
    let labels = secret.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).cloned();
    let mut facts = HelmRevisionFacts {
        revision: label("version")
            .and_then(|v| v.parse().ok())
            .or_else(|| {
                secret
                    .metadata
                    .name
                    .as_deref()
                    .and_then(|n| n.rsplit_once(".v"))
                    .and_then(|(_, v)| v.parse().ok())
            })
            .unwrap_or(0),
        status: label("status").unwrap_or_else(|| "unknown".to_string()),
        secret: secret.metadata.name.clone().unwrap_or_default(),
        ..HelmRevisionFacts::default()
    };
    let payload = secret
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .map(|b| b.0.as_slice());
    let Some(payload) = payload else {
        return (facts, Some(PayloadError::Missing));
    };
    match decode_payload(payload) {
        Ok(release) => {
            apply_release(&mut facts, release);
            (facts, None)
        }
        Err(e) => (facts, Some(e)),
    }
}

/// Why a release Secret's payload cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the Secret has no `release` key")]
    Missing,
    #[error("release payload is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("release payload is not valid gzip: {0}")]
    Gzip(#[from] std::io::Error),
    #[error("release payload is not a Helm release: {0}")]
    Json(#[from] serde_json::Error),
}

fn decode_payload(payload: &[u8]) -> Result<StoredRelease, PayloadError> {
    let trimmed = payload.trim_ascii();
    let bytes = base64::engine::general_purpose::STANDARD.decode(trimmed)?;
    let json = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .take(MAX_RELEASE_BYTES)
            .read_to_end(&mut out)?;
        out
    } else {
        bytes
    };
    Ok(serde_json::from_slice(&json)?)
}

fn apply_release(facts: &mut HelmRevisionFacts, release: StoredRelease) {
    if let Some(v) = release.version {
        facts.revision = v;
    }
    if let Some(info) = release.info {
        if let Some(s) = info.status {
            facts.status = s;
        }
        facts.last_deployed = info.last_deployed.and_then(|t| t.parse::<Timestamp>().ok());
        facts.description = info.description;
    }
    let mut defaults = None;
    if let Some(chart) = release.chart {
        if let Some(m) = chart.metadata {
            facts.chart_name = m.name;
            facts.chart_version = m.version;
            facts.app_version = m.app_version;
            facts.deprecated = m.deprecated.unwrap_or(false);
        }
        defaults = chart.values;
    }
    facts.autoscaling_disabled = autoscaling_disabled(release.config.as_ref(), defaults.as_ref());
}

/// Paths `autoscaling.enabled` and `<component>.autoscaling.enabled` whose effective value
/// (user values over chart defaults) is `false`.
fn autoscaling_disabled(user: Option<&Value>, defaults: Option<&Value>) -> Vec<String> {
    let mut paths: Vec<Vec<String>> = vec![vec!["autoscaling".into(), "enabled".into()]];
    for values in [user, defaults].into_iter().flatten() {
        if let Value::Object(map) = values {
            for (k, v) in map {
                if v.get("autoscaling")
                    .and_then(|a| a.get("enabled"))
                    .is_some()
                {
                    let p = vec![k.clone(), "autoscaling".into(), "enabled".into()];
                    if !paths.contains(&p) {
                        paths.push(p);
                    }
                }
            }
        }
    }
    let lookup = |root: Option<&Value>, path: &[String]| -> Option<bool> {
        let mut cur = root?;
        for seg in path {
            cur = cur.get(seg)?;
        }
        cur.as_bool()
    };
    let mut out: Vec<String> = paths
        .into_iter()
        .filter(|p| lookup(user, p).or_else(|| lookup(defaults, p)) == Some(false))
        .map(|p| p.join("."))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::io::Write;

    pub(crate) fn release_secret(name: &str, revision: u32, release_json: &str) -> Secret {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(release_json.as_bytes()).unwrap();
        let inner = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let mut secret = Secret {
            type_: Some(HELM_RELEASE_SECRET_TYPE.into()),
            ..Secret::default()
        };
        secret.metadata.name = Some(format!("sh.helm.release.v1.{name}.v{revision}"));
        secret.metadata.labels = Some(
            [
                ("name", name),
                ("owner", "helm"),
                ("status", "deployed"),
                ("version", &revision.to_string()),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        );
        secret.data = Some(
            [("release".to_string(), ByteString(inner.into_bytes()))]
                .into_iter()
                .collect(),
        );
        secret
    }

    #[test]
    fn decodes_status_chart_and_values() {
        let secret = release_secret(
            "shop",
            3,
            r#"{"name":"shop","version":3,"info":{"status":"failed","last_deployed":"2026-01-02T03:04:05Z","description":"Upgrade failed"},
                "chart":{"metadata":{"name":"shop","version":"1.2.0","deprecated":true},"values":{"autoscaling":{"enabled":false},"api":{"autoscaling":{"enabled":true}}},"templates":[]},
                "config":{"api":{"autoscaling":{"enabled":false}}}}"#,
        );
        assert!(is_release_secret(&secret));
        assert_eq!(release_name(&secret).as_deref(), Some("shop"));
        let (facts, err) = decode_revision(&secret);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(facts.revision, 3);
        assert_eq!(facts.status, "failed");
        assert_eq!(facts.chart_name.as_deref(), Some("shop"));
        assert!(facts.deprecated);
        assert_eq!(
            facts.autoscaling_disabled,
            vec!["api.autoscaling.enabled", "autoscaling.enabled"]
        );
        assert!(facts.last_deployed.is_some());
    }

    #[test]
    fn undecodable_payload_falls_back_to_labels() {
        let mut secret = release_secret("shop", 2, "{}");
        secret.data = Some(
            [("release".to_string(), ByteString(b"not base64!".to_vec()))]
                .into_iter()
                .collect(),
        );
        let (facts, err) = decode_revision(&secret);
        assert_eq!(facts.status, "deployed");
        assert_eq!(facts.revision, 2);
        assert!(err.unwrap().to_string().contains("not base64"));
    }
}
