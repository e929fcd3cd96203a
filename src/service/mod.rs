//! Installing credd as a service: the systemd user unit on Linux, the launchd agent on macOS.
//!
//! The checked-in files (`systemd/credd.service`, `launchd/io.github.credd.plist`) are the
//! templates; [`render`] fills in the absolute path of the running binary. An install is a
//! [`Plan`] (a file to write, directories to create, commands to run), so `--print` shows exactly
//! what a real install would do and changes nothing. An uninstall first looks for the file an
//! install writes ([`Uninstall`]): with none there, there is nothing to stop, run or remove.
//!
//! - `sdnotify`: readiness and status lines for `Type=notify`.

pub mod sdnotify;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::paths::{self, Env};

pub const SYSTEMD_TEMPLATE: &str = include_str!("../../systemd/credd.service");
pub const LAUNCHD_TEMPLATE: &str = include_str!("../../launchd/io.github.credd.plist");
const SYSTEMD_EXEC: &str = "ExecStart=%h/.cargo/bin/credd daemon";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Systemd,
    Launchd,
}

impl Kind {
    pub fn for_this_os() -> Kind {
        if cfg!(target_os = "macos") { Kind::Launchd } else { Kind::Systemd }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(
        "credd is running from {0}, inside a temporary directory: a service pointing there breaks when \
         it is cleaned up. Install credd first (`cargo install --locked --path .`), then run \
         `~/.cargo/bin/credd install-service`"
    )]
    BinaryInTempDir(PathBuf),
    #[error(
        "no systemd user instance is reachable (`systemctl --user` said: {0}). Nothing was written. \
         Without one, start `credd daemon` from your session's startup instead"
    )]
    NoSystemdUser(String),
    #[error("`{command}` failed: {stderr}")]
    CommandFailed { command: String, stderr: String },
    #[error("{path}: {source}", path = .path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot find HOME")]
    NoHome,
}

/// Everything an install or uninstall does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub kind: Kind,
    pub unit_path: PathBuf,
    /// The file to write; `None` when uninstalling (the file is removed).
    pub content: Option<String>,
    pub dirs: Vec<PathBuf>,
    pub commands: Vec<Vec<String>>,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The unit or plist for `binary`, with the template's structure intact.
pub fn render(kind: Kind, binary: &Path, home: &Path) -> String {
    match kind {
        Kind::Systemd => {
            let bin = binary.display().to_string();
            // systemd splits ExecStart on whitespace unless quoted; `%` starts a specifier.
            let bin = bin.replace('%', "%%");
            let bin = if bin.contains(char::is_whitespace) { format!("\"{bin}\"") } else { bin };
            SYSTEMD_TEMPLATE.replace(SYSTEMD_EXEC, &format!("ExecStart={bin} daemon"))
        }
        Kind::Launchd => LAUNCHD_TEMPLATE
            .replace("__CREDD__", &xml_escape(&binary.display().to_string()))
            .replace("__HOME__", &xml_escape(&home.display().to_string())),
    }
}

/// Whether `binary` is under a temp directory, where it will not outlive the install.
pub fn in_temp_dir(binary: &Path) -> bool {
    check_binary(binary).is_err()
}

/// Refuses binaries that will not outlive the install: anything under a temp directory.
fn check_binary(binary: &Path) -> Result<(), ServiceError> {
    let temp_roots =
        [std::env::temp_dir(), PathBuf::from("/tmp"), PathBuf::from("/var/tmp"), PathBuf::from("/dev/shm")];
    let in_temp = temp_roots.iter().any(|root| {
        let root = root.canonicalize().unwrap_or_else(|_| root.clone());
        binary.starts_with(&root)
    });
    if in_temp { Err(ServiceError::BinaryInTempDir(binary.to_path_buf())) } else { Ok(()) }
}

