//! Whether a Redis-compatible server (Redis, Valkey, KeyDB) keeps anything on disk, from its
//! configuration file and its command line. Run as a cache, with snapshots (`save ""`) and the
//! append-only file (`appendonly no`, the default) both off, it has no data to lose on restart.

/// What a configuration or command line says about persistence; `None` where it says nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Persistence {
    /// RDB snapshots: `save ""` turns them off, any other `save` turns them on.
    pub snapshots: Option<bool>,
    /// The append-only file: `appendonly yes|no`.
    pub append_only: Option<bool>,
}

impl Persistence {
    /// Whether anything was said at all.
    pub fn is_set(self) -> bool {
        self.snapshots.is_some() || self.append_only.is_some()
    }

    /// `later` overrides what this one says (the command line overrides the file).
    pub fn then(self, later: Persistence) -> Persistence {
        Persistence {
            snapshots: later.snapshots.or(self.snapshots),
            append_only: later.append_only.or(self.append_only),
        }
    }

    /// Whether the server writes its data to disk. Unsaid, Redis takes snapshots (its default
    /// save points) and keeps no append-only file.
    pub fn keeps_data(self) -> bool {
        self.snapshots.unwrap_or(true) || self.append_only.unwrap_or(false)
    }

    fn directive(&mut self, name: &str, value: &str) {
        let value = unquote(value);
        if name.eq_ignore_ascii_case("save") {
            self.snapshots = Some(!value.is_empty());
        } else if name.eq_ignore_ascii_case("appendonly") {
            self.append_only = Some(value.eq_ignore_ascii_case("yes"));
        }
    }
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches(|c| c == '"' || c == '\'')
}

/// What a `redis.conf`-style text says about persistence (`save ...`, `appendonly ...`, one
/// directive a line; the last one wins).
pub fn of_config(text: &str) -> Persistence {
    let mut p = Persistence::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        p.directive(name, value);
    }
    p
}

/// What a command line says about persistence (`--save ""`, `--appendonly no`), read from the
/// container's command and arguments, shell strings (`sh -c "redis-server --save ''"`)
/// included.
pub fn of_command_line<'a>(parts: impl Iterator<Item = &'a str>) -> Persistence {
    let mut p = Persistence::default();
    let mut words: Vec<&str> = Vec::new();
    for part in parts {
        if part.trim().contains(char::is_whitespace) {
            words.extend(part.split_whitespace());
        } else {
            words.push(part);
        }
    }
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        i += 1;
        let Some(flag) = word.strip_prefix("--") else {
            continue;
        };
        if let Some((name, value)) = flag.split_once('=') {
            p.directive(name, value);
        } else if flag.eq_ignore_ascii_case("save") || flag.eq_ignore_ascii_case("appendonly") {
            // `--save` takes the rest up to the next flag (`--save 900 1 300 10`), or nothing.
            let value = words.get(i).filter(|w| !w.starts_with("--")).copied();
            if value.is_some() {
                i += 1;
            }
            p.directive(flag, value.unwrap_or(""));
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &[&str]) -> Persistence {
        of_command_line(args.iter().copied())
    }

    #[test]
    fn a_cache_keeps_nothing() {
        assert!(!line(&["redis-server", "--save", "", "--appendonly", "no"]).keeps_data());
        assert!(!line(&["sh", "-c", "exec redis-server --save '' --appendonly no"]).keeps_data());
        assert!(!line(&["--save=\"\""]).keeps_data());
        assert!(!of_config("maxmemory 100mb\nsave \"\"\nappendonly no\n").keeps_data());
        assert!(!of_config("save ''\n").keeps_data());
    }

    #[test]
    fn a_store_keeps_its_data() {
        assert!(line(&["redis-server"]).keeps_data());
        assert!(!line(&["redis-server"]).is_set());
        assert!(line(&["redis-server", "--save", "900", "1"]).keeps_data());
        assert!(line(&["--save", "", "--appendonly", "yes"]).keeps_data());
        assert!(of_config("appendonly yes\nsave \"\"\n").keeps_data());
        assert!(of_config("# save \"\"\nport 6379\n").keeps_data());
        // The command line overrides the file.
        let file = of_config("save \"\"\nappendonly no\n");
        assert!(file.then(line(&["--appendonly", "yes"])).keeps_data());
        assert!(!file.then(line(&["redis-server"])).keeps_data());
    }
}
