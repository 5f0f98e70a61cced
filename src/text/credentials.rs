//! What is a credential, for env values and ConfigMap values alike: a value is one by its
//! content (a PEM private key, a token with a well-known prefix, a URL with a password), or by
//! its name when the value is a literal (not a reference, a placeholder, a switch or a path).
//!
//! Checks judge env values with these functions directly; the World judges ConfigMap values
//! with the same ones when it reduces them (content at once; names later, against the
//! policy's own patterns).

use super::names::{ends_with_folded, find_folded};
use super::placeholder::is_placeholder;
use super::url::holds_url_password;

/// Why a value is a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    PrivateKey,
    UrlPassword,
    /// A token recognised by its shape; the text names its kind (`an AWS access key ID`).
    Token(&'static str),
    /// A literal value under a name that looks like a credential.
    Named,
}

impl Credential {
    /// What the value is, for a message that names it without printing it: `holds a PEM
    /// private key`.
    pub fn describe(self) -> &'static str {
        match self {
            Credential::PrivateKey => "holds a PEM private key",
            Credential::UrlPassword => "holds a URL with an embedded password",
            Credential::Token(what) => what,
            Credential::Named => "is set to a literal value",
        }
    }
}

/// Whether `value` under `name` is a credential: by content first, then by name, with the
/// policy's name patterns.
pub fn judge(name: &str, value: &str, patterns: &[String]) -> Option<Credential> {
    in_content(value).or_else(|| {
        (name_looks_secret(name, patterns) && is_literal(value)).then_some(Credential::Named)
    })
}

// ---- by name -----------------------------------------------------------------------------------

/// Name suffixes that point at a credential (a file, a path, a Secret's name, a store) or
/// describe it (a lifetime, a length, a switch) rather than hold it.
const NOT_A_CREDENTIAL_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_DIR",
    "_NAME",
    "_REF",
    "_ARN",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HOST",
    "_PORT",
    "_REGION",
    "_TTL",
    "_EXPIRY",
    "_EXPIRES",
    "_EXPIRATION",
    "_TIMEOUT",
    "_LIFETIME",
    "_INTERVAL",
    "_SECONDS",
    "_MINUTES",
    "_HOURS",
    "_DAYS",
    "_MAX_AGE",
    "_LENGTH",
    "_SIZE",
    "_COUNT",
    "_LIMIT",
    "_ENABLED",
    "_DISABLED",
    "_REQUIRED",
    "_MODE",
    "_POLICY",
    "_TYPE",
    "_FORMAT",
    "_HEADER",
    "_ALGORITHM",
    "_KEY_ID",
    "_AUDIENCE",
    "_ISSUER",
    "_PROVIDER",
    "_VERSION",
];

/// Whether a name (env var, ConfigMap key, field of a file) looks like it holds a credential:
/// it contains one of `patterns` and does not end like a name that points at one. Compared
/// without allocating: it runs on every environment variable.
pub fn name_looks_secret(name: &str, patterns: &[String]) -> bool {
    patterns
        .iter()
        // An empty entry in the policy names nothing.
        .any(|p| !p.is_empty() && find_folded(name, p).next().is_some())
        && !NOT_A_CREDENTIAL_SUFFIXES
            .iter()
            .any(|s| ends_with_folded(name, s))
}

/// Values that switch something on or off: a name like `ALLOW_EMPTY_PASSWORD` or
/// `PASSWORD_AUTH` set to one of them is a setting, not a password.
const SWITCHES: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "0", "1", "enabled", "disabled",
];

/// Prefixes of values that name where a credential is kept rather than hold it: a file, an
/// AWS ARN, a Vault path, a `ref+` reference.
const REFERENCE_PREFIXES: &[&str] = &["/", "./", "../", "~/", "file:", "arn:", "vault:", "ref+"];

/// Whether a value under a credential-looking name is the credential itself: not a
/// placeholder, a switch, a path or reference, or a URL without a password.
pub fn is_literal(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    !(is_placeholder(v)
        || SWITCHES.iter().any(|s| v.eq_ignore_ascii_case(s))
        || REFERENCE_PREFIXES.iter().any(|p| v.starts_with(p))
        || (v.contains("://") && !holds_url_password(v)))
}

