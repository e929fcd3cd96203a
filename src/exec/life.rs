//! The command's life cycle as `credd exec` sees it: SIGINT, SIGTERM and SIGHUP are passed on to
//! it, and its end becomes credd's exit status (its code, or 128+N when signal N ended it).
//!
//! The three signals are blocked in every thread and taken by one thread with `sigwait`, so no
//! handler runs in the middle of anything and no other thread takes the default action. Before
//! the command runs, a signal ends `credd exec` (after removing its run directory) with 128+N;
//! while it runs, the signal goes to the command, except a terminal's Ctrl-C, which the command
//! (in the same foreground process group) has received already: passing it on would deliver it
//! twice. After the command ends nothing is forwarded.
//!
//! Spawning is done with the signal thread's lock held, so a signal arriving at that moment is
//! forwarded to the new command rather than lost between "no command yet" and "running".

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex};

/// The signals passed on to the command.
pub const FORWARDED: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

#[derive(Debug)]
enum Phase {
    /// No command yet: a signal ends `credd exec`, removing this directory first.
    Starting(Option<PathBuf>),
    Running(i32),
    Done,
}

/// The signal thread's view of the command. Create it first thing in `credd exec`, before any
/// other thread starts (see `sys::block_signals`).
pub struct Life {
    phase: Arc<Mutex<Phase>>,
}

impl Life {
    pub fn start() -> std::io::Result<Life> {
        crate::sys::block_signals(&FORWARDED)?;
        let phase = Arc::new(Mutex::new(Phase::Starting(None)));
        let shared = phase.clone();
        std::thread::Builder::new().name("signals".into()).spawn(move || {
            loop {
                let (sig, from_terminal) = crate::sys::wait_signal(&FORWARDED);
                let phase = shared.lock().unwrap_or_else(|p| p.into_inner());
                match &*phase {
                    Phase::Starting(dir) => {
                        if let Some(d) = dir {
                            let _ = std::fs::remove_dir_all(d);
                        }
                        std::process::exit(128 + sig);
                    }
                    Phase::Running(pid) if !from_terminal => crate::sys::send_signal(*pid, sig),
                    Phase::Running(_) | Phase::Done => {}
                }
            }
        })?;
        Ok(Life { phase })
    }

    /// The run directory to remove if a signal ends `credd exec` before the command starts.
    pub fn remove_on_signal(&self, dir: PathBuf) {
        *self.lock() = Phase::Starting(Some(dir));
    }

    /// Starts `cmd`; from now on signals go to it.
    pub fn spawn(&self, cmd: &mut Command) -> std::io::Result<Child> {
        let mut phase = self.lock();
        let child = cmd.spawn()?;
        *phase = Phase::Running(child.id() as i32);
        Ok(child)
    }

    /// Waits for the command to end and returns credd's exit status for it.
    pub fn wait(&self, mut child: Child) -> std::io::Result<u8> {
        let status = child.wait();
        *self.lock() = Phase::Done;
        Ok(exit_code(status?))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A shell's convention: the command's own code, or 128+N when signal N ended it.
pub fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => (c & 0xff) as u8,
        (None, Some(s)) => (128 + s).clamp(0, 255) as u8,
        (None, None) => 1,
    }
}

/// The status a shell gives for a command it could not start: 127 not found, 126 not runnable.
pub fn spawn_failure_code(e: &std::io::Error) -> u8 {
    if e.kind() == std::io::ErrorKind::NotFound { 127 } else { 126 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn exit_codes_follow_the_shells() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGTERM)), 128 + 15);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGKILL)), 137);
        assert_eq!(spawn_failure_code(&std::io::Error::from(std::io::ErrorKind::NotFound)), 127);
        assert_eq!(spawn_failure_code(&std::io::Error::from(std::io::ErrorKind::PermissionDenied)), 126);
    }
}
