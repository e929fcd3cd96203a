//! The few facts credd asks the OS directly: who we are, and whether a process still exists.
//! One place for the `unsafe` libc calls, each with its safety argument.

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

#[cfg(test)]
mod tests {
    #[test]
    fn this_process_is_alive_and_a_pid_above_pid_max_is_not() {
        assert!(super::process_alive(std::process::id() as i32));
        assert!(!super::process_alive(4_194_305));
    }
}
