//! Connection URLs in free text: where they are, and the parts checks read (scheme, user
//! information, host, query), without ever printing a password.

use super::names::eq_folded;
use super::placeholder::is_placeholder;

/// Every `scheme://...` token in a value.
pub fn urls_in(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '`'))
        .filter(|t| {
            t.find("://").is_some_and(|i| {
                i > 0
                    && t[..i]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '+')
            })
        })
}

/// The URLs a value holds: the tokens `urls_in` finds, and a JDBC URL without its `jdbc:`.
pub fn urls_of(value: &str) -> impl Iterator<Item = &str> {
    let jdbc = value
        .trim()
        .strip_prefix("jdbc:")
        .filter(|rest| rest.contains("://"));
    urls_in(value).chain(jdbc)
}

/// A connection URL split into the parts the checks read.
pub struct Url<'a> {
    pub scheme: &'a str,
    /// `user:password`, when present.
    userinfo: Option<&'a str>,
    /// Host and port, after any user information.
    host_port: &'a str,
    query: &'a str,
}

impl<'a> Url<'a> {
    pub fn parse(url: &'a str) -> Option<Url<'a>> {
        let (scheme, rest) = url.split_once("://")?;
        // Passwords are often written unencoded (with `/`, `?`, `#`): the user information
        // ends at the last `@`, unless what precedes it is plainly `host[:port]/path`.
        let (userinfo, after) = match rest.rfind('@') {
            Some(at) if !is_host_then_path(&rest[..at]) => (Some(&rest[..at]), &rest[at + 1..]),
            _ => (None, rest),
        };
        let query = match after.find(['?', '#']) {
            Some(i) if after.as_bytes()[i] == b'?' => {
                after[i + 1..].split('#').next().unwrap_or("")
            }
            _ => "",
        };
        let host_port = after.split(['/', '?', '#']).next().unwrap_or("");
        Some(Url {
            scheme,
            userinfo,
            host_port,
            query,
        })
    }

    pub fn password(&self) -> Option<&'a str> {
        self.userinfo?
            .split_once(':')
            .map(|(_, p)| p)
            .filter(|p| !p.is_empty())
    }

    /// A password written into the URL, not a `$(VAR)` or `${VAR}` reference.
    pub fn has_literal_password(&self) -> bool {
        self.password().is_some_and(|p| !is_placeholder(p))
    }

    pub fn host(&self) -> &'a str {
        let hp = self.host_port;
        if let Some(v6) = hp.strip_prefix('[') {
            return v6.split(']').next().unwrap_or("");
        }
        match hp.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => hp,
        }
    }

    /// `scheme://host:port`: what a message may print (never the user information).
    pub fn display(&self) -> String {
        format!("{}://{}", self.scheme, self.host_port)
    }

    /// A query parameter, keys folded (`ssl-mode`, `sslMode` and `ssl_mode` read alike).
    pub fn param(&self, wanted: &str) -> Option<&'a str> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            let mut key = k.bytes().filter(|b| !matches!(b, b'-' | b'_'));
            let mut want = wanted.bytes();
            loop {
                match (key.next(), want.next()) {
                    (None, None) => return Some(v),
                    (Some(a), Some(b)) if a.eq_ignore_ascii_case(&b) => {}
                    _ => return None,
                }
            }
        })
    }

    pub fn param_is(&self, key: &str, values: &[&str]) -> bool {
        self.param(key)
            .is_some_and(|v| values.iter().any(|w| eq_folded(v.as_bytes(), w.as_bytes())))
    }
}

/// `host/path?mail=a` or `host:8080/path`: an `@` in the path or query, not after
/// `user:password`.
fn is_host_then_path(before_at: &str) -> bool {
    let Some(i) = before_at.find(['/', '?', '#']) else {
        return false;
    };
    match before_at[..i].rsplit_once(':') {
        Some((_, port)) => !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
        None => true,
    }
}

/// Whether a value holds a URL with a literal password (`scheme://user:password@host`).
pub fn holds_url_password(value: &str) -> bool {
    urls_of(value).any(|u| Url::parse(u).is_some_and(|u| u.has_literal_password()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_unencoded_passwords_never_leak() {
        for (url, password, shown) in [
            (
                "postgres://u:p?ss@db.example.com/app",
                Some("p?ss"),
                "postgres://db.example.com",
            ),
            (
                "postgres://u:ab/c=@db:5432/app?sslmode=require",
                Some("ab/c="),
                "postgres://db:5432",
            ),
            (
                "redis://:s#cret@redis:6379/0",
                Some("s#cret"),
                "redis://redis:6379",
            ),
            (
                "https://api.example.com/x?mail=a@b.com",
                None,
                "https://api.example.com",
            ),
            ("http://npm:4873/@scope/pkg", None, "http://npm:4873"),
            ("amqp://guest@rabbitmq", None, "amqp://rabbitmq"),
        ] {
            let u = Url::parse(url).unwrap();
            assert_eq!(u.password(), password, "{url}");
            assert_eq!(u.display(), shown, "{url}");
        }
        let u = Url::parse("postgres://u:ab/c=@db:5432/app?ssl_mode=verify-full#x").unwrap();
        assert!(u.param_is("sslmode", &["verify-full"]));
    }

    #[test]
    fn urls_in_text() {
        let text = "a redis://r:6379, \"jdbc:x\" 'http://h/p' not-a-url ://nothing";
        assert_eq!(
            urls_in(text).collect::<Vec<_>>(),
            ["redis://r:6379", "http://h/p"]
        );
        assert_eq!(
            urls_of("jdbc:postgresql://db/app").collect::<Vec<_>>(),
            ["postgresql://db/app"]
        );
        assert!(holds_url_password("postgres://app:s3cret@db/app"));
        assert!(!holds_url_password("postgres://app:$(DB_PASSWORD)@db/app"));
    }
}
