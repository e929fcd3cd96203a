//! `credd daemon`: the long-running process. One task owns the [`engine::Engine`] and waits, in
//! one `select!`, for the earliest of: the next deadline (a wall-clock timer), a file change, a
//! finished refresh, a signal, or shutdown. It wakes only when something is due or something
//! changed, so an idle daemon costs nothing.
//!
//! - `engine`: the state and every decision about it.
//! - `wallclock`: sleeping until a wall-clock instant (suspend- and clock-jump-safe).
//! - `instance`: one daemon per user.

pub mod engine;
pub mod instance;
pub mod wallclock;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::paths::ProcessEnv;
use crate::profile::{Document, FileKind, Loaded, read_document};
use crate::refresh::mfa::UsedCodes;
use crate::refresh::run::{self, AwsFiles, Outcome};
use crate::watch::{WatchPlan, Watcher};
use engine::Engine;

/// How long to wait after a file event for the burst to settle (editors write several events).
const DEBOUNCE: Duration = Duration::from_millis(50);
/// On shutdown, how long in-flight refreshes get to finish their write. Writes are atomic, so
/// one cut short loses nothing; this only avoids throwing away a session STS already issued.
const DRAIN: Duration = Duration::from_millis(1500);

pub struct Options {
    pub config_path: PathBuf,
    /// The user named the config file: it must exist.
    pub config_explicit: bool,
    pub runtime_dir: PathBuf,
    pub files: AwsFiles,
    pub host_user: (String, String),
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Config(Vec<crate::config::ConfigError>),
    #[error(transparent)]
    Instance(#[from] instance::InstanceError),
    #[error("cannot set up {what}: {source}")]
    Setup {
        what: &'static str,
        source: std::io::Error,
    },
}

/// Reads both AWS files. A file that cannot be parsed is reported (path, line, fix) and its last
/// good reading kept, so the daemon keeps serving every session it can.
fn read_files(files: &AwsFiles, previous: Option<&Loaded>) -> Loaded {
    let read = |path: &Path, kind, prev: Option<&Document>| match read_document(path, kind) {
        Ok(doc) => doc,
        Err(e) => {
            tracing::error!("{e}");
            prev.cloned()
        }
    };
    Loaded {
        config: read(
            &files.config,
            FileKind::Config,
            previous.and_then(|p| p.config.as_ref()),
        ),
        credentials: read(
            &files.credentials,
            FileKind::Credentials,
            previous.and_then(|p| p.credentials.as_ref()),
        ),
    }
}

fn watch_plan(files: &AwsFiles, config_path: &Path) -> WatchPlan {
    WatchPlan::for_files([
        files.config.as_path(),
        files.credentials.as_path(),
        config_path,
    ])
}

/// Runs until `shutdown` completes or SIGTERM/SIGINT arrives.
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    let config =
        Config::load(&opts.config_path, opts.config_explicit).map_err(DaemonError::Config)?;
    let _instance = instance::acquire(&opts.runtime_dir)?;
    let setup = |what| move |source| DaemonError::Setup { what, source };
    let mut hup = signal(SignalKind::hangup()).map_err(setup("signal handling"))?;
    let mut term = signal(SignalKind::terminate()).map_err(setup("signal handling"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(setup("signal handling"))?;
    let timer = wallclock::WallTimer::new().map_err(setup("the wall-clock timer"))?;

    let files = opts.files.clone();
    let mut loaded = read_files(&files, None);
    let mut engine = Engine::new(config, opts.host_user.clone());
    let now = Utc::now();
    match &engine.config.path {
        Some(p) if p.exists() => tracing::info!(
            "credd {} started; config {}",
            env!("CARGO_PKG_VERSION"),
            p.display()
        ),
        _ => tracing::info!(
            "credd {} started with no config file ({} does not exist): tracking what is in {}",
            env!("CARGO_PKG_VERSION"),
            opts.config_path.display(),
            files.credentials.display()
        ),
    }
    engine.reconcile(&loaded, now);
    tracing::info!("{}", engine.summary(now));

    let (change_tx, mut change_rx) = mpsc::unbounded_channel();
    let mut watcher =
        Watcher::new(watch_plan(&files, &opts.config_path), change_tx).map_err(|e| {
            DaemonError::Setup {
                what: "file watching",
                source: std::io::Error::other(e),
            }
        })?;

    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, Outcome)>();
    let used = Arc::new(Mutex::new(UsedCodes::default()));
    let mut in_flight = 0usize;
    tokio::pin!(shutdown);

    loop {
        let now = Utc::now();
        for name in engine.due(now) {
            let Some(managed) = engine.sessions[&name].spec.managed.clone() else {
                continue;
            };
            engine.start(&name);
            in_flight += 1;
            tracing::debug!("{name}: refreshing");
            let (done, files, config, used) = (
                done_tx.clone(),
                files.clone(),
                engine.config.clone(),
                used.clone(),
            );
            tokio::spawn(async move {
                let outcome =
                    run::refresh(&name, &managed, &files, &config, &ProcessEnv, None, &used).await;
                let _ = done.send((name, outcome));
            });
        }
        let wake = engine.next_wake();
        tokio::select! {
            _ = wallclock::sleep_until(&timer, wake) => {}
            Some(()) = change_rx.recv() => {
                // Let the burst settle, then take everything that queued up as one change.
                tokio::time::sleep(DEBOUNCE).await;
                while change_rx.try_recv().is_ok() {}
                let now = Utc::now();
                let reloaded = reload_config(&opts, &engine);
                loaded = read_files(&files, Some(&loaded));
                match reloaded {
                    Some(config) => engine.set_config(config, &loaded, now),
                    None => engine.reconcile(&loaded, now),
                }
                watcher.update(watch_plan(&files, &opts.config_path));
            }
            Some((name, outcome)) = done_rx.recv() => {
                in_flight -= 1;
                engine.finish(&name, outcome, Utc::now(), fastrand::f64());
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading the configuration");
                if let Some(config) = reload_config(&opts, &engine).or_else(|| Some(engine.config.clone())) {
                    loaded = read_files(&files, Some(&loaded));
                    engine.set_config(config, &loaded, Utc::now());
                }
            }
            _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: shutting down"); break; }
            _ = &mut shutdown => { tracing::info!("shutting down"); break; }
        }
    }
    if in_flight > 0 {
        tracing::info!("waiting for {in_flight} refresh(es) in flight to finish writing");
        let drain = async {
            while in_flight > 0 {
                match done_rx.recv().await {
                    Some((name, outcome)) => {
                        in_flight -= 1;
                        engine.finish(&name, outcome, Utc::now(), fastrand::f64());
                    }
                    None => break,
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN, drain).await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Loads the config again if it changed. A broken config is reported and the old one kept: the
/// daemon keeps serving.
fn reload_config(opts: &Options, engine: &Engine) -> Option<Config> {
    match Config::load(&opts.config_path, opts.config_explicit) {
        Ok(c) if c != engine.config => {
            tracing::info!("configuration reloaded from {}", opts.config_path.display());
            Some(c)
        }
        Ok(_) => None,
        Err(errors) => {
            for e in errors {
                tracing::error!("{e}; keeping the previous configuration");
            }
            None
        }
    }
}
