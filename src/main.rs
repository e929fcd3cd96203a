//! The `credd` binary: parse arguments, set up logging, dispatch, and turn errors into a message
//! and an exit code (0 success, 1 the operation failed, 2 usage or config error). Everything else
//! lives in the library.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use credd::cli::{self, Command, Invocation};
use credd::config::{Config, LogFormat};
use credd::paths::{self, ProcessEnv};
use credd::refresh::run::{self, AwsFiles, Outcome};
use credd::secret::Secret;
use credd::{daemon, logging, scan, sessions};

const USAGE_OR_CONFIG: u8 = 2;

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
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "user".into());
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
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
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
        Command::Refresh { name, code } => refresh(&inv, name, code.as_deref()),
        Command::ConfigCheck => config_check(&inv),
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
        None => println!(
            "{} does not exist: credd runs with defaults and tracks what it finds",
            path.display()
        ),
    }
    for s in &plan.sessions {
        match &s.managed {
            Some(m) => println!(
                "  {:<20} managed ({}, source {})",
                s.name,
                m.method.as_str(),
                m.source_profile
            ),
            None => println!("  {:<20} watch-only", s.name),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn refresh(inv: &Invocation, name: &str, code: Option<&str>) -> anyhow::Result<ExitCode> {
    let config = match load_config(inv) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    logging::init(LogFormat::Text);
    let files = AwsFiles::from_env(&ProcessEnv);
    let loaded = files.read()?;
    let (user, host) = host_user();
    let plan = sessions::plan(&config, &loaded, (&user, &host));
    for e in &plan.errors {
        eprintln!("{e}");
    }
    let Some(spec) = plan.sessions.iter().find(|s| s.name == name) else {
        let names: Vec<&str> = plan.sessions.iter().map(|s| s.name.as_str()).collect();
        let hint = credd::config::did_you_mean(name, names.iter().copied())
            .map(|m| format!(" Did you mean \"{m}\"?"))
            .unwrap_or_default();
        eprintln!(
            "credd: no session named \"{name}\".{hint} Sessions: {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        );
        return Ok(ExitCode::from(USAGE_OR_CONFIG));
    };
    let Some(managed) = &spec.managed else {
        eprintln!(
            "credd: \"{name}\" is watch-only: another tool writes it, and credd has no source keys for it. \
             Add a [[session]] for it to {} to let credd refresh it.",
            config_path(inv).0.display()
        );
        return Ok(ExitCode::from(USAGE_OR_CONFIG));
    };
    if let Some(c) = code
        && !credd::refresh::mfa::is_code(c)
    {
        eprintln!("credd: an MFA code is six digits");
        return Ok(ExitCode::from(USAGE_OR_CONFIG));
    }
    let used = Arc::new(Mutex::new(Default::default()));
    let outcome = runtime()?.block_on(run::refresh(
        name,
        managed,
        &files,
        &config,
        &ProcessEnv,
        code.map(Secret::new),
        &used,
    ));
    match outcome {
        Outcome::Refreshed { issued, stored } => {
            let exp = issued.credentials.expiration;
            match stored {
                sessions::Stored::Written => println!(
                    "{name}: refreshed (in-process; no daemon involved); key {}, expires {} (in {})",
                    credd::secret::short_key_id(&issued.credentials.access_key_id),
                    exp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    humantime::format_duration(std::time::Duration::from_secs(
                        (exp - chrono::Utc::now()).num_seconds().max(0) as u64
                    ))
                ),
                sessions::Stored::KeptNewer(t) => println!(
                    "{name}: the file already holds a session lasting longer (until {}); kept it",
                    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Outcome::NeedsMfa { serial, why } => {
            eprintln!(
                "credd: {name} needs an MFA code for {serial} ({why}); run `credd refresh {name} --code CODE`"
            );
            Ok(ExitCode::from(1))
        }
        Outcome::Failed(e) => {
            eprintln!("credd: {name}: refresh failed: {e}");
            Ok(ExitCode::from(1))
        }
    }
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
