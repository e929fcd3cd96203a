//! `credd daemon`: the long-running process. One task owns the [`Engine`] and waits, in one
//! `select!`, for the earliest of: the next deadline (a wall-clock timer), a file change, a
//! finished refresh, a control request (the inbox), a signal, shutdown, or (once, two seconds
//! after a run of status requests) the moment to hand their memory back. It wakes only when
//! something is due or something changed, so an idle daemon costs nothing.
//!
//! This file does the I/O the engine's answers ask for: reading files, spawning refreshes, replying
//! to waiting clients, touching generation stamps, sending notifications. It decides nothing about
//! a session itself.
//!
//! - `wallclock`: sleeping until a wall-clock instant (suspend- and clock-jump-safe).
//! - `instance`: one daemon per runtime directory and per credentials file.

pub mod instance;
pub mod wallclock;

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

use crate::alerts::Alerts;
use crate::config::Config;
use crate::engine::{Begin, Engine, Export, Refusal};
use crate::files::{AwsFiles, Loaded};
use crate::inbox::Control;
use crate::ipc::server;
use crate::notify::Notifier;
use crate::paths::ProcessEnv;
use crate::protocol::{RefreshResult, Reply, Status};
use crate::refresh::mfa::UsedCodes;
use crate::refresh::run::{self, Outcome};
use crate::secret::Secret;
use crate::sessions::Host;
use crate::sessions::SessionSpec;
use crate::watch::{WatchPlan, Watcher};

/// How long to wait after a file event for the burst to settle (editors write several events,
/// within a few milliseconds of each other). Short, because it is the floor on how soon an outside
/// edit shows; a burst that outlasts it costs one more reading, never a torn one (reads are quiet).
const DEBOUNCE: Duration = Duration::from_millis(25);
/// On shutdown, how long in-flight refreshes get to finish their write. Writes are atomic, so
/// one cut short loses nothing; this only avoids throwing away a session STS already issued.
const DRAIN: Duration = Duration::from_millis(1500);
/// How long after the last status request its freed memory is handed back to the system. A run
/// of requests (a prompt, `watch credd status`, a script) reuses it instead of page-faulting a
/// few MB in afresh each time, which was half of `status --json`'s time with 5,000 sessions.
const STATUS_TRIM: Duration = Duration::from_secs(2);

pub struct Options {
    pub config_path: PathBuf,
    /// The user named the config file: it must exist.
    pub config_explicit: bool,
    pub runtime_dir: PathBuf,
    /// `--socket` or `CREDD_SOCKET`, if given; otherwise the config's or the default.
    pub socket_override: Option<PathBuf>,
    pub files: AwsFiles,
    pub host_user: crate::sessions::Host,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Config(Vec<crate::config::ConfigError>),
    #[error(transparent)]
    Instance(#[from] instance::InstanceError),
    #[error(transparent)]
    Socket(#[from] server::BindError),
    #[error("cannot set up {what}: {source}")]
    Setup { what: &'static str, source: std::io::Error },
}

/// One reading of every file the config names, keeping the last good reading of a broken one.
fn read_files(files: &AwsFiles, previous: Option<&Loaded>, config: &Config, host: &Host) -> Loaded {
    let env_paths = crate::sessions::SessionSpec::env_paths(config);
    let mut loaded = files.read_keeping(previous, env_paths.iter().map(PathBuf::as_path));
    host.read_caches(&mut loaded);
    loaded
}

/// The files to watch: both AWS files, credd's config, the env files it names, the kept tokens'
/// cache files in the last reading (`aws sso login` rewrites them), and the
/// paths sessions stuck on a local error wait for (a chmod of a directory is an event there).
fn watch_plan(
    files: &AwsFiles,
    config_path: &Path,
    config: &Config,
    loaded: Option<&Loaded>,
    blocked: &[PathBuf],
) -> WatchPlan {
    let env = crate::sessions::SessionSpec::env_paths(config);
    let fixed = [files.config.as_path(), files.credentials.as_path(), config_path];
    let tokens = loaded.into_iter().flat_map(Loaded::token_caches);
    let waits = blocked.iter().map(PathBuf::as_path);
    WatchPlan::for_files(fixed.into_iter().chain(env.iter().map(PathBuf::as_path)).chain(tokens).chain(waits))
}

/// A path's device, inode, mode, owner and change time.
type Probe = (u64, u64, u32, u32, i64, i64);

/// What a path looks like now, as far as a permission or a file-versus-directory problem goes:
/// any change to it is worth one more try of the sessions waiting for it.
fn probe(path: &Path) -> Option<Probe> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino(), m.mode(), m.uid(), m.ctime(), m.ctime_nsec()))
}

