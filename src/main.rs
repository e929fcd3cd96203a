//! The `credd` binary: parse arguments, set up logging, dispatch, and turn errors into a message
//! and an exit code (0 success, 1 the operation failed or something needs attention, 2 usage or
//! config error, 3 no daemon reachable). Everything else lives in the library.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use credd::cli::list as scan;
use credd::cli::{self, Command, Invocation, StatusFormat};
use credd::config::{Config, LogFormat};
use credd::engine::{Begin, Engine, Export, Refusal};
use credd::files::AwsFiles;
use credd::ipc::client::{self, ClientError};
use credd::ipc::protocol::{ErrorCode, RefreshResult, Reply, Request, State};
use credd::paths::{self, ProcessEnv};
use credd::refresh::mfa::UsedCodes;
use credd::refresh::run::{self, Outcome};
use credd::secret::Secret;
use credd::{daemon, logging, sessions};

const USAGE_OR_CONFIG: u8 = 2;
const NO_DAEMON: u8 = 3;

fn main() -> ExitCode {
    let inv = cli::parse();
    match run(inv) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("credd: {e:#}");
            ExitCode::from(USAGE_OR_CONFIG)
        }
    }
}

fn config_path(inv: &Invocation) -> (std::path::PathBuf, bool) {
    match &inv.config {
        Some(p) => (p.clone(), true),
        None => (paths::config_file(&ProcessEnv), false),
    }
}

fn load_config(inv: &Invocation) -> Result<Config, ExitCode> {
    let (path, explicit) = config_path(inv);
    Config::load(&path, explicit).map_err(|errors| {
        for e in errors {
            eprintln!("{e}");
        }
        ExitCode::from(USAGE_OR_CONFIG)
    })
}

fn host_user() -> (String, String) {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "user".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into());
    (user, host)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    // One thread: credd waits on a timer and a few file descriptors; a thread pool would only add
    // idle wakeups. Blocking file writes go to tokio's blocking pool.
    tokio::runtime::Builder::new_current_thread().enable_all().build()
}

