//! Reading `config.toml`: the TOML as written (every value with its position), checked key by
//! key into a [`Config`], with every problem collected as a [`ConfigError`] naming `file:line:col`,
//! the key and the fix.
//!
//! This file walks the file and holds the checks every table shares; `load/session.rs` checks
//! one `[[session]]`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::*;
use session::RawSession;

mod session;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    refresh_before: Option<Spanned<String>>,
    jitter: Option<Spanned<String>>,
    sts_timeout: Option<Spanned<String>>,
    backoff_min: Option<Spanned<String>>,
    backoff_max: Option<Spanned<String>>,
    log_format: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    socket: Option<Spanned<String>>,
    federation_endpoint: Option<Spanned<String>>,
    mfa_session_duration: Option<Spanned<String>>,
    notify: Option<RawNotify>,
    #[serde(default)]
    session: Vec<Spanned<RawSession>>,
    #[serde(default)]
    watch: Vec<Spanned<RawWatch>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatch {
    name: Option<Spanned<String>>,
    env_file: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    enabled: Option<bool>,
    warn_before: Option<Spanned<String>>,
    recovered: Option<bool>,
    command: Option<Spanned<String>>,
}

struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn loc<T>(&self, s: &Spanned<T>) -> Loc {
        Loc::of(self.text, s.span().start)
    }

    fn error(&mut self, loc: Loc, key: &str, message: String, fix: Option<String>) {
        self.errors.push(ConfigError {
            path: self.path.to_path_buf(),
            loc,
            key: Some(key.to_string()),
            message,
            fix,
        });
    }

    fn duration(&mut self, key: &str, value: &Option<Spanned<String>>, default: Duration) -> Duration {
        let Some(v) = value else { return default };
        match humantime::parse_duration(v.get_ref().trim()) {
            Ok(d) => d,
            Err(e) => {
                let loc = self.loc(v);
                self.error(
                    loc,
                    key,
                    format!("`{}` is not a duration ({e})", v.get_ref()),
                    Some("write it like \"15m\", \"1h\" or \"90s\"".into()),
                );
                default
            }
        }
    }

    fn one_of<T: Copy>(&mut self, key: &str, v: &Spanned<String>, allowed: &[(&str, T)]) -> Option<T> {
        if let Some((_, t)) = allowed.iter().find(|(name, _)| *name == v.get_ref()) {
            return Some(*t);
        }
        let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
        let fix = match did_you_mean(v.get_ref(), names.iter().copied()) {
            Some(m) => format!("did you mean \"{m}\"?"),
            None => format!("use one of: {}", names.join(", ")),
        };
        let loc = self.loc(v);
        self.error(loc, key, format!("\"{}\" is not allowed", v.get_ref()), Some(fix));
        None
    }

    fn pattern(&mut self, key: &str, v: &Spanned<String>, ok: bool, what: &str) {
        if !ok {
            let loc = self.loc(v);
            self.error(loc, key, format!("\"{}\" is not {what}", v.get_ref()), None);
        }
    }
}

/// `~/x` → `$HOME/x`, so config files can name env files the way people write paths.
fn expand(p: &str) -> PathBuf {
    crate::paths::expand_home(p, &crate::paths::ProcessEnv)
}

impl Checker<'_> {
    /// An `env_file` as a path credd can find from anywhere: `~/` and `$HOME/` are the home
    /// directory; any other `$VAR`, or a relative path, is refused. Either would resolve against
    /// whatever environment and directory the daemon was started with (a systemd unit has
    /// neither the shell's variables nor its directory), so credentials would land somewhere
    /// the user is not looking, and `credd export` would look somewhere else again.
    fn env_path(&mut self, v: &Spanned<String>) -> Option<PathBuf> {
        let raw = v.get_ref();
        let home_var = ["$HOME/", "${HOME}/"].iter().find_map(|pre| raw.strip_prefix(pre));
        let raw = home_var.map(|rest| format!("~/{rest}")).unwrap_or_else(|| raw.clone());
        let fix = "write the path out in full, or start it with ~/".to_string();
        if raw.contains('$') {
            let message = format!(
                "\"{}\": credd does not expand environment variables (a service has other ones than your shell)",
                v.get_ref()
            );
            self.error(self.loc(v), "env_file", message, Some(fix));
            return None;
        }
        let path = expand(&raw);
        if path.is_relative() {
            let message = format!(
                "\"{}\" is relative: it would depend on the directory credd was started in",
                v.get_ref()
            );
            self.error(self.loc(v), "env_file", message, Some(fix));
            return None;
        }
        Some(path)
    }
}