// ---- by content --------------------------------------------------------------------------------

/// The shape of a token a service issues: a fixed prefix and a body of at least (or, with
/// `exact`, exactly) `len` bytes of one alphabet.
struct Shape {
    prefix: &'static str,
    len: usize,
    exact: bool,
    body: fn(u8) -> bool,
    what: &'static str,
}

fn base32(b: u8) -> bool {
    b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn alpha(b: u8) -> bool {
    b.is_ascii_alphabetic()
}

fn hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn dotted(b: u8) -> bool {
    word(b) || b == b'.'
}

const fn shape(
    prefix: &'static str,
    len: usize,
    exact: bool,
    body: fn(u8) -> bool,
    what: &'static str,
) -> Shape {
    Shape {
        prefix,
        len,
        exact,
        body,
        what,
    }
}

const AWS: &str = "holds an AWS access key ID";
const GITHUB: &str = "holds a GitHub token";
const SLACK: &str = "holds a Slack token";

/// Tokens recognised by their prefix, from the services' own documentation of their formats.
const SHAPES: &[Shape] = &[
    shape("AKIA", 16, true, base32, AWS),
    shape("ASIA", 16, true, base32, AWS),
    shape("ghp_", 36, false, alnum, GITHUB),
    shape("gho_", 36, false, alnum, GITHUB),
    shape("ghu_", 36, false, alnum, GITHUB),
    shape("ghs_", 36, false, alnum, GITHUB),
    shape("ghr_", 36, false, alnum, GITHUB),
    shape("github_pat_", 40, false, word, GITHUB),
    shape("glpat-", 20, false, word, "holds a GitLab token"),
    shape("xoxb-", 10, false, word, SLACK),
    shape("xoxp-", 10, false, word, SLACK),
    shape("xoxa-", 10, false, word, SLACK),
    shape("xoxr-", 10, false, word, SLACK),
    shape("xoxs-", 10, false, word, SLACK),
    shape("xapp-", 10, false, word, SLACK),
    shape("sk_live_", 20, false, alnum, "holds a Stripe secret key"),
    shape(
        "rk_live_",
        20,
        false,
        alnum,
        "holds a Stripe restricted key",
    ),
    shape("AIza", 35, true, word, "holds a Google API key"),
    shape("sk-ant-", 20, false, word, "holds an Anthropic API key"),
    shape("sk-proj-", 20, false, word, "holds an OpenAI API key"),
    shape("npm_", 36, false, alnum, "holds an npm token"),
    shape(
        "pypi-AgEIcHlwaS5vcmc",
        20,
        false,
        word,
        "holds a PyPI token",
    ),
    shape("hf_", 34, false, alpha, "holds a Hugging Face token"),
    shape("dop_v1_", 64, true, hex, "holds a DigitalOcean token"),
    shape("SG.", 60, false, dotted, "holds a SendGrid API key"),
];

/// Connection-string fields whose value is an account key: (field, what).
const KEY_FIELDS: &[(&str, &str)] = &[
    ("AccountKey=", "holds an Azure storage account key"),
    ("SharedAccessKey=", "holds an Azure shared access key"),
];

/// Whether a value is a credential by its content alone, whatever it is called.
pub fn in_content(value: &str) -> Option<Credential> {
    if value.contains("PRIVATE KEY-----") || value.contains("PRIVATE KEY BLOCK-----") {
        return Some(Credential::PrivateKey);
    }
    if holds_url_password(value) {
        return Some(Credential::UrlPassword);
    }
    for (field, what) in KEY_FIELDS {
        let keyed = value.match_indices(field).any(|(i, _)| {
            let key = &value.as_bytes()[i + field.len()..];
            key.iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
                .count()
                >= 40
        });
        if keyed {
            return Some(Credential::Token(what));
        }
    }
    tokens(value).find_map(token_kind).map(Credential::Token)
}

/// The words of a value a token could be: runs of the bytes tokens are made of.
fn tokens(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        // The shortest recognised token is 20 bytes long.
        .filter(|t| t.len() >= 20)
}

fn token_kind(token: &str) -> Option<&'static str> {
    if is_jwt(token) {
        return Some("holds a JSON Web Token");
    }
    SHAPES.iter().find_map(|s| {
        let body = token.strip_prefix(s.prefix)?.as_bytes();
        let long_enough = if s.exact {
            body.len() == s.len
        } else {
            body.len() >= s.len
        };
        (long_enough && body.iter().all(|b| (s.body)(*b))).then_some(s.what)
    })
}

