//! Installing credd as a service: the systemd user unit on Linux, the launchd agent on macOS.
//!
//! The checked-in files (`systemd/credd.service`, `launchd/io.github.credd.plist`) are the
//! templates; [`render`] fills in the absolute path of the running binary. The systemd file is
//! also, as it stands, the unit the Debian package installs for every user (it runs
//! `/usr/bin/credd`), so the package and `install-service` cannot drift apart. An install is a
//! [`Plan`] (what to do with the unit file, directories to create, commands to run), so `--print`
//! shows exactly what a real install would do and changes nothing.
//!
//! When a package has installed the unit for every user ([`packaged_unit`]), installing only
//! enables it for this user and uninstalling only disables it: a second copy in
//! `~/.config/systemd/user` would shadow the package's, and outlive its upgrades. An uninstall
//! otherwise first looks for the file an install writes ([`Uninstall`]): with none there, there
//! is nothing to stop, run or remove.
//!
//! - `sdnotify`: readiness and status lines for `Type=notify`.

pub mod sdnotify;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::paths::{self, Env};

pub const SYSTEMD_TEMPLATE: &str = include_str!("../../systemd/credd.service");
pub const LAUNCHD_TEMPLATE: &str = include_str!("../../launchd/io.github.credd.plist");
/// The template's own ExecStart line: the packaged binary's path, replaced by [`render`].
const SYSTEMD_EXEC: &str = "ExecStart=/usr/bin/credd daemon";
/// Where a package (or an administrator) puts a user unit for every user, in systemd's order of
/// precedence among the system-wide directories (systemd.unit(5)).
const PACKAGED_UNIT_DIRS: [&str; 3] =
    ["/etc/systemd/user", "/usr/local/lib/systemd/user", "/usr/lib/systemd/user"];
/// Replaces [`PACKAGED_UNIT_DIRS`] (a `:`-separated list), so tests can stand in for a package
/// without installing one, and keep a package on the test machine from changing their answers.
pub const PACKAGED_UNIT_DIRS_VAR: &str = "CREDD_PACKAGED_UNIT_DIRS";

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
    pub file: UnitFile,
    pub dirs: Vec<PathBuf>,
    pub commands: Vec<Vec<String>>,
    /// Worth telling the user before the plan runs (or with `--print`); they change nothing.
    pub notes: Vec<String>,
}

/// What a plan does with the file at `unit_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitFile {
    /// Write this unit or plist (an install without a package).
    Write(String),
    /// Remove it (an uninstall of what `install-service` wrote).
    Remove,
    /// Leave it alone: a package installed it for every user, and only this user's enabling
    /// changes.
    Packaged,
}

/// The unit a package installed for every user, if there is one.
pub fn packaged_unit(env: &dyn Env) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = match env.var(PACKAGED_UNIT_DIRS_VAR) {
        Some(list) => std::env::split_paths(&list).filter(|d| !d.as_os_str().is_empty()).collect(),
        None => PACKAGED_UNIT_DIRS.iter().map(PathBuf::from).collect(),
    };
    dirs.into_iter().map(|d| d.join("credd.service")).find(|unit| unit.symlink_metadata().is_ok())
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

