//! The few things credd asks the OS directly: who we are, whether a process still exists, file
//! leases, whether a directory may be written, the allocator's tuning and SIGPIPE's disposition,
//! and the signals `credd exec` takes and passes on. One place for the `unsafe` libc calls, each
//! with its safety argument.

/// The real user ID of this process.
pub fn uid() -> u32 {
    // SAFETY: getuid cannot fail and has no preconditions.
    unsafe { libc::getuid() }
}

/// The real group ID of this process.
pub fn gid() -> u32 {
    // SAFETY: getgid cannot fail and has no preconditions.
    unsafe { libc::getgid() }
}

/// Whether process `pid` exists (possibly owned by someone else).
pub fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 performs only the existence and permission check.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether this process may create and rename files in directory `dir`: `access(W_OK | X_OK)`,
/// which also says `EROFS` for a read-only filesystem. A check before an STS call, so that a
/// session whose home cannot be written costs no call; the write itself stays the last word.
pub fn access_writable_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    let rc = unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// A file lease's state, as `F_GETLEASE` reports it (Linux only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// We hold a read lease and nobody is waiting to write.
    Read,
    /// No lease, or (while we hold one) a writer is waiting in `open` for us to let go.
    Broken,
}

/// Places a read lease on `file` (opened read-only). `WouldBlock` means some process has the
/// file open for writing right now.
#[cfg(target_os = "linux")]
pub fn lease_read(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    ignore_sigio();
    // SAFETY: fcntl on an fd we own, with an integer argument; no memory is passed.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_RDLCK) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// Gives up the lease on `file`, letting any waiting writer through.
#[cfg(target_os = "linux")]
pub fn lease_release(file: &std::fs::File) {
    use std::os::fd::AsRawFd;
    // SAFETY: as above. Failing means there was no lease, which is what we want.
    let _ = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) };
}

/// The state of our lease on `file`.
#[cfg(target_os = "linux")]
pub fn lease_state(file: &std::fs::File) -> Lease {
    use std::os::fd::AsRawFd;
    // SAFETY: as above.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLEASE) };
    if rc == libc::F_RDLCK { Lease::Read } else { Lease::Broken }
}

#[cfg(not(target_os = "linux"))]
pub fn lease_read(_: &std::fs::File) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(not(target_os = "linux"))]
pub fn lease_release(_: &std::fs::File) {}

#[cfg(not(target_os = "linux"))]
pub fn lease_state(_: &std::fs::File) -> Lease {
    Lease::Broken
}

/// A broken lease is announced with SIGIO, whose default action ends the process. credd learns
/// of breaks by asking (`lease_state`), so the signal is ignored, unless someone installed a
/// handler for it already.
#[cfg(target_os = "linux")]
fn ignore_sigio() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sigaction with a zeroed struct reads the current disposition without changing
        // it; SIG_IGN is a valid disposition for SIGIO.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGIO, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_DFL
            {
                libc::signal(libc::SIGIO, libc::SIG_IGN);
            }
        }
    });
}

/// Tunes glibc's allocator for a long-lived daemon whose large allocations are transient.
///
/// - One arena: glibc gives each allocating thread its own arena and keeps what each held; the
///   daemon's loop, its file-work thread and its watcher each kept a copy's worth of a large
///   file (RSS 46 -> 95 MB over 100 refreshes of a 5,000-profile file; 44 -> 71 MB with one).
///   credd has a handful of threads and no contention worth an arena each.
/// - A fixed mmap threshold: a file's text, its lines and a rendering are each one allocation of
///   up to a few MB, made and freed per refresh. glibc would raise its threshold after the first
///   such free and serve the next ones from the heap, where a freed block below a live one is
///   never returned; fixed at 256 KB, they are mapped and unmapped whole, and RSS stays flat.
///
/// Elsewhere (musl, macOS) this does nothing.
pub fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; called once, before the daemon's
    // threads start allocating.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 * 1024);
    }
}

/// Restores the default action for SIGPIPE, which Rust's runtime sets to "ignore": a command
/// whose output goes to `head` or a pager that quits then ends quietly, as `cat` does, instead
/// of panicking in `println!` with a backtrace. Sockets are unaffected: std, tokio and zbus write
/// them with `MSG_NOSIGNAL`. Not for the daemon: its log may be a pipe (journald, a terminal's
/// pager), and a reader going away must never kill it.
pub fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default is async-signal-safe and has no
    // handler to race with; done once, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Returns the allocator's free pages to the system (glibc's `malloc_trim`, which also releases
/// whole free pages inside the heap, not only at its top). A large file's reading leaves a few
/// MB of small freed blocks that the next reading reuses but RSS would otherwise keep counting.
/// It costs well under a millisecond for the daemon's heap. Elsewhere this does nothing.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free pages back; it is safe at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Blocks `signals` in the calling thread and every thread it starts from now on, so that only
/// [`wait_signal`] receives them. Call it before any thread exists: a thread started earlier
/// keeps its mask and could take the default action (ending the process) for all of them.
/// A child inherits the mask: start it with [`unblock_in_child`].
pub fn block_signals(signals: &[i32]) -> std::io::Result<()> {
    mask(libc::SIG_BLOCK, signals)
}

fn mask(how: i32, signals: &[i32]) -> std::io::Result<()> {
    let set = sigset(signals);
    // SAFETY: `set` is an initialised sigset_t; the old mask is not asked for. pthread_sigmask is
    // async-signal-safe, so this may run between fork and exec.
    let rc = unsafe { libc::pthread_sigmask(how, &set, std::ptr::null_mut()) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::from_raw_os_error(rc)) }
}

/// Makes `cmd`'s process start with `signals` unblocked again: std leaves a child the mask of
/// the thread that spawns it, and a command started with SIGINT blocked would never see Ctrl-C.
pub fn unblock_in_child(cmd: &mut std::process::Command, signals: &'static [i32]) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec, where only async-signal-safe
    // calls are allowed: it builds a sigset on the stack and calls pthread_sigmask, nothing else
    // (no allocation, no lock).
    unsafe {
        cmd.pre_exec(move || mask(libc::SIG_UNBLOCK, signals));
    }
}

fn sigset(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before sigaddset reads it; both only write memory
    // we own, and a signal number they refuse is simply not added.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in signals {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Waits for one of `signals` (blocked with [`block_signals`]) and returns it, with whether the
/// terminal sent it. A terminal sends Ctrl-C's SIGINT to its whole foreground process group, so
/// a child in the same group has it already. Only Linux says who sent a signal (`SI_KERNEL`);
/// elsewhere this answers `false`.
pub fn wait_signal(signals: &[i32]) -> (i32, bool) {
    let set = sigset(signals);
    loop {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: `info` is written by the kernel before it is read; `set` is initialised.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            let sig = unsafe { libc::sigwaitinfo(&set, &mut info) };
            if sig > 0 {
                return (sig, info.si_code == libc::SI_KERNEL);
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let mut sig = 0;
            // SAFETY: `set` is initialised and `sig` is ours to write.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                return (sig, false);
            }
        }
        // EINTR: another signal interrupted the wait; wait again.
    }
}

/// Sends `signal` to process `pid`. A process that has ended already is not an error here.
pub fn send_signal(pid: i32, signal: i32) {
    // SAFETY: kill has no memory arguments; at worst it fails with ESRCH.
    let _ = unsafe { libc::kill(pid, signal) };
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_is_alive_and_a_pid_above_pid_max_is_not() {
        assert!(super::process_alive(std::process::id() as i32));
        assert!(!super::process_alive(4_194_305));
    }
}
