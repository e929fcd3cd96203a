//! `credd console NAME [--print] [--service S] [--region R] [--duration D]`: the verb. It finds
//! what NAME is, gets credentials the federation endpoint takes, trades them for a sign-in token
//! (`crate::console`) and opens the console, or prints the URL.
//!
//! NAME is a tracked session (the names `credd export` takes) or a profile holding an IAM user's
//! long-term keys. A session's credentials come by `credd export`'s path, unchanged: the daemon
//! makes sure it is fresh, or, without one, the engine decides and the refresh runs here. The
//! federation endpoint takes only role sessions and federation tokens, so an IAM user's keys (a
//! profile's, or the source of a `session-token` session) go through GetFederationToken first,
//! as aws-vault's `login` does, and credd says so on stderr.
//!
//! The sign-in URL is a credential. It goes to stdout with `--print` (with a warning on stderr
//! when stdout is not a terminal) or to the opener's argument list, and nowhere else: no log
//! line or error holds it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::export::{self, judge, locate};
use super::{Failure, Invocation, host_user, load_config, runtime};
use crate::config::{Config, Method};
use crate::console::{self, Issued, Partition, federate, signin};
use crate::engine::Engine;
use crate::files::{AwsFiles, Loaded};
use crate::paths::{Env, ProcessEnv};
use crate::profile::meta::{self, CredentialKind, ProfileCredentials};
use crate::refresh::endpoint::endpoint_for_profile;
use crate::refresh::source::Source;
use crate::secret::{Secret, short_key_id};
use crate::sessions::SessionSpec;

/// The variable that points credd at another federation endpoint (up to `/federation`).
pub const ENDPOINT_VAR: &str = "CREDD_FEDERATION_ENDPOINT";

/// A GetFederationToken session's length when `--duration` does not say (aws-vault's too).
const FEDERATION_DEFAULT: Duration = Duration::from_secs(3600);

/// What `credd console` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub name: String,
    pub print: bool,
    pub service: Option<String>,
    pub region: Option<String>,
    pub duration: Option<Duration>,
}

/// What to sign in with.
enum Target {
    /// The session's own credentials, as they are.
    Session { creds: ProfileCredentials, issued: Issued, profile: String, region: Option<String> },
    /// An IAM user's long-term keys (`profile`'s), traded for a federation token first; `why`
    /// says why the session's own credentials would not do.
    User { keys: ProfileCredentials, profile: String, region: Option<String>, why: String },
}

pub(super) fn console(inv: &Invocation, o: &Options) -> Result<(), Failure> {
    check_flags(o)?;
    let config = load_config(inv)?;
    crate::logging::init(config.log_format);
    let (loaded, specs) = read_here(&config)?;
    let name = o.name.as_str();
    let rt = runtime()?;
    let (creds, issued, profile, region) = match target(inv, o, &config, &loaded, &specs)? {
        Target::Session { creds, issued, profile, region } => (creds, issued, profile, region),
        Target::User { keys, profile, region, why } => {
            let duration = o.duration.unwrap_or(FEDERATION_DEFAULT);
            if let Some(why) = console::duration_refused(Issued::FederationToken, duration) {
                return Err(Failure::usage(format!(
                    "--duration {}: {why}",
                    humantime::format_duration(duration)
                )));
            }
            let user = federate::name(&host_user().user);
            eprintln!(
                "credd: {why}, which the console does not take; signing in as federated user {user} instead (GetFederationToken with the long-term key {} of [{profile}], for {})",
                short_key_id(&keys.access_key_id),
                humantime::format_duration(duration)
            );
            let endpoint = sts_endpoint(o, &config, &loaded, &profile, region.as_deref());
            tracing::debug!("{name}: GetFederationToken for {user} in {}", endpoint.region);
            let (creds, expires) =
                rt.block_on(federate::token(&keys, endpoint, &user, duration)).map_err(|e| {
                    Failure::failed(format!(
                        "GetFederationToken with [{profile}]'s keys failed: {e}{}",
                        federation_fix(&e)
                    ))
                })?;
            tracing::debug!(
                "{name}: federation token {} until {expires}",
                short_key_id(&creds.access_key_id)
            );
            (creds, Issued::FederationToken, profile, region)
        }
    };
    let session_duration = match issued {
        Issued::FederationToken => None,
        _ => o.duration,
    };
    let sts_region = sts_endpoint(o, &config, &loaded, &profile, region.as_deref()).region;
    let partition = Partition::of(&sts_region);
    let base = console::endpoint(
        partition,
        ProcessEnv.var(ENDPOINT_VAR).as_deref(),
        config.federation_endpoint.as_deref(),
    );
    let destination = partition.destination(o.region.as_deref(), o.service.as_deref());
    tracing::debug!(
        "{name}: asking {base} for a sign-in token for key {} ({issued:?}, partition {partition:?})",
        short_key_id(&creds.access_key_id)
    );
    let request = console::signin_request(&base, &creds, session_duration);
    let token_secret = creds.session_token.clone().unwrap_or_default();
    let secrets = [creds.secret_access_key.expose(), token_secret.expose()];
    let token = rt
        .block_on(signin::token(&base, &request, &secrets, config.sts_timeout))
        .map_err(|e| Failure::failed(format!("{e}; {}", signin_fix(name, issued, &e))))?;
    let url = console::login_url(&base, &destination, &token);
    if o.print { print(name, &url) } else { open(name, &url) }
}