/// The loop's state besides the engine: refreshes in flight and who waits for them.
struct Runner {
    engine: Engine,
    files: AwsFiles,
    loaded: Loaded,
    opts: Options,
    socket: PathBuf,
    started_at: DateTime<Utc>,
    used: Arc<Mutex<UsedCodes>>,
    done_tx: mpsc::UnboundedSender<(String, Outcome)>,
    in_flight: usize,
    waiters: HashMap<String, Vec<oneshot::Sender<RefreshResult>>>,
    alerts: Alerts,
    notifier: Notifier,
    /// The paths sessions stuck on a local error wait for, as they looked when that was seen.
    blocked: HashMap<PathBuf, Option<Probe>>,
}

impl Runner {
    /// Runs the refresh the engine started for `spec` in a task.
    fn spawn(&mut self, spec: Box<SessionSpec>, code: Option<Secret>) {
        self.in_flight += 1;
        let (done, files, config, used) =
            (self.done_tx.clone(), self.files.clone(), self.engine.config().clone(), self.used.clone());
        tokio::spawn(async move {
            let outcome = run::refresh(&spec, &files, &config, &ProcessEnv, code, &used).await;
            let _ = done.send((spec.name, outcome));
        });
    }

    /// Records a finished refresh and answers its waiters. Says whether the paths sessions wait
    /// for changed (the watches follow them).
    fn finish(&mut self, name: String, outcome: Outcome) -> bool {
        self.in_flight -= 1;
        let now = Utc::now();
        self.engine.finish(&name, outcome, now, fastrand::f64());
        for w in self.waiters.remove(&name).unwrap_or_default() {
            let _ = w.send(self.engine.result(&name, now));
        }
        self.sync_blocked(false)
    }

    /// Keeps `blocked` in step with the engine: with `retry_changed`, a path that changed since
    /// it was seen retries the sessions waiting for it; a path newly waited for is probed as it
    /// is now. Says whether the set of paths changed.
    fn sync_blocked(&mut self, retry_changed: bool) -> bool {
        if retry_changed {
            let now = Utc::now();
            let changed: Vec<PathBuf> =
                self.blocked.iter().filter(|(p, seen)| probe(p) != **seen).map(|(p, _)| p.clone()).collect();
            for p in &changed {
                self.engine.unblock(p, now);
            }
        }
        let paths = self.engine.blocked_paths();
        let before = self.blocked.len();
        self.blocked.retain(|p, _| paths.contains(p));
        let mut grew = false;
        for p in paths {
            self.blocked.entry(p).or_insert_with_key(|p| {
                grew = true;
                probe(p)
            });
        }
        grew || self.blocked.len() != before
    }

    /// The paths sessions wait for, for the watch plan.
    fn blocked_paths(&self) -> Vec<PathBuf> {
        self.blocked.keys().cloned().collect()
    }

    fn files_changed(&mut self) {
        let now = Utc::now();
        let reloaded = reload_config(&self.opts, &self.engine);
        // The env files to read are the ones the *new* config names.
        let config = match &reloaded {
            Ok(Some(c)) => c,
            _ => self.engine.config(),
        };
        self.loaded = read_files(&self.files, Some(&self.loaded), config, &self.opts.host_user);
        match reloaded {
            Ok(Some(config)) => self.engine.set_config(config, &self.loaded, now),
            _ => self.engine.reconcile(&self.loaded, now),
        }
        self.sync_blocked(true);
    }

