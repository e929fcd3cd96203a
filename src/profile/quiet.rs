//! Reading a file that nobody is in the middle of writing, and holding writers off for the instant
//! credd swaps in its own version. Every read that an edit is built on goes through here; so do
//! the daemon's reads, so that a decision is never made on half a file.
//!
//! Why: most tools that write `~/.aws/credentials` write it *in place*. awscli's
//! `ConfigFileWriter`, aws-mfa and awsume all `open(path, 'w')`, which truncates, and then write
//! the new text. A reader that lands between the two sees an empty or half-written file that may
//! well parse; an edit built on it and published erases everything the other tool had not yet
//! written back (aws-cli#10648). Comparing the displaced file after an atomic exchange does not
//! catch it either: the displaced inode is the one the other tool is still filling.
//!
//! **Linux: a read lease** (`fcntl F_SETLEASE F_RDLCK`).
//! - It can only be placed while no process has the file open for writing. So while credd holds
//!   one, the content it reads is whole.
//! - While it is held, a process that opens the file for writing waits in `open` until credd lets
//!   go, and the kernel reports the waiting writer (`F_GETLEASE` no longer says `F_RDLCK`). Its
//!   write would land in the inode credd held, so credd does not publish over it: it puts that
//!   file back (`write.rs`), lets the writer through, and starts over on what it wrote.
//! - credd holds a lease only for a compare and an exchange, unless a race forces it to build
//!   under one: other writers wait a few milliseconds at most, and only those that raced with
//!   credd wait at all.
//! - An `open` finds the file by its name first and reaches the lease check later, in the same
//!   system call: a writer that found the old name before the exchange writes into the file credd
//!   displaced. That is microseconds of kernel work, but a writer can be held off the CPU in the
//!   middle of it for far longer (the likeliest cause of the losses the race tests saw in loaded
//!   full-suite runs). So after the exchange credd keeps its lease on the displaced file for
//!   [`LATE_OPEN`], with a lease on its own new file too: a late writer is seen, and its file put
//!   back, unless somebody has begun to write credd's new one meanwhile.
//! - What remains: a writer held off the CPU for longer than [`LATE_OPEN`] between finding the
//!   name and reaching the lease, and one that comes late while another writes credd's new file.
//!
//! **Elsewhere** (macOS, network filesystems, a file owned by someone else) there is no lease.
//! The fallback reads only a file whose mtime is [`QUIET`] old and unchanged across the read, and
//! compares the displaced file [`QUIET`] after the exchange. That catches every writer that
//! finishes within [`QUIET`] of its truncate; a writer that stalls longer between truncate and
//! write can still be missed. `docs/reliability.md` says so.
//!
//! **Why a read failed** ([`ReadFailure`]) is classified here too, once for every reader: a
//! directory where the file should be, a symlink loop, permission denied. Doctor, the daemon's
//! log and every writer name the same cause and the same fix, and none of them mistakes a file it
//! cannot read for an empty one.
//!
//! What this module does not do: decide what to write (the caller's edit) or swap files
//! (`write.rs`).

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::sys::{self, Lease};

/// Without a lease: how long a file must have gone unmodified before its content is trusted, and
/// how long after a swap the displaced file is re-read.
pub const QUIET: Duration = Duration::from_millis(50);

/// How long to wait for another program to finish writing before giving up (retryably).
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

/// After a swap, how long the lease on the displaced file is kept for a writer whose `open` found
/// it by name before the swap (see the module's opening). It delays only credd's own write: a
/// writer that opens the file now finds credd's new one, and waiting on that one's lease ends
/// the wait at once.
pub const LATE_OPEN: Duration = Duration::from_millis(5);

/// A file's whole content, read while nobody was writing it, with writers held off until this
/// is dropped.
pub struct Quiet {
    file: File,
    leased: bool,
    inode: (u64, u64),
    content: Vec<u8>,
}

/// Why no quiet read could be had.
#[derive(Debug)]
pub enum HoldError {
    /// Another program kept the file open for writing (or kept changing it) for longer than
    /// [`SETTLE_TIMEOUT`].
    Busy,
    Io(io::Error),
}

