//! Everything that can go wrong serving admission reviews: binding, certificates (read, made,
//! rotated), and bodies that are not reviews.

use std::net::SocketAddr;
use std::path::PathBuf;

use kube::core::admission::ConvertAdmissionReviewError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("serving HTTPS on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("self-managed certificates need a cluster; give --tls-cert-file and --tls-key-file")]
    NoCluster,

    // Certificates.
    #[error("{what}: no PEM certificate found")]
    NoCertificate { what: String },
    /// A certificate or key that cannot be served, with what it is (`tls.crt`, a Secret...).
    #[error("{what}: {source}")]
    Unusable { what: String, source: Box<Error> },
    #[error("reading the {what}: {source}")]
    Pem {
        what: &'static str,
        source: rustls::pki_types::pem::Error,
    },
    #[error("parsing the certificate: {0}")]
    X509(#[from] x509_parser::nom::Err<x509_parser::error::X509Error>),
    #[error("unusable private key: {0}")]
    PrivateKey(rustls::Error),
    #[error("the private key does not belong to the certificate: {0}")]
    KeyMismatch(rustls::Error),
    #[error("TLS configuration: {0}")]
    TlsConfig(rustls::Error),
    #[error("{0}")]
    Generate(#[from] rcgen::Error),
    #[error("the CA key: {0}")]
    CaKey(rcgen::Error),
    #[error("the CA certificate: {0}")]
    CaCertificate(rcgen::Error),
    #[error("certificate name {name:?}: {source}")]
    Name { name: String, source: rcgen::Error },
    #[error("{0}")]
    Time(#[from] time::error::ComponentRange),

    // Rotation of self-managed certificates.
    #[error("certificate: {0}")]
    Certificate(Box<Error>),
    #[error("Secret {namespace}/{name}: {source}")]
    Secret {
        namespace: String,
        name: String,
        source: kube::Error,
    },
    #[error("ValidatingWebhookConfiguration {name}: {source}")]
    WebhookConfig { name: String, source: kube::Error },
    #[error(
        "certificate: the {what}Secret {namespace}/{name} keeps changing under us; retrying later"
    )]
    Contended {
        /// `CA ` for the CA's Secret, empty for the serving certificate's.
        what: &'static str,
        namespace: String,
        name: String,
    },

    // Requests.
    /// An admitted object that cannot be judged.
    #[error(transparent)]
    Unreadable(#[from] crate::input::Reason),
    #[error("cannot read the object: {0}")]
    Reencode(serde_json::Error),
    #[error("the body is not an admission.k8s.io/v1 AdmissionReview: {0}")]
    NotAReview(serde_json::Error),
    #[error("the AdmissionReview has no request: {0}")]
    NoRequest(ConvertAdmissionReviewError),
    #[error("cannot read the request body (at most {limit_mib} MiB): {source}")]
    Body {
        limit_mib: usize,
        source: axum::Error,
    },
}

impl Error {
    /// A certificate error met while rotating.
    pub fn certificate(e: Error) -> Error {
        Error::Certificate(Box::new(e))
    }
}