/// The plan for installing `binary`: with a packaged unit, enabling that one (whichever binary
/// asks, since the package's unit runs the package's binary); otherwise writing a unit for
/// `binary`. A binary in a temp directory is then refused unless `allow_temp_binary` (a dry run,
/// which only shows the plan).
pub fn install_plan(
    kind: Kind,
    binary: &Path,
    env: &dyn Env,
    allow_temp_binary: bool,
) -> Result<Plan, ServiceError> {
    let home = paths::home(env).ok_or(ServiceError::NoHome)?;
    let enable = vec![
        // A unit the package added since the user manager started is found only after a reload.
        strings(&["systemctl", "--user", "daemon-reload"]),
        strings(&["systemctl", "--user", "enable", "--now", "credd"]),
    ];
    if kind == Kind::Systemd
        && let Some(packaged) = packaged_unit(env)
    {
        let own = systemd_dir(env, &home).join("credd.service");
        let notes = match own.symlink_metadata() {
            Ok(_) => vec![format!(
                "{} (from an earlier `credd install-service`) overrides the packaged unit, so systemd \
                 runs that one: `credd uninstall-service` removes it, then run `credd install-service` again",
                own.display()
            )],
            Err(_) => vec![],
        };
        return Ok(Plan {
            kind,
            unit_path: packaged,
            file: UnitFile::Packaged,
            dirs: vec![home.join(".aws"), home.join(".config/credd")],
            commands: enable,
            notes,
        });
    }
    let binary = binary.canonicalize().unwrap_or_else(|_| binary.to_path_buf());
    if !allow_temp_binary {
        check_binary(&binary)?;
    }
    Ok(match kind {
        Kind::Systemd => {
            let dir = systemd_dir(env, &home);
            Plan {
                kind,
                unit_path: dir.join("credd.service"),
                file: UnitFile::Write(render(kind, &binary, &home)),
                dirs: vec![dir, home.join(".aws"), home.join(".config/credd")],
                commands: enable,
                notes: vec![],
            }
        }
        Kind::Launchd => {
            let path = home.join("Library/LaunchAgents").join(format!("{}.plist", paths::LAUNCHD_LABEL));
            let domain = format!("gui/{}", crate::sys::uid());
            Plan {
                kind,
                file: UnitFile::Write(render(kind, &binary, &home)),
                dirs: vec![home.join("Library/LaunchAgents"), home.join("Library/Logs/credd")],
                commands: vec![
                    // Unload a previous version first; failure just means none was loaded.
                    vec!["launchctl".into(), "bootout".into(), format!("{domain}/{}", paths::LAUNCHD_LABEL)],
                    vec!["launchctl".into(), "bootstrap".into(), domain, path.display().to_string()],
                ],
                unit_path: path,
                notes: vec![],
            }
        }
    })
}

/// What `uninstall-service` finds: the service to remove, or nothing of credd's installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uninstall {
    /// Stop, disable and remove the unit or plist; a packaged unit is only stopped and disabled
    /// for this user ([`UnitFile::Packaged`]).
    Remove(Plan),
    /// Nothing is at the path `install-service` writes (named here), so there is nothing to stop
    /// or remove. Uninstalling twice is not an error, but it must not claim to have done anything.
    NotInstalled(PathBuf),
}