/// `header.payload.signature`, each base64url, header and payload JSON objects (`eyJ`).
fn is_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let base64url = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    header.starts_with("eyJ")
        && payload.starts_with("eyJ")
        && header.len() >= 10
        && payload.len() >= 10
        && signature.len() >= 16
        && [header, payload, signature].into_iter().all(base64url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns() -> Vec<String> {
        ["PASSWORD", "SECRET", "TOKEN", "API_KEY", "PRIVATE_KEY"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn names_that_hold_a_credential() {
        let p = patterns();
        for name in ["db-password", "STRIPE_API_KEY", "vault.token", "Secret"] {
            assert!(name_looks_secret(name, &p), "{name}");
        }
        for name in [
            "LOG_LEVEL",
            "JWT_SECRET_FILE",
            "PASSWORD_MIN_LENGTH",
            "TOKEN_TTL",
            "DB_PASSWORD_SECRET_NAME",
            "API_KEY_HEADER",
        ] {
            assert!(!name_looks_secret(name, &p), "{name}");
        }
        // An empty pattern in a policy matches nothing.
        assert!(!name_looks_secret("LOG_LEVEL", &[String::new()]));
    }

    #[test]
    fn a_switch_a_path_or_a_reference_under_a_credential_name_is_not_a_credential() {
        let p = patterns();
        for (name, value) in [
            ("ALLOW_EMPTY_PASSWORD", "no"),
            ("ALLOW_EMPTY_PASSWORD", "yes"),
            ("PASSWORD_AUTH", "true"),
            ("REDIS_PASSWORD", "0"),
            ("POSTGRES_PASSWORD", "/run/secrets/postgres"),
            ("GITHUB_TOKEN", "${GITHUB_TOKEN}"),
            ("DB_PASSWORD", "$(DB_PASSWORD)"),
            ("API_KEY", "<your-api-key>"),
            ("DB_SECRET", "arn:aws:secretsmanager:eu-west-1:1:secret:db"),
            ("TOKEN_SERVER", "https://auth.example.com/token"),
            ("CLIENT_SECRET", ""),
        ] {
            assert_eq!(judge(name, value, &p), None, "{name}={value}");
        }
        for (name, value) in [
            ("MYSQL_ROOT_PASSWORD", "fake_password"),
            ("REDIS_PASSWORD", "1234"),
            ("SECRET_KEY_BASE", "d3adb33f"),
        ] {
            assert_eq!(judge(name, value, &p), Some(Credential::Named), "{name}");
        }
    }

    #[test]
    fn a_credential_by_content_whatever_its_name() {
        let p = patterns();
        let cases = [
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n",
                Credential::PrivateKey,
            ),
            ("postgres://app:s3cret@db:5432/app", Credential::UrlPassword),
            (
                "AKIAIOSFODNN7EXAMPLE",
                Credential::Token("holds an AWS access key ID"),
            ),
            (
                "token ghp_0123456789abcdefghijABCDEFGHIJ012345",
                Credential::Token("holds a GitHub token"),
            ),
            (
                "xoxb-1234567890-abcdefghij",
                Credential::Token("holds a Slack token"),
            ),
            (
                "sk_live_0123456789abcdefABCDEF",
                Credential::Token("holds a Stripe secret key"),
            ),
            (
                "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=\
                 abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/==;",
                Credential::Token("holds an Azure storage account key"),
            ),
            (
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcGkifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
                Credential::Token("holds a JSON Web Token"),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(judge("OPTS", value, &p), Some(expected), "{value}");
        }
        for value in [
            "AKIA is how AWS key IDs start",
            "ghp_short",
            "eyJhbGciOi.not-a-token",
            "https://example.com/a/b",
            "the-quick-brown-fox-jumps-over",
        ] {
            assert_eq!(in_content(value), None, "{value}");
        }
    }
}