/// "15m", "36h": how people write these limits.
fn short(d: Duration) -> String {
    match d.as_secs() {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

impl Config {
    /// Reads and checks the config at `path`. A missing file is zero-config, not an error, unless
    /// `must_exist` (the user named the file explicitly).
    pub fn load(path: &Path, must_exist: bool) -> Result<Config, Vec<ConfigError>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => Ok(Config::default()),
            Err(e) => Err(vec![ConfigError {
                path: path.to_path_buf(),
                loc: Loc { line: 0, col: 0 },
                key: None,
                message: format!("cannot read it: {e}"),
                fix: None,
            }]),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, Vec<ConfigError>> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| vec![syntax_error(&e, text, path)])?;
        let mut c = Checker { path, text, errors: Vec::new() };
        let mut config = c.top_level(&raw);
        if let Some(n) = &raw.notify {
            config.notify = c.notify(n);
        }
        let mut names: Vec<(String, Loc)> = Vec::new();
        config.sessions = raw.session.iter().filter_map(|s| c.session(s, &mut names)).collect();
        config.watches = raw.watch.iter().filter_map(|w| c.watch(w.get_ref())).collect();
        if c.errors.is_empty() { Ok(config) } else { Err(c.errors) }
    }
}

/// The checks of each part of the file, in the order their errors are reported.
impl Checker<'_> {
    /// The top-level keys, with no sessions, watches or `[notify]` yet.
    fn top_level(&mut self, raw: &RawConfig) -> Config {
        let d = Config::default();
        let config = Config {
            path: Some(self.path.to_path_buf()),
            refresh_before: self.duration("refresh_before", &raw.refresh_before, d.refresh_before),
            jitter: self.duration("jitter", &raw.jitter, d.jitter),
            sts_timeout: self.duration("sts_timeout", &raw.sts_timeout, d.sts_timeout),
            backoff_min: self.duration("backoff_min", &raw.backoff_min, d.backoff_min),
            backoff_max: self.duration("backoff_max", &raw.backoff_max, d.backoff_max),
            log_format: raw
                .log_format
                .as_ref()
                .and_then(|v| {
                    self.one_of("log_format", v, &[("text", LogFormat::Text), ("json", LogFormat::Json)])
                })
                .unwrap_or(d.log_format),
            region: raw.region.as_ref().map(|r| {
                self.pattern("region", r, is_region(r.get_ref()), "a region name like \"eu-west-1\"");
                r.get_ref().clone()
            }),
            socket: raw.socket.as_ref().map(|s| PathBuf::from(s.get_ref())),
            federation_endpoint: raw.federation_endpoint.as_ref().map(|u| {
                let ok = ["https://", "http://"].iter().any(|p| u.get_ref().starts_with(p));
                self.pattern(
                    "federation_endpoint",
                    u,
                    ok,
                    "a URL like \"https://signin.aws.amazon.com/federation\"",
                );
                u.get_ref().clone()
            }),
            mfa_session_duration: self.duration(
                "mfa_session_duration",
                &raw.mfa_session_duration,
                d.mfa_session_duration,
            ),
            notify: NotifyConfig::default(),
            sessions: Vec::new(),
            watches: Vec::new(),
        };
        if config.sts_timeout.is_zero() {
            let loc = raw.sts_timeout.as_ref().map(|v| self.loc(v)).unwrap_or_default();
            self.error(loc, "sts_timeout", "must be more than zero".into(), None);
        }
        // GetSessionToken's range for an IAM user (`rules.rs`).
        let (lo, hi) = Method::SessionToken.duration_range();
        if let Some(v) = raw.mfa_session_duration.as_ref()
            && !(lo..=hi).contains(&config.mfa_session_duration)
        {
            let message = format!("an MFA session (GetSessionToken) lasts {} to {}", short(lo), short(hi));
            self.error(self.loc(v), "mfa_session_duration", message, None);
        }
        if config.backoff_min > config.backoff_max || config.backoff_min.is_zero() {
            let loc = raw.backoff_min.as_ref().map(|v| self.loc(v)).unwrap_or_default();
            self.error(loc, "backoff_min", "must be above zero and at most backoff_max".into(), None);
        }
        config
    }

    fn notify(&mut self, n: &RawNotify) -> NotifyConfig {
        NotifyConfig {
            enabled: n.enabled.unwrap_or(true),
            warn_before: self.duration(
                "notify.warn_before",
                &n.warn_before,
                NotifyConfig::default().warn_before,
            ),
            recovered: n.recovered.unwrap_or(false),
            command: n.command.as_ref().map(|s| s.get_ref().clone()).filter(|s| !s.trim().is_empty()),
        }
    }

    fn watch(&mut self, w: &RawWatch) -> Option<WatchConfig> {
        let env_file = self.env_path(&w.env_file)?;
        let name =
            w.name.as_ref().map(|n| n.get_ref().clone()).unwrap_or_else(|| env_file.display().to_string());
        Some(WatchConfig { name, env_file })
    }
}