    /// Starts (or joins) a refresh of `name` and returns where its result will arrive.
    fn refresh(
        &mut self,
        name: &str,
        code: Option<Secret>,
    ) -> Result<oneshot::Receiver<RefreshResult>, Refusal> {
        if let Begin::Start(spec) = self.engine.begin(name, code.is_some())? {
            self.spawn(spec, code);
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.entry(name.to_string()).or_default().push(tx);
        Ok(rx)
    }

    fn control(&mut self, c: Control) {
        match c {
            Control::Status(reply) => {
                self.engine.prune_shells(|pid| crate::sys::process_alive(pid as i32));
                let sessions = self.engine.status(Utc::now());
                let _ = reply.send(Reply::Status(Status {
                    started_at: self.started_at,
                    config_path: self.opts.config_path.display().to_string(),
                    files: vec![
                        self.files.credentials.display().to_string(),
                        self.files.config.display().to_string(),
                        self.opts.config_path.display().to_string(),
                    ],
                    sessions,
                }));
            }
            Control::Refresh { name, reply } => {
                let names = match name {
                    Some(n) => vec![n],
                    None => self.engine.managed_names(),
                };
                let mut pending = Vec::new();
                for n in &names {
                    match self.refresh(n, None) {
                        Ok(rx) => pending.push(rx),
                        Err(why) => {
                            let _ = reply.send(refused(why));
                            return;
                        }
                    }
                }
                reply_when_done(pending, reply);
            }
            Control::Mfa { name, code, reply } => {
                // A role waiting for its source session's code hands the code to that session.
                let name = self.engine.mfa_target(&name);
                tracing::info!("{name}: MFA code received from the control socket");
                match self.refresh(&name, Some(code)) {
                    Ok(rx) => reply_when_done(vec![rx], reply),
                    Err(why) => {
                        let _ = reply.send(refused(why));
                    }
                }
            }
            Control::Export { name, min_ttl, reply } => self.export(&name, min_ttl, reply),
            Control::RegisterShell(shell, reply) => {
                self.engine.register_shell(shell);
                let _ = reply.send(Reply::Registered);
            }
            Control::Reload(reply) => {
                tracing::info!("reload requested over the control socket");
                let errors = match reload_config(&self.opts, &self.engine) {
                    Ok(c) => {
                        let config = c.unwrap_or_else(|| self.engine.config().clone());
                        self.loaded =
                            read_files(&self.files, Some(&self.loaded), &config, &self.opts.host_user);
                        self.engine.set_config(config, &self.loaded, Utc::now());
                        self.sync_blocked(true);
                        Vec::new()
                    }
                    Err(errors) => errors,
                };
                let _ = reply.send(Reply::Reloaded { errors });
            }
        }
    }
}

impl Runner {
    /// Opens, escalates and closes incidents after a change, and sends what they say.
    /// Returns the views it judged, which the loop reuses for its next deadline.
    fn alert(&mut self) -> Vec<crate::alerts::SessionView> {
        for name in self.engine.changed_generations() {
            crate::hooks::touch_generation(&self.opts.runtime_dir, &name);
        }
        let n = &self.engine.config().notify;
        let (warn_before, recovered) = (n.warn_before, n.recovered);
        self.notifier.set_config(n.clone());
        self.engine.prune_shells(|pid| crate::sys::process_alive(pid as i32));
        let views = self.engine.alert_views();
        for note in self.alerts.evaluate(&views, Utc::now(), warn_before, recovered) {
            self.notifier.send(note);
        }
        views
    }