/// `--region` and `--service` are checked before anything is read or asked.
fn check_flags(o: &Options) -> Result<(), Failure> {
    if let Some(r) = &o.region
        && !crate::regions::known(r)
    {
        let hint = crate::regions::suggest(r).map(|s| format!("; did you mean \"{s}\"?")).unwrap_or_default();
        return Err(Failure::usage(format!("--region \"{r}\" is not a region credd knows{hint}")));
    }
    if let Some(s) = &o.service
        && !console::valid_service(s)
    {
        return Err(Failure::usage(format!(
            "--service \"{s}\" is not a console path: write the service as its console URL does (ec2, s3, cloudwatch, ec2/v2)"
        )));
    }
    Ok(())
}

/// The files and the tracked sessions, as `credd export` without a daemon sees them.
fn read_here(config: &Config) -> Result<(Loaded, Vec<SessionSpec>), Failure> {
    let mut loaded = AwsFiles::from_env(&ProcessEnv).read().map_err(anyhow::Error::from)?;
    let env_paths = SessionSpec::env_paths(config);
    loaded.read_env_files(env_paths.iter().map(PathBuf::as_path));
    let host = host_user();
    host.read_caches(&mut loaded);
    let sessions = Engine::new(config.clone(), host).plan(&loaded).sessions;
    Ok((loaded, sessions))
}

/// What NAME is, and the credentials to sign in with.
fn target(
    inv: &Invocation,
    o: &Options,
    config: &Config,
    loaded: &Loaded,
    specs: &[SessionSpec],
) -> Result<Target, Failure> {
    let name = o.name.as_str();
    let Some(spec) = specs.iter().find(|s| s.name == name) else {
        return user_profile(name, loaded).ok_or_else(|| unknown(name, loaded, specs));
    };
    let issued = match spec.managed() {
        Some(m) if m.settings.method == Method::SessionToken => {
            let source =
                Source::find(loaded, m, &ProcessEnv).map_err(|e| Failure::failed(format!("{name}: {e}")))?;
            let keys = runtime()?
                .block_on(source.fetch(config.sts_timeout))
                .map_err(|e| Failure::failed(format!("{name}: {e}")))?
                .into_keys();
            return Ok(Target::User {
                keys,
                profile: m.settings.source_profile.clone(),
                region: m.settings.region.clone(),
                why: format!("{name} is a GetSessionToken session"),
            });
        }
        // A kind's own credentials, as issued (an SSO profile's role credentials).
        Some(m) if crate::kinds::Issuer::of_method(m.settings.method).is_some() => Issued::Role,
        // Assumed with another session's credentials (a role's, an SSO role's, a
        // GetSessionToken session's) rather than with long-term keys.
        Some(m) if m.chained || !signs_with_long_term_keys(loaded, m) => Issued::ChainedRole,
        Some(_) => Issued::Role,
        None => Issued::Unknown,
    };
    if let Some(d) = o.duration
        && let Some(why) = console::duration_refused(issued, d)
    {
        return Err(Failure::usage(format!(
            "--duration {}: {why}; leave --duration out for {name}",
            humantime::format_duration(d)
        )));
    }
    let location = judge(name, locate(inv, name, None)?, None)?;
    let e = export::read_again_if_gone(inv, &location)?;
    let profile = location.profile.clone().unwrap_or_else(|| name.to_string());
    let region = e.region.or_else(|| spec.managed().and_then(|m| m.settings.region.clone()));
    if e.creds.session_token.is_none() {
        // Keys without a token, such as an env file holding an IAM user's keys.
        return Ok(Target::User {
            keys: e.creds,
            profile,
            region,
            why: format!("{name} holds keys without a session token"),
        });
    }
    Ok(Target::Session { creds: e.creds, issued, profile, region })
}

/// Whether the source of a renewed session is long-term keys (in the files or the keyring).
fn signs_with_long_term_keys(loaded: &Loaded, m: &crate::sessions::Managed) -> bool {
    match Source::find(loaded, m, &ProcessEnv) {
        Ok(Source::Keys(k)) => k.session_token.is_none(),
        Ok(Source::Kind(kind, _)) => kind.long_term_keys(),
        Err(_) => false,
    }
}

