//! The serving certificate, swappable while connections are served: every TLS handshake asks
//! the store for the current certificate, so a renewed one is used by the next connection and
//! no restart is needed.

use std::sync::{Arc, RwLock};

use rustls::crypto::ring as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::error::Error;

/// A certificate chain and its private key, PEM-encoded, as Secrets and files hold them.
#[derive(Clone, PartialEq, Eq)]
pub struct PemPair {
    pub cert: String,
    pub key: String,
}

impl std::fmt::Debug for PemPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a private key.
        f.debug_struct("PemPair").finish_non_exhaustive()
    }
}

/// The certificate the server presents now, and when it expires.
#[derive(Debug)]
pub struct CertStore {
    current: RwLock<Arc<CertifiedKey>>,
    not_after: RwLock<i64>,
}

impl CertStore {
    /// `what` names where the certificate came from, for errors.
    pub fn new(pair: &PemPair, what: &str) -> Result<Arc<CertStore>, Error> {
        let (key, not_after) = certified_key(pair, what)?;
        Ok(Arc::new(CertStore {
            current: RwLock::new(Arc::new(key)),
            not_after: RwLock::new(not_after),
        }))
    }

    /// Serves `pair` from the next handshake on; on error the current certificate stays.
    pub fn replace(&self, pair: &PemPair, what: &str) -> Result<(), Error> {
        let (key, not_after) = certified_key(pair, what)?;
        *crate::live::write(&self.current) = Arc::new(key);
        *crate::live::write(&self.not_after) = not_after;
        Ok(())
    }

    /// When the served certificate expires, in Unix seconds.
    pub fn not_after(&self) -> i64 {
        *crate::live::read(&self.not_after)
    }

    /// A server configuration that takes its certificate from this store.
    pub fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, Error> {
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(provider::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(Error::TlsConfig)?
                .with_no_client_auth()
                .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(crate::live::read(&self.current).clone())
    }
}

fn certified_key(pair: &PemPair, what: &str) -> Result<(CertifiedKey, i64), Error> {
    let unusable = |source: Error| Error::Unusable {
        what: what.to_string(),
        source: Box::new(source),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pair.cert.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|source| {
            unusable(Error::Pem {
                what: "certificate PEM",
                source,
            })
        })?;
    let Some(leaf) = chain.first() else {
        return Err(Error::NoCertificate {
            what: what.to_string(),
        });
    };
    let not_after = not_after_der(leaf).map_err(unusable)?;
    let key = PrivateKeyDer::from_pem_slice(pair.key.as_bytes()).map_err(|source| {
        unusable(Error::Pem {
            what: "private key PEM",
            source,
        })
    })?;
    let signing =
        provider::sign::any_supported_type(&key).map_err(|e| unusable(Error::PrivateKey(e)))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|e| unusable(Error::KeyMismatch(e)))?;
    Ok((certified, not_after))
}

/// The expiry of a DER certificate, in Unix seconds.
pub fn not_after_der(der: &[u8]) -> Result<i64, Error> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)?;
    Ok(cert.validity().not_after.timestamp())
}

/// The expiry of every certificate in a PEM bundle, in order.
pub fn not_after_pem(pem: &str) -> Result<Vec<i64>, Error> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|c| {
            c.map_err(|source| Error::Pem {
                what: "PEM",
                source,
            })
            .and_then(|c| not_after_der(&c))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(name: &str) -> PemPair {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        PemPair {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    }

    #[test]
    fn a_replaced_certificate_is_served_to_the_next_handshake() {
        let first = self_signed("one.example");
        let store = CertStore::new(&first, "test").unwrap();
        let before = store.current.read().unwrap().cert[0].clone();
        store.replace(&self_signed("two.example"), "test").unwrap();
        let after = store.current.read().unwrap().cert[0].clone();
        assert_ne!(before, after);
        assert!(store.not_after() > jiff::Timestamp::now().as_second());
    }

    #[test]
    fn mismatched_or_broken_pem_is_refused_and_the_old_certificate_stays() {
        let good = self_signed("one.example");
        let store = CertStore::new(&good, "mounted").unwrap();
        let other = self_signed("two.example");
        let mismatched = PemPair {
            cert: good.cert.clone(),
            key: other.key,
        };
        let err = store.replace(&mismatched, "tls.crt").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("tls.crt: the private key does not belong"),
            "{err}"
        );
        let empty = PemPair {
            cert: "not a certificate".into(),
            key: good.key.clone(),
        };
        assert_eq!(
            store.replace(&empty, "tls.crt").unwrap_err().to_string(),
            "tls.crt: no PEM certificate found"
        );
        assert_eq!(store.current.read().unwrap().cert[0].as_ref(), {
            let c: Vec<CertificateDer> = CertificateDer::pem_slice_iter(good.cert.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
            c[0].as_ref().to_vec()
        });
    }
}