fn run(inv: Invocation) -> anyhow::Result<ExitCode> {
    match &inv.command {
        Command::Daemon => {
            let config = match load_config(&inv) {
                Ok(c) => c,
                Err(code) => return Ok(code),
            };
            logging::init(config.log_format);
            let (config_path, config_explicit) = config_path(&inv);
            let opts = daemon::Options {
                config_path,
                config_explicit,
                runtime_dir: paths::runtime_dir(&ProcessEnv),
                socket_override: inv.socket.clone(),
                files: AwsFiles::from_env(&ProcessEnv),
                host_user: host_user(),
            };
            match runtime()?.block_on(daemon::run(opts, std::future::pending())) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("credd: {e}");
                    Ok(ExitCode::from(USAGE_OR_CONFIG))
                }
            }
        }
        Command::Status { format } => status(&inv, *format),
        Command::Refresh { name, code } => refresh(&inv, name.as_deref(), code.as_deref()),
        Command::Mfa { name, code } => {
            match ask(&inv, Request::Mfa { name: name.clone(), code: code.clone() }) {
                Err(ClientError::NoDaemon { .. }) => {
                    eprintln!(
                        "credd: no daemon is running to take the code; refresh directly with `credd refresh {name} --code CODE`"
                    );
                    Ok(ExitCode::from(NO_DAEMON))
                }
                other => Ok(print_refresh_reply(other)),
            }
        }
        Command::Reload => match ask(&inv, Request::Reload) {
            Ok(frame) => match frame.reply {
                Reply::Reloaded { errors } if errors.is_empty() => {
                    println!("reloaded");
                    Ok(ExitCode::SUCCESS)
                }
                Reply::Reloaded { errors } => {
                    for e in errors {
                        eprintln!("{e}");
                    }
                    eprintln!("credd: the daemon kept its previous configuration");
                    Ok(ExitCode::from(USAGE_OR_CONFIG))
                }
                other => Ok(unexpected(other)),
            },
            Err(e) => Ok(client_error(e)),
        },
        Command::ConfigCheck => config_check(&inv),
        Command::Export { name, format, min_ttl } => export(&inv, name, *format, *min_ttl),
        Command::Ensure { name, min_ttl } => ensure(&inv, name, *min_ttl),
        Command::Completions(shell) => {
            cli::completions(*shell, &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            cli::man(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hook { shell } => {
            let exe = std::env::current_exe()?;
            print!("{}", credd::hooks::render(*shell, &exe, &paths::runtime_dir(&ProcessEnv)));
            Ok(ExitCode::SUCCESS)
        }
        Command::RegisterShell(shell) => {
            // Quiet by design: it runs in the background of a prompt.
            let _ = ask(&inv, Request::RegisterShell(shell.clone()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Doctor { profile, json, offline } => {
            let files = AwsFiles::from_env(&ProcessEnv);
            let opts = credd::doctor::Options {
                profile: profile.clone(),
                offline: *offline,
                aws_config: files.config,
                aws_credentials: files.credentials,
                credd_config: config_path(&inv).0,
                host_user: host_user(),
            };
            let report = runtime()?.block_on(credd::doctor::diagnose(&opts, &ProcessEnv));
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                let (selected, _) = credd::doctor::checks::selected_profile(&ProcessEnv, profile.as_deref());
                print!("{}", report.render(&selected));
            }
            Ok(if report.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::InstallService { print, kind } => service(true, *print, *kind),
        Command::UninstallService { print, kind } => service(false, *print, *kind),
        Command::List { json } => {
            let files = AwsFiles::from_env(&ProcessEnv).read()?;
            let profiles = scan::summarize(&files);
            if *json {
                println!("{}", serde_json::to_string_pretty(&profiles)?);
            } else {
                print_table(&profiles);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn service(install: bool, print: bool, kind: Option<credd::service::Kind>) -> anyhow::Result<ExitCode> {
    use credd::service;
    let kind = kind.unwrap_or_else(service::Kind::for_this_os);
    let exe = std::env::current_exe()?;
    let plan = if install {
        if print && service::in_temp_dir(&exe.canonicalize().unwrap_or_else(|_| exe.clone())) {
            eprintln!(
                "credd: warning: {} is inside a temporary directory; a real install from there is refused. \
                 Install credd first (`cargo install --locked --path .`)",
                exe.display()
            );
        }
        service::install_plan(kind, &exe, &ProcessEnv, print)
    } else {
        service::uninstall_plan(kind, &ProcessEnv)
    };
    let plan = match plan {
        Ok(p) => p,
        Err(e) => {
            eprintln!("credd: {e}");
            return Ok(ExitCode::from(USAGE_OR_CONFIG));
        }
    };
    if print {
        match &plan.content {
            Some(content) => {
                println!("# would write {}:", plan.unit_path.display());
                print!("{content}");
            }
            None => println!("# would remove {}", plan.unit_path.display()),
        }
        for cmd in &plan.commands {
            println!("# would run: {}", cmd.join(" "));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let result =
        if install { service::install(&plan).map(|()| Vec::new()) } else { service::uninstall(&plan) };
    match result {
        Ok(notes) => {
            for n in notes {
                eprintln!("credd: note: {n}");
            }
            if install {
                println!("installed {} and started credd", plan.unit_path.display());
            } else {
                println!(
                    "stopped credd and removed {}; config and credentials are untouched",
                    plan.unit_path.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("credd: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `credd export`, `credential-process` and `ensure`: the daemon makes sure the session is fresh
/// (and, with `min_ttl`, lasts at least that long) and says where it is; without a daemon, the
/// same happens here. `Err` carries the exit code once the reason has been printed.
fn fresh_location(
    inv: &Invocation,
    name: &str,
    min_ttl: Option<Duration>,
) -> anyhow::Result<Result<credd::ipc::protocol::ExportLocation, ExitCode>> {
    let request = Request::Export { name: name.to_string(), min_ttl: min_ttl.map(|t| t.as_secs()) };
    let location = match ask(inv, request) {
        Ok(frame) => match frame.reply {
            Reply::Exported(loc) => loc,
            Reply::Error { message, .. } => {
                eprintln!("credd: {message}");
                return Ok(Err(ExitCode::from(1)));
            }
            other => return Ok(Err(unexpected(other))),
        },
        Err(ClientError::NoDaemon { .. }) => match export_in_process(inv, name, min_ttl)? {
            Ok(loc) => loc,
            Err(code) => return Ok(Err(code)),
        },
        Err(e) => return Ok(Err(client_error(e))),
    };
    let now = chrono::Utc::now();
    let needs_mfa = if location.state == State::NeedsMfa {
        format!(": it needs an MFA code (`credd mfa {name} CODE`)")
    } else {
        String::new()
    };
    if location.expires_at.is_some_and(|e| e <= now) {
        eprintln!(
            "credd: {name} expired at {} and credd cannot refresh it{needs_mfa}",
            location.expires_at.unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        return Ok(Err(ExitCode::from(1)));
    }
    if let Some(ttl) = min_ttl
        && credd::expiry::short_of(location.expires_at, now, ttl)
    {
        let left = location
            .expires_at
            .map(|e| format!("{} left", report_left(e - now)))
            .unwrap_or("no recorded expiry".into());
        eprintln!(
            "credd: {name} has {left}, less than the {} asked, and credd could not renew it{needs_mfa}",
            humantime::format_duration(ttl)
        );
        return Ok(Err(ExitCode::from(1)));
    }
    Ok(Ok(location))
}

/// A remaining lifetime in whole minutes, as people read it: `1h 59m`.
fn report_left(left: chrono::Duration) -> String {
    let minutes = left.num_minutes().max(0) as u64;
    humantime::format_duration(Duration::from_secs(minutes * 60)).to_string()
}

fn export(
    inv: &Invocation,
    name: &str,
    format: credd::cli::export::Format,
    min_ttl: Option<Duration>,
) -> anyhow::Result<ExitCode> {
    let location = match fresh_location(inv, name, min_ttl)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    match credd::cli::export::read(&location) {
        Ok(e) => {
            print!("{}", credd::cli::export::render(&e, format));
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            eprintln!("credd: {why}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `credd ensure NAME --min-ttl D`: what is left after making sure, on stdout.
fn ensure(inv: &Invocation, name: &str, min_ttl: Duration) -> anyhow::Result<ExitCode> {
    let location = match fresh_location(inv, name, Some(min_ttl))? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let Some(at) = location.expires_at else {
        eprintln!("credd: {name} records no expiry, so credd cannot promise it lasts");
        return Ok(ExitCode::from(1));
    };
    println!(
        "{name}: {} left (until {}), at least the {} asked",
        report_left(at - chrono::Utc::now()),
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        humantime::format_duration(min_ttl)
    );
    Ok(ExitCode::SUCCESS)
}

/// The files as they are now, and an engine that has read them: what the in-process fallbacks
/// (no daemon running) decide with, exactly as the daemon would.
/// Call it before logging is set up: the engine logs what it tracks, which a one-shot command
/// should not print. The problems that left sessions out are returned instead.
fn engine_here(config: Config) -> anyhow::Result<(AwsFiles, Engine, Vec<credd::config::ConfigError>)> {
    let files = AwsFiles::from_env(&ProcessEnv);
    let mut loaded = files.read()?;
    let env_paths = sessions::SessionSpec::env_paths(&config);
    loaded.read_env_files(env_paths.iter().map(std::path::PathBuf::as_path));
    let engine = Engine::from_files(config, host_user(), &loaded, chrono::Utc::now());
    let problems = engine.plan(&loaded).errors;
    Ok((files, engine, problems))
}

/// Runs the refresh the engine started for `spec`, here.
/// `used` spans the whole command, so one code is not sent twice.
fn refresh_here(
    engine: &Engine,
    spec: &sessions::SessionSpec,
    files: &AwsFiles,
    code: Option<&str>,
    used: &Arc<Mutex<UsedCodes>>,
) -> anyhow::Result<Outcome> {
    let config = engine.config();
    Ok(runtime()?.block_on(run::refresh(spec, files, config, &ProcessEnv, code.map(Secret::new), used)))
}

fn export_in_process(
    inv: &Invocation,
    name: &str,
    min_ttl: Option<Duration>,
) -> anyhow::Result<Result<credd::ipc::protocol::ExportLocation, ExitCode>> {
    let config = match load_config(inv) {
        Ok(c) => c,
        Err(code) => return Ok(Err(code)),
    };
    let (files, mut engine, _) = engine_here(config)?;
    let refused = |why: Refusal| {
        eprintln!("credd: {why}");
        let code = if why.code() == ErrorCode::UnknownSession { USAGE_OR_CONFIG } else { 1 };
        Ok(Err(ExitCode::from(code)))
    };
    let location = match engine.export(name, min_ttl, chrono::Utc::now(), &files.credentials) {
        Ok(Export::Ready(location)) => return Ok(Ok(location)),
        Ok(Export::RefreshFirst(location)) => location,
        Err(why) => return refused(why),
    };
    let Begin::Start(spec) = engine.begin(name, false).map_err(anyhow::Error::from)? else {
        unreachable!("nothing else refreshes in this process");
    };
    let outcome = refresh_here(&engine, &spec, &files, None, &Default::default())?;
    match &outcome {
        Outcome::NeedsMfa { serial, .. } => eprintln!(
            "credd: {name} needs an MFA code for {serial} to refresh; run `credd refresh {name} --code CODE`"
        ),
        Outcome::Failed(e) => eprintln!("credd: refreshing {name} failed: {e}"),
        Outcome::Refreshed { .. } => {}
    }
    let now = chrono::Utc::now();
    engine.finish(name, outcome, now, 0.0);
    match Engine::exported(location, engine.result(name, now), now) {
        Ok(location) => Ok(Ok(location)),
        Err(why) => refused(why),
    }
}

fn config_check(inv: &Invocation) -> anyhow::Result<ExitCode> {
    let (path, _) = config_path(inv);
    let config = match load_config(inv) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let files = AwsFiles::from_env(&ProcessEnv);
    let loaded = match files.read() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(USAGE_OR_CONFIG));
        }
    };
    let (user, host) = host_user();
    let plan = sessions::plan(&config, &loaded, (&user, &host));
    for e in &plan.errors {
        eprintln!("{e}");
    }
    if !plan.errors.is_empty() {
        return Ok(ExitCode::from(USAGE_OR_CONFIG));
    }
    match &config.path {
        Some(_) => println!("{}: ok", path.display()),
        None => {
            println!("{} does not exist: credd runs with defaults and tracks what it finds", path.display())
        }
    }
    for s in &plan.sessions {
        match &s.managed {
            Some(m) => {
                let s2 = &m.settings;
                println!("  {:<20} managed ({}, source {})", s.name, s2.method.as_str(), s2.source_profile)
            }
            None => println!("  {:<20} watch-only", s.name),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The socket this invocation talks to. A broken config does not stop `status` from working.
fn socket(inv: &Invocation) -> std::path::PathBuf {
    let (path, explicit) = config_path(inv);
    let from_config = Config::load(&path, explicit).ok().and_then(|c| c.socket);
    paths::socket_path(inv.socket.as_deref(), &ProcessEnv, from_config.as_deref())
}

fn ask(inv: &Invocation, req: Request) -> Result<credd::ipc::protocol::ReplyFrame, ClientError> {
    let timeout = match req {
        Request::Status | Request::Reload => std::time::Duration::from_secs(10),
        _ => std::time::Duration::from_secs(330),
    };
    client::request(&socket(inv), req, timeout)
}

fn client_error(e: ClientError) -> ExitCode {
    eprintln!("credd: {e}");
    match e {
        ClientError::NoDaemon { .. } => ExitCode::from(NO_DAEMON),
        _ => ExitCode::from(USAGE_OR_CONFIG),
    }
}

fn unexpected(reply: Reply) -> ExitCode {
    match reply {
        Reply::Error { message, .. } => eprintln!("credd: {message}"),
        other => eprintln!("credd: unexpected reply from the daemon: {other:?}"),
    }
    ExitCode::from(USAGE_OR_CONFIG)
}

fn status(inv: &Invocation, format: StatusFormat) -> anyhow::Result<ExitCode> {
    let frame = match ask(inv, Request::Status) {
        Ok(f) => f,
        // A prompt must stay quiet when there is no daemon; the exit code still says so.
        Err(ClientError::NoDaemon { .. }) if format == StatusFormat::Prompt => {
            return Ok(ExitCode::from(NO_DAEMON));
        }
        Err(e) => return Ok(client_error(e)),
    };
    let Reply::Status(st) = &frame.reply else {
        return Ok(unexpected(frame.reply));
    };
    let now = chrono::Utc::now();
    match format {
        StatusFormat::Json => println!("{}", serde_json::to_string_pretty(&frame)?),
        StatusFormat::Prompt => {
            let line = credd::cli::status::prompt(st, now);
            if !line.is_empty() {
                println!("{line}");
            }
        }
        StatusFormat::Table => {
            use std::io::IsTerminal;
            let color =
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            print!("{}", credd::cli::status::table(st, now, color));
        }
    }
    let attention = st.sessions.iter().any(credd::cli::status::needs_attention);
    Ok(if attention { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_result(r: &RefreshResult) {
    let now = chrono::Utc::now();
    if r.ok {
        let exp = r
            .expires_at
            .map(|e| {
                format!(
                    "; expires {} (in {})",
                    e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    credd::cli::status::short_duration(now, e)
                )
            })
            .unwrap_or_default();
        println!("{}: refreshed{exp}", r.name);
    } else {
        let e = r.error.as_ref();
        eprintln!("{}: {} ({})", r.name, e.map(|e| e.message.as_str()).unwrap_or("failed"), r.state.as_str());
        if let Some(fix) = e.and_then(|e| e.fix.as_deref()) {
            eprintln!("  fix: {fix}");
        }
    }
}

fn print_refresh_reply(reply: Result<credd::ipc::protocol::ReplyFrame, ClientError>) -> ExitCode {
    match reply {
        Ok(frame) => match frame.reply {
            Reply::Refreshed { results } => {
                results.iter().for_each(print_result);
                if results.iter().all(|r| r.ok) { ExitCode::SUCCESS } else { ExitCode::from(1) }
            }
            other => unexpected(other),
        },
        Err(e) => client_error(e),
    }
}

fn refresh(inv: &Invocation, name: Option<&str>, code: Option<&str>) -> anyhow::Result<ExitCode> {
    if let Some(c) = code
        && !credd::refresh::mfa::is_code(c)
    {
        eprintln!("credd: an MFA code is six digits");
        return Ok(ExitCode::from(USAGE_OR_CONFIG));
    }
    let req = match (name, code) {
        (Some(n), Some(c)) => Request::Mfa { name: n.to_string(), code: c.to_string() },
        (n, _) => Request::Refresh { name: n.map(str::to_string) },
    };
    match ask(inv, req) {
        Err(ClientError::NoDaemon { .. }) => refresh_in_process(inv, name, code),
        other => Ok(print_refresh_reply(other)),
    }
}

/// `credd refresh` without a daemon: the same refresh, run here.
fn refresh_in_process(inv: &Invocation, name: Option<&str>, code: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = match load_config(inv) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    // As over the socket, a code goes with a named session only.
    let code = name.and(code);
    let (files, mut engine, problems) = engine_here(config)?;
    logging::init(LogFormat::Text);
    for e in &problems {
        eprintln!("{e}");
    }
    let names = match name {
        Some(n) => vec![n.to_string()],
        None => engine.managed_names(),
    };
    let mut targets = Vec::new();
    for n in &names {
        match engine.begin(n, code.is_some()) {
            Ok(Begin::Start(spec)) => targets.push(spec),
            Ok(Begin::Join) => {}
            Err(why) => {
                eprintln!("credd: {why}");
                return Ok(ExitCode::from(USAGE_OR_CONFIG));
            }
        }
    }
    eprintln!("credd: no daemon is running; refreshing in-process");
    let used = Default::default();
    let mut ok = true;
    for spec in &targets {
        let managed = spec.managed.as_ref().expect("the engine starts managed sessions only");
        let name = &spec.name;
        match refresh_here(&engine, spec, &files, code, &used)? {
            Outcome::Refreshed { issued, stored } => {
                let exp = issued.credentials.expiration;
                match stored {
                    credd::refresh::store::Stored::Written => println!(
                        "{name}: refreshed; key {}, expires {} (in {})",
                        credd::secret::short_key_id(&issued.credentials.access_key_id),
                        exp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        credd::cli::status::short_duration(chrono::Utc::now(), exp)
                    ),
                    credd::refresh::store::Stored::KeptNewer(t) => println!(
                        "{name}: the file already holds a session lasting longer (until {}); kept it",
                        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                }
            }
            Outcome::NeedsMfa { serial, why } => {
                ok = false;
                eprintln!(
                    "{name}: needs an MFA code for {serial} ({why}); run `credd refresh {name} --code CODE`"
                );
            }
            Outcome::Failed(e) => {
                ok = false;
                eprintln!("{name}: refresh failed: {e}");
                if let Some(fix) = credd::refresh::classify::fix_for(
                    &e,
                    &managed.settings.source_profile,
                    managed.settings.method.as_str(),
                ) {
                    eprintln!("  fix: {fix}");
                }
            }
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_table(profiles: &[scan::ProfileSummary]) {
    let now = chrono::Utc::now();
    println!("{:<24} {:<13} EXPIRES", "PROFILE", "KIND");
    for p in profiles {
        let expires = match (&p.expires_at, &p.expiry_error) {
            (_, Some(err)) => err.clone(),
            (Some(at), None) if *at <= now => {
                format!("expired {}", at.format("%Y-%m-%d %H:%M UTC"))
            }
            (Some(at), None) => {
                let left = (*at - now).num_seconds().max(0) as u64;
                format!(
                    "in {} ({})",
                    humantime::format_duration(std::time::Duration::from_secs(left)),
                    at.format("%Y-%m-%d %H:%M UTC")
                )
            }
            (None, None) => "-".into(),
        };
        let kind = match p.problem {
            Some(problem) => format!("{} ({problem})", p.kind),
            None => p.kind.to_string(),
        };
        println!("{:<24} {:<13} {}", p.name, kind, expires);
    }
}