/// A profile that is no tracked session but holds an IAM user's long-term keys.
fn user_profile(name: &str, loaded: &Loaded) -> Option<Target> {
    let merged = loaded.merged_profile(name);
    let section = merged.profile(name)?;
    if meta::credential_kind(section) != CredentialKind::LongTerm {
        return None;
    }
    Some(Target::User {
        keys: meta::credentials(section)?,
        profile: name.to_string(),
        region: section.get("region").map(str::to_string),
        why: format!("[{name}] holds an IAM user's long-term keys"),
    })
}

/// An unknown NAME, with the closest session or key-holding profile.
fn unknown(name: &str, loaded: &Loaded, specs: &[SessionSpec]) -> Failure {
    let merged = loaded.merged();
    let profiles = merged
        .profile_names()
        .filter(|p| merged.profile(p).is_some_and(|s| meta::credential_kind(s) == CredentialKind::LongTerm));
    let candidates: Vec<&str> = specs.iter().map(|s| s.name.as_str()).chain(profiles).collect();
    let hint = crate::config::did_you_mean(name, candidates.iter().copied())
        .map(|m| format!("; did you mean \"{m}\"?"))
        .unwrap_or_else(|| "; `credd status` lists the sessions, `credd list` the profiles".into());
    Failure::usage(format!("no session or profile with long-term keys named \"{name}\"{hint}"))
}

/// STS for a profile, in `--region`, else the session's, the profile's or credd's region.
fn sts_endpoint(
    o: &Options,
    config: &Config,
    loaded: &Loaded,
    profile: &str,
    region: Option<&str>,
) -> crate::refresh::Endpoint {
    endpoint_for_profile(
        profile,
        o.region.as_deref().or(region),
        config.region.as_deref(),
        loaded,
        &ProcessEnv,
        config.sts_timeout,
    )
}

fn federation_fix(e: &crate::refresh::RefreshError) -> String {
    if e.http_status == Some(403) || e.code.as_deref() == Some("AccessDenied") {
        "; the user needs sts:GetFederationToken, and a policy that requires MFA refuses it (it takes no MFA code): sign in with a role session instead".into()
    } else {
        String::new()
    }
}

fn signin_fix(name: &str, issued: Issued, e: &signin::SigninError) -> String {
    match (e.refused(), issued) {
        (true, Issued::Unknown) => format!(
            "the console takes only role sessions and federation tokens; if {name} is a GetSessionToken session, run `credd console PROFILE` with the profile holding its user's long-term keys"
        ),
        (true, _) => format!("check that {name} is still valid: `credd doctor --profile {name}`"),
        (false, _) => format!(
            "check the network, or point {ENDPOINT_VAR} (or `federation_endpoint` in credd's config) at a federation endpoint you can reach"
        ),
    }
}

/// `--print`: the URL on stdout, and a warning when stdout is a pipe or a file.
fn print(name: &str, url: &Secret) -> Result<(), Failure> {
    println!("{}", url.expose());
    if !std::io::stdout().is_terminal() {
        eprintln!(
            "credd: the URL on stdout is a credential: for 15 minutes it signs anyone in to the AWS console as {name}; keep it out of logs, files and chats"
        );
    }
    Ok(())
}

/// The opener of this OS's desktop: `open` on macOS, `xdg-open` elsewhere.
fn opener() -> &'static str {
    if cfg!(target_os = "macos") { "open" } else { "xdg-open" }
}

/// `cmd` as `PATH` finds it.
fn on_path(cmd: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(cmd))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Opens the sign-in URL in the browser, through the desktop's opener.
fn open(name: &str, url: &Secret) -> Result<(), Failure> {
    let cmd = opener();
    let instead = format!("run `credd console {name} --print` and open the URL yourself");
    let Some(path) = on_path(cmd) else {
        return Err(Failure::failed(format!("cannot open a browser: `{cmd}` is not on PATH; {instead}")));
    };
    let out = Command::new(&path)
        .arg(url.expose())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Failure::failed(format!("cannot run {}: {e}; {instead}", path.display())))?;
    if out.status.success() {
        eprintln!("credd: opened the AWS console as {name}");
        return Ok(());
    }
    // Openers repeat what they could not open, quoted their own way: whatever holds any part of
    // the URL is not repeated, so the URL goes no further than this process.
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.trim();
    let said = if said.is_empty() || said.contains("SigninToken") || said.contains("Action=login") {
        String::new()
    } else {
        format!(": {}", said.chars().take(300).collect::<String>())
    };
    Err(Failure::failed(format!("`{cmd}` could not open the console ({}){said}; {instead}", out.status)))
}
