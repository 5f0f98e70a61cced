//! Self-managed webhook certificates, the pure part: issuing a CA and a serving certificate, and
//! deciding when each is renewed. The Secrets and the webhook configuration are kept by
//! `rotation`.
//!
//! Renewal happens at two thirds of a certificate's life. A new CA joins the trust bundle at
//! once, with the old CA kept there until it expires; the serving certificate moves to the new
//! CA only after the bundle has had time to reach the apiserver, so no handshake ever meets a
//! certificate the apiserver does not trust yet.

use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

use super::error::Error;
use super::tls::{PemPair, not_after_der};

/// How long certificates live, and how long a new CA is given to reach the apiserver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetimes {
    pub ca: Duration,
    pub serving: Duration,
    pub propagation: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            ca: Duration::from_secs(5 * 365 * 24 * 3600),
            serving: Duration::from_secs(365 * 24 * 3600),
            propagation: Duration::from_secs(60),
        }
    }
}

/// The CA: its certificate and key, when it was made, and every CA certificate still trusted.
#[derive(Clone, PartialEq, Eq)]
pub struct Ca {
    pub pair: PemPair,
    pub created: i64,
    /// The current CA first, then older ones that have not expired.
    pub bundle: String,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// A serving certificate and what it was issued for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Serving {
    pub pair: PemPair,
    /// Fingerprint of the CA that signed it.
    pub issuer: String,
    /// The names it is valid for, comma-separated.
    pub hosts: String,
}

/// Why a certificate is (re)issued, for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renewal {
    Missing,
    Expiring,
    HostsChanged,
    NewCa,
}

impl Renewal {
    pub fn as_str(self) -> &'static str {
        match self {
            Renewal::Missing => "no certificate yet",
            Renewal::Expiring => "two thirds of its life are over",
            Renewal::HostsChanged => "the names it must be valid for changed",
            Renewal::NewCa => "a newer CA is trusted by the apiserver now",
        }
    }
}

fn offset(unix: i64) -> Result<time::OffsetDateTime, Error> {
    Ok(time::OffsetDateTime::from_unix_timestamp(unix)?)
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

/// Whether a certificate from `issued` to `expires` has lived two thirds of its life at `now`.
fn expiring(issued: i64, expires: i64, now: i64) -> bool {
    let life = (expires - issued).max(1);
    now >= issued + life * 2 / 3
}

/// The SHA-256 of a PEM certificate's DER, hex: how a serving certificate names its CA.
pub fn fingerprint(cert_pem: &str) -> Result<String, Error> {
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|source| Error::Pem {
        what: "CA certificate",
        source,
    })?;
    Ok(Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The expiry of the first certificate of a PEM text, in Unix seconds.
fn expiry(cert_pem: &str) -> Result<i64, Error> {
    Ok(validity(cert_pem)?.1)
}

/// When the first certificate of a PEM text starts and stops being valid, in Unix seconds.
fn validity(cert_pem: &str) -> Result<(i64, i64), Error> {
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|source| Error::Pem {
        what: "certificate",
        source,
    })?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())?;
    let v = cert.validity();
    Ok((v.not_before.timestamp(), v.not_after.timestamp()))
}

/// A new CA, valid from a minute ago (clock skew) for `lifetimes.ca`.
pub fn new_ca(now: i64, lifetimes: &Lifetimes, keep: Option<&Ca>) -> Result<Ca, Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, format!("prodready webhook CA {now}"));
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = offset(now - 60)?;
    params.not_after = offset(now + secs(lifetimes.ca))?;
    let cert = params.self_signed(&key)?;
    let pem = cert.pem();
    // The old CA stays trusted until it expires: serving certificates it signed are still
    // in use until the switch.
    let mut bundle = pem.clone();
    if let Some(old) = keep {
        for c in CertificateDer::pem_slice_iter(old.bundle.as_bytes()).flatten() {
            if not_after_der(&c).is_ok_and(|t| t > now) {
                bundle.push_str(&pem_of(&c));
            }
        }
    }
    Ok(Ca {
        pair: PemPair {
            cert: pem,
            key: key.serialize_pem(),
        },
        created: now,
        bundle,
    })
}

