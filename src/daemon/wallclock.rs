//! Sleeping until a wall-clock instant, so that a laptop which slept through a deadline acts
//! on wake, and a clock change moves every deadline with it.
//!
//! tokio's timers run on the monotonic clock, which on Linux does not advance during suspend: a
//! 50-minute sleep started before a 2-hour suspend would fire 50 minutes *after* wake. On Linux
//! this uses a `timerfd` on `CLOCK_REALTIME` with an absolute deadline: it fires as soon as the
//! wall clock passes the deadline (including right after resume), and `TFD_TIMER_CANCEL_ON_SET`
//! wakes it when the clock is set, so the caller recomputes. Elsewhere it falls back to a tokio
//! sleep capped at one minute, which bounds the lateness after wake to that minute.

use chrono::{DateTime, Utc};

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    use chrono::{DateTime, Utc};
    use tokio::io::unix::AsyncFd;

    pub struct WallTimer {
        fd: AsyncFd<OwnedFd>,
    }

    impl WallTimer {
        pub fn new() -> io::Result<WallTimer> {
            // SAFETY: plain syscall; the fd is owned by OwnedFd below.
            let fd =
                unsafe { libc::timerfd_create(libc::CLOCK_REALTIME, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` is a fresh, valid descriptor that nothing else owns.
            let owned = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: OwnedFd always returns the descriptor it owns, which stays open until the
            // AsyncFd (its only owner) is dropped.
            let fd = unsafe { AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }
                .map_err(|e| io::Error::other(e.to_string()))?;
            Ok(WallTimer { fd })
        }

        /// Returns when the wall clock reaches `at`, or when the clock was set (the caller then
        /// re-reads the time and decides again).
        pub async fn sleep_until(&self, at: DateTime<Utc>) -> io::Result<()> {
            if at <= Utc::now() {
                return Ok(());
            }
            let spec = libc::itimerspec {
                it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
                it_value: libc::timespec {
                    tv_sec: at.timestamp() as libc::time_t,
                    tv_nsec: at.timestamp_subsec_nanos() as libc::c_long,
                },
            };
            let flags = libc::TFD_TIMER_ABSTIME | libc::TFD_TIMER_CANCEL_ON_SET;
            let fd = self.fd.get_ref().as_raw_fd();
            // SAFETY: valid fd and pointers for the duration of the call.
            if unsafe { libc::timerfd_settime(fd, flags, &spec, std::ptr::null_mut()) } < 0 {
                return Err(io::Error::last_os_error());
            }
            loop {
                let mut guard = self.fd.readable().await?;
                let mut buf = [0u8; 8];
                // SAFETY: reading 8 bytes into an 8-byte buffer.
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), 8) };
                if n == 8 {
                    return Ok(());
                }
                let err = io::Error::last_os_error();
                match err.raw_os_error() {
                    Some(libc::ECANCELED) => return Ok(()), // the clock was set
                    Some(libc::EAGAIN) => guard.clear_ready(),
                    _ => return Err(err),
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::io;

    use chrono::{DateTime, Utc};

    pub struct WallTimer;

    impl WallTimer {
        pub fn new() -> io::Result<WallTimer> {
            Ok(WallTimer)
        }

        pub async fn sleep_until(&self, at: DateTime<Utc>) -> io::Result<()> {
            let left = (at - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(left.min(std::time::Duration::from_secs(60))).await;
            Ok(())
        }
    }
}

pub use imp::WallTimer;

/// Sleeps until `at`, or forever when there is nothing to wait for.
pub async fn sleep_until(timer: &WallTimer, at: Option<DateTime<Utc>>) {
    match at {
        Some(at) => {
            if let Err(e) = timer.sleep_until(at).await {
                tracing::warn!(error = %e, "wall-clock timer failed; retrying in a second");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_at_the_wall_clock_deadline() {
        let t = WallTimer::new().unwrap();
        let at = Utc::now() + chrono::Duration::milliseconds(30);
        t.sleep_until(at).await.unwrap();
        assert!(Utc::now() >= at);
        // A deadline in the past returns at once.
        t.sleep_until(Utc::now() - chrono::Duration::hours(2)).await.unwrap();
    }
}