fn strings(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// The plan for installing `binary`. A binary in a temp directory is refused unless
/// `allow_temp_binary` (a dry run, which only shows the plan).
pub fn install_plan(
    kind: Kind,
    binary: &Path,
    env: &dyn Env,
    allow_temp_binary: bool,
) -> Result<Plan, ServiceError> {
    let binary = binary.canonicalize().unwrap_or_else(|_| binary.to_path_buf());
    if !allow_temp_binary {
        check_binary(&binary)?;
    }
    let home = paths::home(env).ok_or(ServiceError::NoHome)?;
    Ok(match kind {
        Kind::Systemd => {
            let dir = systemd_dir(env, &home);
            Plan {
                kind,
                unit_path: dir.join("credd.service"),
                content: Some(render(kind, &binary, &home)),
                dirs: vec![dir, home.join(".aws"), home.join(".config/credd")],
                commands: vec![
                    strings(&["systemctl", "--user", "daemon-reload"]),
                    strings(&["systemctl", "--user", "enable", "--now", "credd"]),
                ],
            }
        }
        Kind::Launchd => {
            let path = home.join("Library/LaunchAgents").join(format!("{}.plist", paths::LAUNCHD_LABEL));
            let domain = format!("gui/{}", crate::sys::uid());
            Plan {
                kind,
                content: Some(render(kind, &binary, &home)),
                dirs: vec![home.join("Library/LaunchAgents"), home.join("Library/Logs/credd")],
                commands: vec![
                    // Unload a previous version first; failure just means none was loaded.
                    vec!["launchctl".into(), "bootout".into(), format!("{domain}/{}", paths::LAUNCHD_LABEL)],
                    vec!["launchctl".into(), "bootstrap".into(), domain, path.display().to_string()],
                ],
                unit_path: path,
            }
        }
    })
}

/// What `uninstall-service` finds: the service to remove, or nothing of credd's installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uninstall {
    /// Stop, disable and remove the unit or plist.
    Remove(Plan),
    /// Nothing is at the path `install-service` writes (named here), so there is nothing to stop
    /// or remove. Uninstalling twice is not an error, but it must not claim to have done anything.
    NotInstalled(PathBuf),
}

/// What uninstalling would do, decided by whether the unit file `install-service` writes is
/// there. A dangling symlink there counts as installed: removing it is the uninstall.
pub fn uninstall_plan(kind: Kind, env: &dyn Env) -> Result<Uninstall, ServiceError> {
    let plan = removal_plan(kind, env)?;
    match std::fs::symlink_metadata(&plan.unit_path) {
        Ok(_) => Ok(Uninstall::Remove(plan)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Uninstall::NotInstalled(plan.unit_path)),
        Err(source) => Err(ServiceError::Io { path: plan.unit_path, source }),
    }
}

fn removal_plan(kind: Kind, env: &dyn Env) -> Result<Plan, ServiceError> {
    let home = paths::home(env).ok_or(ServiceError::NoHome)?;
    Ok(match kind {
        Kind::Systemd => Plan {
            kind,
            unit_path: systemd_dir(env, &home).join("credd.service"),
            content: None,
            dirs: vec![],
            commands: vec![
                strings(&["systemctl", "--user", "disable", "--now", "credd"]),
                strings(&["systemctl", "--user", "daemon-reload"]),
            ],
        },
        Kind::Launchd => Plan {
            kind,
            unit_path: home.join("Library/LaunchAgents").join(format!("{}.plist", paths::LAUNCHD_LABEL)),
            content: None,
            dirs: vec![],
            commands: vec![vec![
                "launchctl".into(),
                "bootout".into(),
                format!("gui/{}/{}", crate::sys::uid(), paths::LAUNCHD_LABEL),
            ]],
        },
    })
}