fn pem_of(der: &CertificateDer<'_>) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// Whether the CA must be replaced at `now`.
pub fn ca_renewal(ca: &Ca, now: i64) -> Result<Option<Renewal>, Error> {
    let expires = expiry(&ca.pair.cert)?;
    Ok(expiring(ca.created, expires, now).then_some(Renewal::Expiring))
}

/// A serving certificate for `hosts` (DNS names or IP addresses), signed by `ca`.
pub fn issue_serving(
    ca: &Ca,
    hosts: &[String],
    now: i64,
    lifetimes: &Lifetimes,
) -> Result<Serving, Error> {
    let ca_key = KeyPair::from_pem(&ca.pair.key).map_err(Error::CaKey)?;
    let issuer = Issuer::from_ca_cert_pem(&ca.pair.cert, ca_key).map_err(Error::CaCertificate)?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        hosts.first().cloned().unwrap_or_default(),
    );
    params.distinguished_name = name;
    params.subject_alt_names = hosts
        .iter()
        .map(|h| match h.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => h
                .as_str()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|source| Error::Name {
                    name: h.clone(),
                    source,
                }),
        })
        .collect::<Result<_, _>>()?;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = offset(now - 60)?;
    // Never outlive the CA: a chain is only as valid as its shortest link.
    let ca_expires = expiry(&ca.pair.cert)?;
    params.not_after = offset((now + secs(lifetimes.serving)).min(ca_expires))?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Serving {
        pair: PemPair {
            cert: cert.pem(),
            key: key.serialize_pem(),
        },
        issuer: fingerprint(&ca.pair.cert)?,
        hosts: hosts.join(","),
    })
}

/// Whether the serving certificate must be replaced at `now`, and why.
pub fn serving_renewal(
    serving: Option<&Serving>,
    ca: &Ca,
    hosts: &[String],
    now: i64,
    lifetimes: &Lifetimes,
) -> Result<Option<Renewal>, Error> {
    let Some(serving) = serving else {
        return Ok(Some(Renewal::Missing));
    };
    let Ok((issued, expires)) = validity(&serving.pair.cert) else {
        return Ok(Some(Renewal::Missing));
    };
    if expiring(issued, expires, now) {
        return Ok(Some(Renewal::Expiring));
    }
    if serving.hosts != hosts.join(",") {
        return Ok(Some(Renewal::HostsChanged));
    }
    if serving.issuer != fingerprint(&ca.pair.cert)?
        && now >= ca.created + secs(lifetimes.propagation)
    {
        return Ok(Some(Renewal::NewCa));
    }
    Ok(None)
}

