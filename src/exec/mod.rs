//! `credd exec NAME -- CMD`: runs CMD with its SDKs pointed at a loopback endpoint that serves
//! NAME's credentials, fresh, for as long as CMD runs: the container-credentials provider every
//! SDK has is the one provider that fetches again by itself, so a three-hour job never holds
//! expired keys.
//!
//! This process serves the endpoint, not the daemon: secrets never cross the control socket. On
//! each fetch it asks the daemon to make sure the session is fresh (or, with no daemon, refreshes
//! in-process) and reads the keys from the file, exactly as `credd export` does; the caller hands
//! that in as a [`cache::Source`].
//!
//! - `request`: parsing a request head and the guards (method, Host, token, path). Pure.
//! - `cache`: what to serve, and when to fetch again. Pure decisions.
//! - `endpoint`: the listener and its answers.
//! - `child_env`: the command's environment and its config file copy. Pure.
//! - `rundir`: the token, credentials and config files, in a private directory removed at exit.
//! - `life`: signals passed on to the command, and its exit status.
//!
//! It does not decide whether a session is stale or refresh it: that is the engine's and
//! `refresh`'s, reached through the `Source`.

pub mod cache;
pub mod child_env;
pub mod endpoint;
pub mod life;
pub mod request;
pub mod rundir;

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use crate::paths::ProcessEnv;
use crate::secret::Secret;

/// What `credd exec` was asked to run.
#[derive(Debug)]
pub struct Options<'a> {
    pub session: &'a str,
    pub region: Option<&'a str>,
    pub min_ttl: Duration,
    /// The command and its arguments; never empty.
    pub command: &'a [OsString],
}

/// Why the command could not be started. Its message is for a person.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(String);

/// 256 random bits, as 64 hex digits: what an SDK sends in `Authorization`.
pub fn new_token() -> Secret {
    use aws_lc_rs::rand::SecureRandom;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new().fill(&mut bytes).expect("the system's random source works");
    Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Sets up the endpoint and its files, runs the command, and returns the exit status to end
/// with. `first` is the fetch already made (it proved the session exists). Everything this
/// created is gone when it returns.
pub fn run(
    life: &life::Life,
    opts: &Options<'_>,
    source: Arc<dyn cache::Source>,
    first: cache::Last,
) -> Result<u8, SetupError> {
    let fail = |what: &str, e: std::io::Error| SetupError(format!("{what}: {e}"));
    let runtime = crate::paths::runtime_dir(&ProcessEnv);
    let dir = rundir::RunDir::create(&runtime).map_err(|e| fail(&runtime.display().to_string(), e))?;
    life.remove_on_signal(dir.path().to_path_buf());
    let token = new_token();
    let in_dir = |e| fail(&dir.path().display().to_string(), e);
    let token_file = dir.write("token", token.expose().as_bytes()).map_err(in_dir)?;
    let credentials_file = dir.write("credentials", b"").map_err(in_dir)?;
    let user_config = crate::paths::aws_config_file(&ProcessEnv);
    let original = crate::profile::read_quiet(&user_config).unwrap_or_else(|e| {
        eprintln!("credd: {e}; the command gets an empty config file");
        None
    });
    let (config, warning) = child_env::child_config(original.as_deref(), &user_config);
    if let Some(w) = warning {
        eprintln!("credd: {w}");
    }
    let config_file = dir.write("config", &config).map_err(in_dir)?;

    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| fail("127.0.0.1", e))?;
    listener.set_nonblocking(true).map_err(|e| fail("127.0.0.1", e))?;
    let port = listener.local_addr().map_err(|e| fail("127.0.0.1", e))?.port();
    let url = format!("http://127.0.0.1:{port}{}", request::PATH);
    let endpoint = Arc::new(endpoint::Endpoint::new(port, token, opts.min_ttl, source, first));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::Builder::new()
        .name("endpoint".into())
        .spawn(move || {
            // One thread: a handful of requests a minute; fetches run on the blocking pool.
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                endpoint.serve(listener, async move { drop(stopped.await) }).await;
                Ok::<_, std::io::Error>(())
            })
        })
        .map_err(|e| fail("the endpoint's thread", e))?;

    let target = child_env::Target {
        session: opts.session,
        region: opts.region,
        url: &url,
        token_file: &token_file,
        credentials_file: &credentials_file,
        config_file: &config_file,
    };
    let changes = child_env::changes(&ProcessEnv, &target);
    let mut cmd = std::process::Command::new(&opts.command[0]);
    cmd.args(&opts.command[1..]);
    for k in &changes.remove {
        cmd.env_remove(k);
    }
    cmd.envs(changes.set.iter().map(|(k, v)| (k, v)));
    crate::sys::unblock_in_child(&mut cmd, &life::FORWARDED);
    let code = match life.spawn(&mut cmd) {
        Ok(child) => life.wait(child).map_err(|e| fail("waiting for the command", e))?,
        Err(e) => {
            eprintln!("credd: cannot run {}: {e}", opts.command[0].to_string_lossy());
            life::spawn_failure_code(&e)
        }
    };
    let _ = stop.send(());
    if let Ok(Err(e)) = server.join() {
        eprintln!("credd: the endpoint stopped: {e}");
    }
    drop(dir);
    Ok(code)
}