    /// The earliest of the engine's next action and the next alert deadline.
    fn next_wake(&self, views: &[crate::alerts::SessionView]) -> Option<DateTime<Utc>> {
        let alert = self.alerts.next_deadline(views, Utc::now(), self.engine.config().notify.warn_before);
        match (self.engine.next_wake(), alert) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Runner {
    /// Answers `export`: refreshes first when the engine says so (joining a refresh already in
    /// flight, so concurrent callers cause one STS call), then says where the credentials are.
    fn export(&mut self, name: &str, min_ttl: Option<std::time::Duration>, reply: oneshot::Sender<Reply>) {
        let location = match self.engine.export(name, min_ttl, Utc::now(), &self.files.credentials) {
            Ok(Export::Ready(location)) => {
                let _ = reply.send(Reply::Exported(location));
                return;
            }
            Ok(Export::RefreshFirst(location)) => location,
            Err(why) => {
                let _ = reply.send(refused(why));
                return;
            }
        };
        let rx = match self.refresh(name, None) {
            Ok(rx) => rx,
            Err(why) => {
                let _ = reply.send(refused(why));
                return;
            }
        };
        tokio::spawn(async move {
            let Ok(result) = rx.await else { return };
            let _ = reply.send(match Engine::exported(location, result, Utc::now()) {
                Ok(location) => Reply::Exported(location),
                Err(why) => refused(why),
            });
        });
    }
}

fn refused(why: Refusal) -> Reply {
    Reply::Error { code: why.code(), message: why.to_string() }
}

fn reply_when_done(pending: Vec<oneshot::Receiver<RefreshResult>>, reply: oneshot::Sender<Reply>) {
    tokio::spawn(async move {
        let mut results = Vec::new();
        for rx in pending {
            if let Ok(r) = rx.await {
                results.push(r);
            }
        }
        let _ = reply.send(Reply::Refreshed { results });
    });
}

/// Runs until `shutdown` completes or SIGTERM/SIGINT arrives.
pub async fn run(opts: Options, shutdown: impl Future<Output = ()>) -> Result<(), DaemonError> {
    let config = Config::load(&opts.config_path, opts.config_explicit).map_err(DaemonError::Config)?;
    let _instance = instance::acquire(&opts.runtime_dir, &opts.files.credentials)?;
    let socket =
        crate::paths::socket_path(opts.socket_override.as_deref(), &ProcessEnv, config.socket.as_deref());
    let listener = server::bind(&socket)?;
    let setup = |what| move |source| DaemonError::Setup { what, source };
    let mut hup = signal(SignalKind::hangup()).map_err(setup("signal handling"))?;
    let mut term = signal(SignalKind::terminate()).map_err(setup("signal handling"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(setup("signal handling"))?;
    let timer = wallclock::WallTimer::new().map_err(setup("the wall-clock timer"))?;

    let files = opts.files.clone();
    // Watch before the first read: an edit that lands between the two is then seen, not lost.
    let (change_tx, mut change_rx) = mpsc::unbounded_channel();
    let mut watcher = Watcher::new(watch_plan(&files, &opts.config_path, &config, None, &[]), change_tx)
        .map_err(|e| DaemonError::Setup { what: "file watching", source: std::io::Error::other(e) })?;
    let loaded = read_files(&files, None, &config, &opts.host_user);
    // The SSO cache files are known once the config file is read; watch them from here.
    watcher.update(watch_plan(&files, &opts.config_path, &config, Some(&loaded), &[]));
    let (control_tx, mut control_rx) = mpsc::channel(256);
    let notifier = Notifier::new(config.notify.clone(), control_tx.clone());
    let engine = Engine::new(config, opts.host_user.clone());
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut r = Runner {
        engine,
        files: files.clone(),
        loaded,
        socket,
        started_at: Utc::now(),
        used: Arc::new(Mutex::new(UsedCodes::default())),
        done_tx,
        in_flight: 0,
        waiters: HashMap::new(),
        alerts: Alerts::default(),
        notifier,
        opts,
        blocked: HashMap::new(),
    };
    match &r.engine.config().path {
        Some(p) => tracing::info!("credd {} started; config {}", env!("CARGO_PKG_VERSION"), p.display()),
        None => tracing::info!(
            "credd {} started with no config file ({} does not exist): tracking what is in {}",
            env!("CARGO_PKG_VERSION"),
            r.opts.config_path.display(),
            files.credentials.display()
        ),
    }
    let now = Utc::now();
    r.engine.reconcile(&r.loaded, now);
    crate::sys::release_free_memory();
    tracing::info!("listening on {}; {}", r.socket.display(), r.engine.summary(now));

    let server_task = tokio::spawn(server::serve(listener, control_tx));
    tokio::pin!(shutdown);
    // The socket is bound and served and the first scan is done: tell systemd we are ready.
    let sd = crate::service::sdnotify::Notifier::from_env();
    let mut last_summary = r.engine.summary(now);
    sd.send(&format!("READY=1\nSTATUS={last_summary}"));

    // The pass over every session (refreshes due, alerts, the next wake) is needed after
    // anything that can change a session, and when its wake comes; a status request changes
    // nothing, so a run of them (a prompt, a script, thousands of sessions) skips it.
    let (mut stale, mut wake) = (true, None);
    let mut trim_at: Option<tokio::time::Instant> = None;
    // When the last burst of file events settles, the files are read again. A deadline, not a
    // sleep in the loop: a refresh that finishes meanwhile is answered at once, not after the
    // debounce and a re-read of its own write.
    let mut reread_at: Option<tokio::time::Instant> = None;
    loop {
        if stale {
            for name in r.engine.due(Utc::now()) {
                if let Ok(Begin::Start(spec)) = r.engine.begin(&name, false) {
                    r.spawn(spec, None);
                }
            }
            let views = r.alert();
            wake = r.next_wake(&views);
        }
        stale = true;
        tokio::select! {
            // Finished refreshes first: their waiting clients are answered before anything else.
            biased;
            Some((name, outcome)) = done_rx.recv() => {
                if r.finish(name, outcome) {
                    watcher.update(watch_plan(&files, &r.opts.config_path, r.engine.config(), Some(&r.loaded), &r.blocked_paths()));
                }
            }
            Some(()) = change_rx.recv() => {
                // Let the burst settle (events that come meanwhile join it), then read once.
                stale = false;
                reread_at.get_or_insert_with(|| tokio::time::Instant::now() + DEBOUNCE);
            }
            _ = tokio::time::sleep_until(reread_at.unwrap_or_else(tokio::time::Instant::now)), if reread_at.is_some() => {
                reread_at = None;
                while change_rx.try_recv().is_ok() {}
                r.files_changed();
                watcher.update(watch_plan(&files, &r.opts.config_path, r.engine.config(), Some(&r.loaded), &r.blocked_paths()));
            }
            _ = wallclock::sleep_until(&timer, wake) => {}
            _ = tokio::time::sleep_until(trim_at.unwrap_or_else(tokio::time::Instant::now)), if trim_at.is_some() => {
                // Nothing changed; the trim below hands back what the last status freed.
                stale = false;
                trim_at = None;
                crate::sys::release_free_memory();
            }
            Some(c) = control_rx.recv() => {
                stale = !matches!(c, Control::Status(_));
                if !stale {
                    trim_at = Some(tokio::time::Instant::now() + STATUS_TRIM);
                }
                r.control(c);
                // Let the server task send the reply before this loop's next pass over every
                // session (due, alerts): a client should not wait for bookkeeping.
                tokio::task::yield_now().await;
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading the configuration");
                r.control(Control::Reload(oneshot::channel().0));
            }
            _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); break; }
            _ = int.recv() => { tracing::info!("SIGINT: shutting down"); break; }
            _ = &mut shutdown => { tracing::info!("shutting down"); break; }
        }
        // Keep `systemctl --user status credd` current, but only say something when it changed.
        let summary = r.engine.summary(Utc::now());
        if summary != last_summary {
            sd.send(&format!("STATUS={summary}"));
            last_summary = summary;
        }
        // Whatever this turn read or resolved is freed by now; give the free pages back before
        // sleeping, so that the daemon's footprint between events is what it keeps. A status
        // turn keeps them for the next status, until STATUS_TRIM has passed; a trim here hands
        // those back too, so a pending STATUS_TRIM would only repeat it.
        if stale {
            crate::sys::release_free_memory();
            trim_at = None;
        }
    }
    sd.send("STOPPING=1");
    server_task.abort();
    let _ = std::fs::remove_file(&r.socket);
    if r.in_flight > 0 {
        tracing::info!("waiting for {} refresh(es) in flight to finish writing", r.in_flight);
        let drain = async {
            while r.in_flight > 0 {
                match done_rx.recv().await {
                    Some((name, outcome)) => {
                        r.finish(name, outcome);
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

/// Loads the config again. `Ok(None)`: unchanged. A broken config is reported, and the old one
/// kept: the daemon keeps serving.
fn reload_config(opts: &Options, engine: &Engine) -> Result<Option<Config>, Vec<String>> {
    match Config::load(&opts.config_path, opts.config_explicit) {
        Ok(c) if c != *engine.config() => {
            tracing::info!("configuration reloaded from {}", opts.config_path.display());
            Ok(Some(c))
        }
        Ok(_) => Ok(None),
        Err(errors) => {
            for e in &errors {
                tracing::error!("{e}; keeping the previous configuration");
            }
            Err(errors.iter().map(ToString::to_string).collect())
        }
    }
}