/// The CA that signs a new serving certificate: the current one once the apiserver has had
/// time to learn it; before that the previous one, still trusted, when there is one.
pub fn signing_ca<'a>(
    ca: &'a Ca,
    previous: Option<&'a Ca>,
    now: i64,
    lifetimes: &Lifetimes,
) -> &'a Ca {
    match previous {
        Some(p) if now < ca.created + secs(lifetimes.propagation) => p,
        _ => ca,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    fn hosts() -> Vec<String> {
        vec![
            "prodready-webhook.prodready.svc".to_string(),
            "127.0.0.1".to_string(),
        ]
    }

    fn short() -> Lifetimes {
        Lifetimes {
            ca: Duration::from_secs(300),
            serving: Duration::from_secs(90),
            propagation: Duration::from_secs(10),
        }
    }

    #[test]
    fn a_serving_certificate_is_signed_by_the_ca_for_its_names() {
        let ca = new_ca(NOW, &Lifetimes::default(), None).unwrap();
        let serving = issue_serving(&ca, &hosts(), NOW, &Lifetimes::default()).unwrap();
        let der = CertificateDer::from_pem_slice(serving.pair.cert.as_bytes()).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let ca_der = CertificateDer::from_pem_slice(ca.pair.cert.as_bytes()).unwrap();
        let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        assert_eq!(cert.issuer(), ca_cert.subject());
        cert.verify_signature(Some(ca_cert.public_key())).unwrap();
        let sans = cert.subject_alternative_name().unwrap().unwrap().value;
        let names: Vec<String> = sans.general_names.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            names,
            [
                "DNSName(prodready-webhook.prodready.svc)",
                "IPAddress(7f:00:00:01)"
            ]
        );
        assert_eq!(cert.validity().not_after.timestamp(), NOW + 365 * 24 * 3600);
        assert_eq!(serving.issuer, fingerprint(&ca.pair.cert).unwrap());
    }

    #[test]
    fn certificates_renew_at_two_thirds_of_their_life() {
        let l = short();
        let ca = new_ca(NOW, &l, None).unwrap();
        assert_eq!(ca_renewal(&ca, NOW + 199).unwrap(), None);
        assert_eq!(ca_renewal(&ca, NOW + 200).unwrap(), Some(Renewal::Expiring));
        let serving = issue_serving(&ca, &hosts(), NOW, &l).unwrap();
        let renewal = |at| serving_renewal(Some(&serving), &ca, &hosts(), at, &l).unwrap();
        // Valid from a minute before issue (clock skew) for 90 s: two thirds of 150 s.
        assert_eq!(renewal(NOW + 39), None);
        assert_eq!(renewal(NOW + 40), Some(Renewal::Expiring));
        let other = vec!["elsewhere.svc".to_string()];
        assert_eq!(
            serving_renewal(Some(&serving), &ca, &other, NOW, &l).unwrap(),
            Some(Renewal::HostsChanged)
        );
        assert_eq!(
            serving_renewal(None, &ca, &hosts(), NOW, &l).unwrap(),
            Some(Renewal::Missing)
        );
    }

    #[test]
    fn a_new_ca_keeps_the_old_one_trusted_and_signs_only_after_propagation() {
        let l = short();
        let old = new_ca(NOW, &l, None).unwrap();
        let serving = issue_serving(&old, &hosts(), NOW + 190, &l).unwrap();
        let new = new_ca(NOW + 200, &l, Some(&old)).unwrap();
        let trusted: Vec<_> = CertificateDer::pem_slice_iter(new.bundle.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(trusted.len(), 2, "the new CA and the old one");
        assert_eq!(
            trusted[1].as_ref(),
            CertificateDer::from_pem_slice(old.pair.cert.as_bytes())
                .unwrap()
                .as_ref()
        );
        // Until the bundle has reached the apiserver the serving certificate stays...
        assert_eq!(
            serving_renewal(Some(&serving), &new, &hosts(), NOW + 205, &l).unwrap(),
            None
        );
        assert_eq!(signing_ca(&new, Some(&old), NOW + 205, &l), &old);
        // ...then moves to the new CA.
        assert_eq!(
            serving_renewal(Some(&serving), &new, &hosts(), NOW + 210, &l).unwrap(),
            Some(Renewal::NewCa)
        );
        assert_eq!(signing_ca(&new, Some(&old), NOW + 210, &l), &new);
        // An expired CA leaves the bundle at the next rotation.
        let newer = new_ca(NOW + 400, &l, Some(&new)).unwrap();
        assert_eq!(
            CertificateDer::pem_slice_iter(newer.bundle.as_bytes()).count(),
            2,
            "the CA from NOW expired at NOW+300"
        );
    }

    #[test]
    fn a_serving_certificate_never_outlives_its_ca() {
        let l = short();
        let ca = new_ca(NOW, &l, None).unwrap();
        let long = Lifetimes {
            serving: Duration::from_secs(10_000),
            ..l
        };
        let serving = issue_serving(&ca, &hosts(), NOW + 250, &long).unwrap();
        assert_eq!(expiry(&serving.pair.cert).unwrap(), NOW + 300);
    }

    #[test]
    fn a_bad_name_is_a_clear_error() {
        let ca = new_ca(NOW, &short(), None).unwrap();
        let err = issue_serving(&ca, &["bad name é".to_string()], NOW, &short()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("certificate name \"bad name é\""),
            "{err}"
        );
    }
}