/// What uninstalling would do, decided by whether the unit file `install-service` writes is
/// there. A dangling symlink there counts as installed: removing it is the uninstall. Without
/// one, a packaged unit is what `install-service` enabled, so it is disabled for this user.
pub fn uninstall_plan(kind: Kind, env: &dyn Env) -> Result<Uninstall, ServiceError> {
    let plan = removal_plan(kind, env)?;
    match std::fs::symlink_metadata(&plan.unit_path) {
        Ok(_) => Ok(Uninstall::Remove(plan)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match packaged_unit(env) {
            Some(packaged) if kind == Kind::Systemd => {
                Ok(Uninstall::Remove(Plan { unit_path: packaged, file: UnitFile::Packaged, ..plan }))
            }
            _ => Ok(Uninstall::NotInstalled(plan.unit_path)),
        },
        Err(source) => Err(ServiceError::Io { path: plan.unit_path, source }),
    }
}

fn removal_plan(kind: Kind, env: &dyn Env) -> Result<Plan, ServiceError> {
    let home = paths::home(env).ok_or(ServiceError::NoHome)?;
    Ok(match kind {
        Kind::Systemd => Plan {
            kind,
            unit_path: systemd_dir(env, &home).join("credd.service"),
            file: UnitFile::Remove,
            dirs: vec![],
            commands: vec![
                strings(&["systemctl", "--user", "disable", "--now", "credd"]),
                strings(&["systemctl", "--user", "daemon-reload"]),
            ],
            notes: vec![],
        },
        Kind::Launchd => Plan {
            kind,
            unit_path: home.join("Library/LaunchAgents").join(format!("{}.plist", paths::LAUNCHD_LABEL)),
            file: UnitFile::Remove,
            dirs: vec![],
            commands: vec![vec![
                "launchctl".into(),
                "bootout".into(),
                format!("gui/{}/{}", crate::sys::uid(), paths::LAUNCHD_LABEL),
            ]],
            notes: vec![],
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
    if let UnitFile::Write(content) = &plan.file {
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

/// Carries out an uninstall plan: stop, disable, remove the file (never a packaged one). Config
/// and credentials stay. The plan exists only when the file did ([`uninstall_plan`]); if it
/// vanished since, someone else removed it, which is the end this was after, so that is not
/// worth a note.
pub fn uninstall(plan: &Plan) -> Result<Vec<String>, ServiceError> {
    let mut notes = Vec::new();
    let reachable = match (plan.kind, &plan.file) {
        (Kind::Launchd, _) => true,
        // Disabling is all a packaged unit's uninstall does, and it needs the user manager.
        (Kind::Systemd, UnitFile::Packaged) => check_systemd_user().map(|()| true)?,
        (Kind::Systemd, _) => check_systemd_user().is_ok(),
    };
    if reachable {
        if let Some(stop) = plan.commands.first()
            && let Err(e) = run(stop)
        {
            notes.push(format!("{e} (it may not have been running)"));
        }
    } else {
        notes.push("no systemd user instance is reachable; only the unit file is removed".into());
    }
    if plan.file == UnitFile::Remove {
        match std::fs::remove_file(&plan.unit_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ServiceError::Io { path: plan.unit_path.clone(), source }),
        }
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

    /// A HOME with no packaged unit, whatever this machine has installed.
    fn env(home: &str) -> HashMap<String, String> {
        [
            ("HOME".to_string(), home.to_string()),
            (PACKAGED_UNIT_DIRS_VAR.to_string(), "/nonexistent/credd-test".to_string()),
        ]
        .into()
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

    #[test]
    fn a_packaged_unit_is_enabled_not_copied_and_disabled_not_removed() {
        let t = tempfile::tempdir().unwrap();
        let (etc, usr) = (t.path().join("etc"), t.path().join("usr"));
        std::fs::create_dir_all(&usr).unwrap();
        std::fs::write(usr.join("credd.service"), SYSTEMD_TEMPLATE).unwrap();
        let mut env = env(&t.path().join("home").display().to_string());
        let dirs = std::env::join_paths([&etc, &usr]).unwrap().into_string().unwrap();
        env.insert(PACKAGED_UNIT_DIRS_VAR.into(), dirs);
        assert_eq!(packaged_unit(&env), Some(usr.join("credd.service")));

        // Whichever binary asks, even one in a temp dir: the package's unit runs its own.
        let p = install_plan(Kind::Systemd, Path::new("/tmp/x/credd"), &env, false).unwrap();
        assert_eq!((p.unit_path.clone(), p.file.clone()), (usr.join("credd.service"), UnitFile::Packaged));
        assert_eq!(p.commands[1], ["systemctl", "--user", "enable", "--now", "credd"]);
        assert!(p.notes.is_empty());
        let Uninstall::Remove(u) = uninstall_plan(Kind::Systemd, &env).unwrap() else {
            panic!("a packaged unit is what install-service enabled");
        };
        assert_eq!((u.unit_path, u.file), (usr.join("credd.service"), UnitFile::Packaged));
        assert_eq!(u.commands[0], ["systemctl", "--user", "disable", "--now", "credd"]);

        // /etc/systemd/user comes first, as it does for systemd.
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("credd.service"), SYSTEMD_TEMPLATE).unwrap();
        assert_eq!(packaged_unit(&env), Some(etc.join("credd.service")));

        // A copy an earlier install-service wrote shadows the package's: said, and it is what
        // uninstall removes.
        let own = t.path().join("home/.config/systemd/user/credd.service");
        std::fs::create_dir_all(own.parent().unwrap()).unwrap();
        std::fs::write(&own, "").unwrap();
        let p = install_plan(Kind::Systemd, Path::new("/usr/bin/credd"), &env, false).unwrap();
        assert_eq!(p.file, UnitFile::Packaged);
        assert!(p.notes[0].contains("overrides the packaged unit"), "{:?}", p.notes);
        let Uninstall::Remove(u) = uninstall_plan(Kind::Systemd, &env).unwrap() else { panic!() };
        assert_eq!((u.unit_path, u.file), (own, UnitFile::Remove));

        // launchd has no packaged unit to find.
        let p = install_plan(Kind::Launchd, Path::new("/usr/local/bin/credd"), &env, false).unwrap();
        assert!(matches!(p.file, UnitFile::Write(_)));
    }
}