impl From<io::Error> for HoldError {
    fn from(e: io::Error) -> Self {
        HoldError::Io(e)
    }
}

impl Quiet {
    /// Waits until nobody is writing `path`, then reads it whole. `Ok(None)`: there is no file.
    pub fn hold(path: &Path) -> Result<Option<Quiet>, HoldError> {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        // In-place writers hold the file open for well under a millisecond: poll finely first.
        let mut pause = Duration::from_micros(50);
        loop {
            let file = match File::open(path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            // Opening a directory succeeds; say so now rather than after a lease attempt and a
            // [`QUIET`] wait that can only end in EISDIR.
            if file.metadata()?.is_dir() {
                return Err(io::Error::from_raw_os_error(libc::EISDIR).into());
            }
            match sys::lease_read(&file) {
                Ok(()) => {
                    let content = read_all(&file)?;
                    return Ok(Some(Quiet { inode: inode(&file)?, file, leased: true, content }));
                }
                // Somebody has it open for writing: a write is under way.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    if let Some(content) = read_when_still(&file, path)? {
                        return Ok(Some(Quiet { inode: inode(&file)?, file, leased: false, content }));
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(HoldError::Busy);
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    pub fn content(&self) -> &[u8] {
        &self.content
    }

    pub fn into_content(mut self) -> Vec<u8> {
        std::mem::take(&mut self.content)
    }

    /// The file that was read, as (device, inode).
    pub fn inode(&self) -> (u64, u64) {
        self.inode
    }

    /// Whether a process is waiting to open this file for writing: its write would land in the
    /// file credd holds. Without a lease there is no way to know, and this says no.
    pub fn writer_waiting(&self) -> bool {
        self.leased && sys::lease_state(&self.file) != Lease::Read
    }

    /// After the swap that put credd's file `ours` (leased with [`Quiet::lease_ours`]) in this
    /// one's place: whether a writer that found this file by name before the swap reached it
    /// within [`LATE_OPEN`]. Its write would land in a file nobody reads any more, so the caller
    /// puts this one back. `false` at once when a program begins to write `ours`: putting this
    /// file back then would lose that write instead. Without both leases there is no way to know.
    pub fn late_writer(&self, ours: Option<&File>) -> bool {
        let Some(ours) = ours.filter(|_| self.leased) else { return false };
        let deadline = Instant::now() + LATE_OPEN;
        loop {
            if sys::lease_state(ours) != Lease::Read {
                return false;
            }
            // A writer waiting in `open`, or one past the open's write access and not yet at the
            // lease check: the kernel refuses to place a read lease again while any process has
            // the file open for writing.
            if sys::lease_state(&self.file) != Lease::Read || sys::lease_read(&self.file).is_err() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            // Sleeping, not spinning: on a busy machine the late writer may need this CPU.
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// A read lease on `ours`, credd's new file, taken before it is swapped in for this one: a
    /// program that opens it for writing then waits and is seen ([`Quiet::late_writer`]).
    /// `None` when this file holds no lease (a late writer could not be seen anyway) or `ours`
    /// takes none.
    pub fn lease_ours(&self, ours: &Path) -> Option<File> {
        if !self.leased {
            return None;
        }
        let file = File::open(ours).ok()?;
        sys::lease_read(&file).ok().map(|()| file)
    }

    /// After the file was swapped out to `displaced`: whether it still holds what was read.
    /// Under a lease nobody could have written it. Without one, give a write under way [`QUIET`]
    /// to land, then compare.
    pub fn unchanged_at(&self, displaced: &Path) -> io::Result<bool> {
        if self.leased {
            return Ok(true);
        }
        std::thread::sleep(QUIET);
        Ok(fs::read(displaced)? == self.content)
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        if self.leased {
            sys::lease_release(&self.file);
        }
    }
}

/// Reads `path` whole, the same way [`Quiet::hold`] does, and lets go at once.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>, HoldError> {
    Ok(Quiet::hold(path)?.map(Quiet::into_content))
}

/// Why a file that is there could not be read, and what fixes it. One classification for every
/// reader: the daemon logs it, doctor reports it (`file-unreadable`), a writer refuses with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}; fix: {}", self.message(), self.fix())]
pub struct ReadFailure {
    pub path: PathBuf,
    pub why: Unreadable,
}

/// The causes [`ReadFailure`] tells apart, each with its own fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// A directory stands where the file should be.
    Directory,
    /// A symlink whose chain loops (or is too long to follow); `to` is where the link points.
    SymlinkLoop { to: Option<PathBuf> },
    /// The file is this user's, and its mode (`0o777` bits) denies reading it.
    Mode(u32),
    /// The file belongs to another user, who has not let this one (`me`) read it.
    Owner { owner: u32, me: u32 },
    /// A directory on the way to the file cannot be searched by this user.
    SearchDenied(PathBuf),
    /// A file stands where a directory on the way should be (this one).
    NotADirectory(PathBuf),
    /// Anything else the system said, in its words.
    Other(String),
}

impl ReadFailure {
    /// Classifies the error that reading `path` failed with, by its errno; for permission denied
    /// it looks at the path again (owner and mode, or the directory hiding it) to name the fix.
    pub fn classify(path: &Path, e: &io::Error) -> ReadFailure {
        let why = match e.raw_os_error() {
            Some(libc::EISDIR) => Unreadable::Directory,
            Some(libc::ELOOP) => Unreadable::SymlinkLoop { to: fs::read_link(path).ok() },
            Some(libc::EACCES | libc::EPERM) => denied(path, e),
            Some(libc::ENOTDIR) => match path.ancestors().skip(1).find(|a| a.is_file()) {
                Some(file) => Unreadable::NotADirectory(file.to_path_buf()),
                None => Unreadable::Other(e.to_string()),
            },
            _ => Unreadable::Other(e.to_string()),
        };
        ReadFailure { path: path.to_path_buf(), why }
    }

    /// What is wrong, naming the path.
    pub fn message(&self) -> String {
        let path = self.path.display();
        match &self.why {
            Unreadable::Directory => format!("{path} is a directory, not a file: no tool can read it"),
            Unreadable::SymlinkLoop { to } => format!(
                "{path} is a symlink that loops and never reaches a file{}: no tool can read it",
                to.as_ref().map(|t| format!(" (it points to {})", t.display())).unwrap_or_default()
            ),
            Unreadable::Mode(mode) => {
                format!("{path}: permission denied: its mode ({mode:03o}) does not let its owner read it")
            }
            Unreadable::Owner { owner, me } => {
                format!("{path}: permission denied: it belongs to uid {owner}, and credd runs as uid {me}")
            }
            Unreadable::SearchDenied(dir) => {
                format!("{path}: permission denied: the directory {} cannot be searched", dir.display())
            }
            Unreadable::NotADirectory(file) => {
                format!("{path} cannot exist: {} is a file, not a directory", file.display())
            }
            Unreadable::Other(e) => format!("{path}: cannot read it: {e}"),
        }
    }

    /// The command (or step) that fixes it.
    pub fn fix(&self) -> String {
        let path = self.path.display();
        match &self.why {
            Unreadable::Directory => format!(
                "remove the directory (`rmdir {path}`, after moving out anything in it); its writer then creates the file again (`aws configure` for the AWS files, credd for an env_file)"
            ),
            Unreadable::NotADirectory(file) => {
                format!("move {} away, or point whatever names {path} elsewhere", file.display())
            }
            Unreadable::SymlinkLoop { .. } => format!(
                "fix the link: point it at the real file (`ln -sfn /path/to/the/file {path}`), or remove it (`rm {path}`) and run `aws configure`"
            ),
            Unreadable::Mode(_) => format!("chmod 600 {path}"),
            Unreadable::Owner { .. } => format!("sudo chown \"$USER\" {path} && chmod 600 {path}"),
            Unreadable::SearchDenied(dir) => format!("chmod 700 {}", dir.display()),
            Unreadable::Other(_) => format!("check the file and its disk (`ls -l {path}`), then try again"),
        }
    }
}

/// Permission denied on `path`: whose file it is, or which directory on the way hides it.
fn denied(path: &Path, e: &io::Error) -> Unreadable {
    match fs::metadata(path) {
        Ok(m) if m.uid() != crate::sys::uid() => Unreadable::Owner { owner: m.uid(), me: crate::sys::uid() },
        Ok(m) => Unreadable::Mode(m.permissions().mode() & 0o777),
        Err(_) => {
            // From the root down: the first entry that cannot be looked at sits in the directory
            // that must be opened up.
            let chain: Vec<&Path> = path.ancestors().collect();
            let hidden = chain
                .windows(2)
                .rev()
                .find(|w| fs::metadata(w[0]).is_err_and(|e| e.kind() == io::ErrorKind::PermissionDenied));
            match hidden {
                Some(w) => Unreadable::SearchDenied(w[1].to_path_buf()),
                None => Unreadable::Other(e.to_string()),
            }
        }
    }
}

fn inode(file: &File) -> io::Result<(u64, u64)> {
    file.metadata().map(|m| (m.dev(), m.ino()))
}

fn read_all(mut file: &File) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::with_capacity(file.metadata().map(|m| m.len() as usize).unwrap_or(0));
    file.read_to_end(&mut buf)?;
    Ok(buf)
}

/// The fallback: the content, if the file was unmodified for [`QUIET`] before the read and did
/// not change during it; `None` to say "try again shortly".
fn read_when_still(file: &File, path: &Path) -> io::Result<Option<Vec<u8>>> {
    let before = file.metadata()?;
    let age = SystemTime::now().duration_since(before.modified()?).unwrap_or_default();
    if age < QUIET {
        std::thread::sleep(QUIET - age);
        return Ok(None);
    }
    let content = read_all(file)?;
    let after = file.metadata()?;
    let same_name = fs::metadata(path).map(|m| (m.dev(), m.ino()) == (after.dev(), after.ino()))?;
    let still = (before.len(), before.mtime(), before.mtime_nsec(), before.ctime_nsec())
        == (after.len(), after.mtime(), after.mtime_nsec(), after.ctime_nsec());
    Ok((still && same_name).then_some(content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{WriteError, read_quiet};

    fn failure(path: &Path) -> ReadFailure {
        match read_quiet(path) {
            Err(WriteError::Unreadable(f)) => f,
            other => panic!("{}: {other:?}", path.display()),
        }
    }

    #[test]
    fn a_file_that_is_there_but_unreadable_is_never_absent() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_quiet(&dir.path().join("none")).unwrap().is_none());

        let d = dir.path().join("credentials");
        fs::create_dir(&d).unwrap();
        let f = failure(&d);
        assert_eq!(f.why, Unreadable::Directory);
        assert!(f.fix().contains(&format!("rmdir {}", d.display())), "{}", f.fix());

        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&link, &link).unwrap();
        let f = failure(&link);
        assert_eq!(f.why, Unreadable::SymlinkLoop { to: Some(link.clone()) });
        assert!(f.to_string().contains("loops") && f.to_string().contains("fix the link"), "{f}");
    }

    #[test]
    fn permission_denied_names_the_mode_the_owner_or_the_directory() {
        let p = Path::new("/x/credentials");
        let denied = io::Error::from_raw_os_error(libc::EACCES);
        let f = ReadFailure { path: p.into(), why: Unreadable::Mode(0) };
        assert_eq!((f.message().contains("mode (000)"), f.fix()), (true, "chmod 600 /x/credentials".into()));
        let f = ReadFailure { path: p.into(), why: Unreadable::Owner { owner: 0, me: 1000 } };
        assert!(f.fix().starts_with("sudo chown"), "{}", f.fix());
        // Root is never denied, so the live classification is only checked for other users.
        if crate::sys::uid() != 0 {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("credentials");
            fs::write(&file, "").unwrap();
            fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
            assert_eq!(ReadFailure::classify(&file, &denied).why, Unreadable::Mode(0));
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o000)).unwrap();
            let why = ReadFailure::classify(&file, &denied).why;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
            assert_eq!(why, Unreadable::SearchDenied(dir.path().to_path_buf()));
        }
    }
}