const TOP_KEYS: &[&str] = &[
    "refresh_before",
    "jitter",
    "sts_timeout",
    "backoff_min",
    "backoff_max",
    "log_format",
    "region",
    "socket",
    "federation_endpoint",
    "mfa_session_duration",
    "notify",
    "session",
    "watch",
];

/// Turns a TOML or schema error into one with a position and, for an unknown key, a suggestion.
fn syntax_error(e: &toml::de::Error, text: &str, path: &Path) -> ConfigError {
    let loc = e.span().map(|s| Loc::of(text, s.start)).unwrap_or_default();
    let mut message = e.message().trim().to_string();
    let mut key = None;
    let mut fix = None;
    // serde's wording: "unknown field `x`, expected one of `a`, `b`" (or "expected `a`").
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let typo = rest.split('`').next().unwrap_or_default().to_string();
        let candidates: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let candidates = if candidates.is_empty() { TOP_KEYS.to_vec() } else { candidates };
        fix = Some(match did_you_mean(&typo, candidates.iter().copied()) {
            Some(m) => format!("did you mean `{m}`?"),
            None => format!("allowed keys here: {}", candidates.join(", ")),
        });
        key = Some(typo);
        message = "unknown key".to_string();
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        key = rest.split('`').next().map(str::to_string);
        fix = Some("add it to this table".to_string());
    }
    ConfigError { path: path.to_path_buf(), loc, key, message, fix }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every problem `text` has, as the user reads them.
    pub(super) fn errors(text: &str) -> Vec<String> {
        Config::parse(text, Path::new("/c.toml")).unwrap_err().iter().map(|e| e.to_string()).collect()
    }

    /// Issue 24: `env_file = "$HOME/p/.env"` created `./$HOME/p/.env` wherever credd started.
    #[test]
    fn issue24_env_files_are_home_relative_or_absolute() {
        let home = crate::paths::expand_home("~", &crate::paths::ProcessEnv);
        let session = |path: &str| {
            format!(
                "[[session]]\nname = \"s\"\nmethod = \"session-token\"\nsource_profile = \"b\"\nenv_file = \"{path}\"\n"
            )
        };
        for ok in ["$HOME/p/.env", "${HOME}/p/.env", "~/p/.env"] {
            let c = Config::parse(&session(ok), Path::new("/c.toml")).unwrap();
            assert_eq!(c.sessions[0].home.env_file(), Some(home.join("p/.env").as_path()), "{ok}");
        }
        let e = errors(&session("$PROJECT/.env")).join("\n");
        assert!(e.contains("/c.toml:5:12: `env_file`") && e.contains("does not expand"), "{e}");
        let e = errors(&session("p/.env")).join("\n");
        assert!(e.contains("is relative") && e.contains("start it with ~/"), "{e}");
        let e = errors("[[watch]]\nname = \"w\"\nenv_file = \".env\"\n").join("\n");
        assert!(e.contains("is relative"), "{e}");
    }

    #[test]
    fn empty_file_is_defaults() {
        let c = Config::parse("", Path::new("/c.toml")).unwrap();
        assert_eq!(c.refresh_before, Duration::from_secs(900));
        assert!(c.sessions.is_empty());
    }

    #[test]
    fn full_session_parses() {
        let c = Config::parse(
            "refresh_before = \"10m\"\n[[session]]\nname = \"dev\"\nmethod = \"assume-role\"\nsource_profile = \"base\"\nrole_arn = \"arn:aws:iam::123456789012:role/dev\"\nmfa_serial = \"arn:aws:iam::123456789012:mfa/alice\"\nmfa_command = \"ykman oath accounts code -s aws\"\nduration = \"2h\"\nregion = \"eu-west-1\"\n",
            Path::new("/c.toml"),
        )
        .unwrap();
        let s = &c.sessions[0].settings;
        assert_eq!(s.method, Method::AssumeRole);
        assert_eq!(s.duration, Duration::from_secs(7200));
        assert_eq!((c.sessions[0].loc.line, c.sessions[0].source_loc.line), (2, 5));
    }

    #[test]
    fn unknown_key_names_line_col_and_suggests() {
        let e = errors("jitter = \"1m\"\nrefresh_befor = \"15m\"\n");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("/c.toml:2:1: `refresh_befor`"), "{}", e[0]);
        assert!(e[0].contains("did you mean `refresh_before`?"), "{}", e[0]);
        let e = errors(
            "[[session]]\nname = \"a\"\nmethod = \"session-token\"\nsource_profile = \"b\"\nmfa_serail = \"x\"\n",
        );
        assert!(e[0].contains(":5:1:") && e[0].contains("`mfa_serial`"), "{}", e[0]);
    }

    #[test]
    fn bad_values_are_explained() {
        let e = errors("refresh_before = \"soon\"\nlog_format = \"jsn\"\n");
        assert!(e[0].starts_with("/c.toml:1:18: `refresh_before`"), "{}", e[0]);
        assert!(e[1].contains("did you mean \"json\"?"), "{}", e[1]);
        let e = errors("[[session]]\nname = \"a\"\nmethod = \"asume-role\"\nsource_profile = \"b\"\n");
        assert!(e[0].contains(":3:10:") && e[0].contains("did you mean \"assume-role\"?"), "{}", e[0]);
    }

    #[test]
    fn the_federation_endpoint_is_a_url() {
        let c =
            Config::parse("federation_endpoint = \"http://127.0.0.1:9/federation\"\n", Path::new("/c.toml"))
                .unwrap();
        assert_eq!(c.federation_endpoint.as_deref(), Some("http://127.0.0.1:9/federation"));
        let e = errors("federation_endpoint = \"signin.aws.amazon.com\"\n");
        assert!(
            e[0].starts_with("/c.toml:1:23: `federation_endpoint`") && e[0].contains("is not a URL"),
            "{}",
            e[0]
        );
        let e = errors("federation_endpiont = \"https://x/federation\"\n");
        assert!(e[0].contains("did you mean `federation_endpoint`?"), "{}", e[0]);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = errors("jitter = \n");
        assert!(e[0].starts_with("/c.toml:1:"), "{}", e[0]);
    }

    #[test]
    fn the_example_config_is_valid_with_its_samples_uncommented() {
        let text = include_str!("../../config/credd.toml");
        Config::parse(text, Path::new("config/credd.toml")).unwrap();
        // The commented samples are TOML too: un-comment them and they must parse.
        let is_toml = |rest: &str| {
            rest.starts_with("[[session]]")
                || rest.starts_with("[[watch]]")
                || rest.split_once(" = ").is_some_and(|(k, _)| {
                    !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                })
        };
        let uncommented: Vec<&str> = text
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if is_toml(rest) => rest,
                _ => l,
            })
            .collect();
        let uncommented = uncommented.join("\n");
        let c = Config::parse(&uncommented, Path::new("config/credd.toml")).unwrap();
        let methods: Vec<Method> = c.sessions.iter().map(|s| s.settings.method).collect();
        assert_eq!(methods, [Method::AssumeRole, Method::SessionToken, Method::AssumeRole, Method::Sso]);
        assert_eq!(c.watches.len(), 1);
        assert!(c.sessions[0].home.env_file().is_some());
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert!(c.notify.command.is_some());
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("dve", ["dev", "saml"]), Some("dev"));
        assert_eq!(did_you_mean("refresh_befor", TOP_KEYS.iter().copied()), Some("refresh_before"));
        assert_eq!(did_you_mean("jsn", ["text", "json"]), Some("json"));
        assert_eq!(did_you_mean("prod", ["dev", "saml"]), None);
    }

    #[test]
    fn arns() {
        assert!(is_iam_arn("arn:aws:iam::123456789012:role/a/b", "role"));
        assert!(is_iam_arn("arn:aws-us-gov:iam::123456789012:mfa/alice", "mfa"));
        assert!(!is_iam_arn("arn:aws:iam::123456789012:role/", "role"));
        assert!(!is_iam_arn("arn:aws:sts::123456789012:role/a", "role"));
    }
}