fn systemd_dir(env: &dyn Env, home: &Path) -> PathBuf {
    env.var("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".config"))
        .join("systemd/user")
}

fn run(cmd: &[String]) -> Result<(), ServiceError> {
    let out = Command::new(&cmd[0])
        .args(&cmd[1..])
        .output()
        .map_err(|e| ServiceError::CommandFailed { command: cmd.join(" "), stderr: e.to_string() })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ServiceError::CommandFailed {
            command: cmd.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Checks that `systemctl --user` can reach a user manager before anything is written.
fn check_systemd_user() -> Result<(), ServiceError> {
    match run(&strings(&["systemctl", "--user", "show-environment"])) {
        Ok(()) => Ok(()),
        Err(ServiceError::CommandFailed { stderr, .. }) => Err(ServiceError::NoSystemdUser(stderr)),
        Err(e) => Err(e),
    }
}

/// Carries out an install plan.
pub fn install(plan: &Plan) -> Result<(), ServiceError> {
    if plan.kind == Kind::Systemd {
        check_systemd_user()?;
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ServiceError::Io { path, source }
    };
    for d in &plan.dirs {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    if let Some(content) = &plan.content {
        std::fs::write(&plan.unit_path, content).map_err(io(&plan.unit_path))?;
    }
    for (i, cmd) in plan.commands.iter().enumerate() {
        let is_unload = plan.kind == Kind::Launchd && i == 0;
        match run(cmd) {
            Err(_) if is_unload => {}
            other => other?,
        }
    }
    Ok(())
}

/// Carries out an uninstall plan: stop, disable, remove the file. Config and credentials stay.
/// The plan exists only when the file did ([`uninstall_plan`]); if it vanished since, someone
/// else removed it, which is the end this was after, so that is not worth a note.
pub fn uninstall(plan: &Plan) -> Result<Vec<String>, ServiceError> {
    let mut notes = Vec::new();
    let reachable = plan.kind != Kind::Systemd || check_systemd_user().is_ok();
    if reachable {
        if let Some(stop) = plan.commands.first()
            && let Err(e) = run(stop)
        {
            notes.push(format!("{e} (it may not have been running)"));
        }
    } else {
        notes.push("no systemd user instance is reachable; only the unit file is removed".into());
    }
    match std::fs::remove_file(&plan.unit_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(ServiceError::Io { path: plan.unit_path.clone(), source }),
    }
    if reachable {
        for cmd in plan.commands.iter().skip(1) {
            run(cmd)?;
        }
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(home: &str) -> HashMap<String, String> {
        [("HOME".to_string(), home.to_string())].into()
    }

    #[test]
    fn systemd_render_points_at_the_binary() {
        let unit = render(Kind::Systemd, Path::new("/opt/credd/bin/credd"), Path::new("/h"));
        assert!(unit.contains("\nExecStart=/opt/credd/bin/credd daemon\n"));
        assert!(!unit.contains(SYSTEMD_EXEC));
        let unit = render(Kind::Systemd, Path::new("/opt/my apps/credd"), Path::new("/h"));
        assert!(unit.contains("ExecStart=\"/opt/my apps/credd\" daemon"));
        assert_eq!(unit.lines().count(), SYSTEMD_TEMPLATE.lines().count());
    }

    #[test]
    fn launchd_render_fills_every_placeholder() {
        let plist = render(Kind::Launchd, Path::new("/Users/a/.cargo/bin/credd"), Path::new("/Users/a&b"));
        assert!(!plist.contains("__"));
        assert!(plist.contains("<string>/Users/a/.cargo/bin/credd</string>"));
        assert!(plist.contains("/Users/a&amp;b/Library/Logs/credd/credd.log"));
    }

    #[test]
    fn binaries_in_temp_dirs_are_refused() {
        let e = install_plan(Kind::Systemd, Path::new("/tmp/x/credd"), &env("/h"), false).unwrap_err();
        assert!(e.to_string().contains("inside a temporary directory"), "{e}");
        assert!(install_plan(Kind::Systemd, Path::new("/tmp/x/credd"), &env("/h"), true).is_ok());
        let p = install_plan(Kind::Systemd, Path::new("/usr/local/bin/credd"), &env("/h"), false).unwrap();
        assert_eq!(p.unit_path, PathBuf::from("/h/.config/systemd/user/credd.service"));
        assert_eq!(p.commands[1], ["systemctl", "--user", "enable", "--now", "credd"]);
    }

    #[test]
    fn an_uninstall_plan_only_when_the_unit_file_is_there() {
        let t = tempfile::tempdir().unwrap();
        let env = env(&t.path().display().to_string());
        let unit = t.path().join(".config/systemd/user/credd.service");
        assert_eq!(uninstall_plan(Kind::Systemd, &env).unwrap(), Uninstall::NotInstalled(unit.clone()));
        std::fs::create_dir_all(unit.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(t.path().join("gone"), &unit).unwrap();
        let Uninstall::Remove(plan) = uninstall_plan(Kind::Systemd, &env).unwrap() else {
            panic!("a dangling link where the unit goes is an install to remove");
        };
        assert_eq!(plan.unit_path, unit);
        assert_eq!(plan.commands[0], ["systemctl", "--user", "disable", "--now", "credd"]);
    }

    #[test]
    fn launchd_plan_bootstraps_into_the_gui_domain() {
        let p =
            install_plan(Kind::Launchd, Path::new("/usr/local/bin/credd"), &env("/Users/a"), false).unwrap();
        assert_eq!(p.unit_path, PathBuf::from("/Users/a/Library/LaunchAgents/io.github.credd.plist"));
        assert!(p.dirs.contains(&PathBuf::from("/Users/a/Library/Logs/credd")));
        assert_eq!(p.commands[1][..2], ["launchctl", "bootstrap"]);
        assert!(p.commands[1][2].starts_with("gui/"));
    }
}
