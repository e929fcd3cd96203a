//! Writing a shared file so that nothing is ever lost: not on a crash, not to a racing writer.
//!
//! One update is: lock, read, parse (refuse if unparseable), apply the edit, write a temp file in
//! the same directory with the original's mode (or 0600 for a file of secrets, logged when that
//! changes it) and owner, fsync it, swap it in atomically, fsync the directory.
//!
//! The swap is where other tools' edits get lost in every tool that writes this file today: an
//! edit that lands between our read and our rename is overwritten. Here two things guard it:
//! - Just before the swap, a quiet read (`quiet.rs`: a read lease on Linux) proves that nobody is
//!   writing the file and that it still holds exactly what the edit was built on; a writer that
//!   opens it from then until the swap is done waits a few milliseconds, and is seen.
//! - The swap is an atomic *exchange* (`renameat2(RENAME_EXCHANGE)` on Linux,
//!   `renamex_np(RENAME_SWAP)` on macOS), so the file we displace is still in hand afterwards. If
//!   it is not the file we read (a rename landed), or a writer is waiting to write into it, ours
//!   must not stay: anyone reading it now would build on a version without that write. So we
//!   exchange again, putting theirs back, wait for the write to finish, and apply our edit to
//!   *their* version, a bounded number of times. We never publish first and fix up after.
//! - A writer's `open` finds the file by name before it reaches the lease, so one that found it
//!   just before the exchange comes to the displaced file after our checks. The lease on that file
//!   is kept for `quiet::LATE_OPEN` after the exchange to see such a writer, and that file goes
//!   back the same way. Ours was readable meanwhile, but lacked nothing: the late writer waits on
//!   the lease and has written nothing yet. A lease on our own new file says whether somebody
//!   began writing that one meanwhile, when putting theirs back would lose that write instead.
//!
//! Where the filesystem cannot exchange, the guarded compare comes just before a plain rename.
//!
//! The expensive part (parse, edit, render, temp file, fsync) runs before the guard is taken,
//! so a large file holds nobody up. If the quiet read differs, the next attempt is built while
//! holding the guard, so that a busy writer cannot starve credd; a writer that keeps rewriting
//! the file faster than that still wins, and the update ends `Contended`, which callers retry.
//!
//! Symlinks (dotfile managers) are followed: the link stays, its target is replaced. credd's own
//! writers are serialised by an advisory lock on the directory, so no lock file litters `~/.aws`.
//! A killed writer leaves at most a temp file, which the next write removes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::edit::EditError;
use super::parse::{Document, FileKind, ParseError};
use super::quiet::{HoldError, Quiet, ReadFailure};

/// How many times an update re-applies itself over outside edits before giving up.
const MAX_ATTEMPTS: u32 = 8;
/// How long to wait for another credd process's write to finish.
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file on disk cannot be parsed. Nothing was written.
    #[error("{0}; credd left the file untouched")]
    Unparseable(#[from] ParseError),
    #[error("{path}: {source}", path = .path.display())]
    Edit { path: PathBuf, source: EditError },
    /// The file is there but cannot be read (a directory, a symlink loop, permission denied):
    /// not the same as absent. Nothing was written.
    #[error(transparent)]
    Unreadable(#[from] ReadFailure),
    #[error("{path}: could not {action}: {source}", path = .path.display())]
    Io { path: PathBuf, action: &'static str, source: io::Error },
    #[error(
        "{path}: the file kept changing while credd tried to update it ({attempts} attempts); \
         nothing of yours was lost, and credd will try again", path = .path.display()
    )]
    Contended { path: PathBuf, attempts: u32 },
}

impl WriteError {
    /// For an error that retrying cannot fix (permission denied, a read-only filesystem, a path
    /// that is a directory or runs through a file, a symlink loop), the path where it has to be
    /// fixed. `None` for anything that may pass by itself (a full disk, a busy file) or that is
    /// about the content (which the file's own change fixes).
    pub fn stuck_at(&self) -> Option<&Path> {
        let WriteError::Io { path, source, .. } = self else { return None };
        let permanent = matches!(
            source.raw_os_error(),
            Some(
                libc::EACCES
                    | libc::EPERM
                    | libc::EROFS
                    | libc::ENOTDIR
                    | libc::EISDIR
                    | libc::ELOOP
                    | libc::ENAMETOOLONG
            )
        ) || source.kind() == io::ErrorKind::Other && source.to_string().contains("symlinks");
        permanent.then_some(path.as_path())
    }

    /// The one thing that fixes an error [`WriteError::stuck_at`] names, or a session written over
    /// long-term keys.
    pub fn fix(&self) -> Option<String> {
        if let WriteError::Edit { source: EditError::LongTermKey { place }, .. } = self {
            return Some(format!(
                "keep those keys: give the session another `name` (or `env_file`) in credd's config, or move the keys to their own profile and point `source_profile` at it; if {place} holds no keys of yours, delete them"
            ));
        }
        let at = self.stuck_at()?.display();
        let WriteError::Io { source, .. } = self else { return None };
        Some(match source.raw_os_error() {
            Some(libc::ENOTDIR) => format!(
                "{at} is a file where a directory should be: move it away, or point the session's env_file elsewhere"
            ),
            Some(libc::EISDIR) => format!(
                "{at} is a directory where credd writes a file: remove it, or point the session elsewhere"
            ),
            // Under credd's systemd unit, everything but ~/.aws, ~/.config/credd and the runtime
            // directory is read-only (ProtectSystem=strict): the common case, and not a chmod.
            Some(libc::EROFS) => format!(
                "{at} is read-only for credd: if it runs as the systemd service, whose sandbox lets it write only ~/.aws, ~/.config/credd and its runtime directory, add it with `systemctl --user edit credd` (ReadWritePaths={at}) and restart it; otherwise point the session's env_file elsewhere"
            ),
            Some(libc::ELOOP) => format!("{at} is a symlink loop: fix the link"),
            _ => format!(
                "let yourself write {at} (`chmod u+w {at}`), or point the session's env_file elsewhere"
            ),
        })
    }
}

/// Checks, without writing anything, that an update of `path` can succeed as far as the
/// filesystem goes: the path is not a directory, and its directory (or, when that is still to be
/// created, its nearest existing ancestor) is a directory this process may write. A caller that
/// is about to spend an STS call on a write asks first.
pub fn check_writable(path: &Path) -> Result<(), WriteError> {
    let target = resolve_symlinks(path)?;
    if fs::metadata(&target).is_ok_and(|m| m.is_dir()) {
        return Err(io_err(&target, "write it")(io::Error::from_raw_os_error(libc::EISDIR)));
    }
    let mut dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    loop {
        match fs::metadata(dir) {
            Ok(m) if m.is_dir() => {
                return crate::sys::access_writable_dir(dir).map_err(io_err(dir, "write in the directory"));
            }
            Ok(_) => {
                let e = io::Error::from_raw_os_error(libc::ENOTDIR);
                return Err(io_err(dir, "use it as a directory (it is a file)")(e));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match dir.parent() {
                // Missing directories are created on write, in the nearest one that exists.
                Some(p) if !p.as_os_str().is_empty() => dir = p,
                _ => return Ok(()),
            },
            Err(e) => return Err(io_err(dir, "reach the directory")(e)),
        }
    }
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> WriteError {
    let path = path.to_path_buf();
    move |source| WriteError::Io { path, action, source }
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The edit changed nothing, so nothing was written (and mtime is untouched).
    Unchanged,
    /// Written. `merged_outside_edits` counts writes by other tools that landed during ours and
    /// were kept by re-applying the edit on top of them.
    Written { merged_outside_edits: u32 },
}

/// Reads `path` into a document, never half-way through another program's write. A missing file
/// is `None`; one that is there but cannot be read is [`WriteError::Unreadable`], never `None`.
pub fn read_document(path: &Path, kind: FileKind) -> Result<Option<Document>, WriteError> {
    match read_quiet(path)? {
        Some(bytes) => Ok(Some(Document::parse_vec(bytes, kind, path)?)),
        None => Ok(None),
    }
}

/// Reads `path` whole while nobody is writing it (see `quiet.rs`). A missing file is `None`; one
/// that cannot be read is [`WriteError::Unreadable`].
pub fn read_quiet(path: &Path) -> Result<Option<Vec<u8>>, WriteError> {
    super::quiet::read(path).map_err(|e| hold_err(path, e))
}

/// Applies `edit` to the file at `path` (created 0600 if absent) without losing anything.
///
/// `edit` may be called more than once: once per attempt, each time on the newest content.
pub fn update(
    path: &Path,
    kind: FileKind,
    edit: impl FnMut(&mut Document) -> Result<(), EditError>,
) -> Result<Outcome, WriteError> {
    update_observed(path, kind, edit, &mut |_| {})
}

/// [`update`], calling `before_swap` with the target path just before each swap. It is the seam
/// tests use to play a racing writer at the worst moment.
pub fn update_observed(
    path: &Path,
    kind: FileKind,
    edit: impl FnMut(&mut Document) -> Result<(), EditError>,
    before_swap: &mut dyn FnMut(&Path),
) -> Result<Outcome, WriteError> {
    let format = Format {
        parse: &|bytes: &[u8]| Document::parse_bytes(bytes, kind, path),
        empty: &|| Document::empty(kind),
        render: &|doc: &Document| doc.render(),
        // A document changes only through `edit_profile`, which parses what it renders and keeps
        // that parse: the rendering is known to read back, and parsing it again here would
        // double the work for a large file.
        reads_back: true,
        private: false,
    };
    update_with(path, &format, edit, before_swap)
}

/// How to read and write one kind of text file, for [`update_with`].
pub struct Format<'a, T> {
    pub parse: &'a dyn Fn(&[u8]) -> Result<T, ParseError>,
    pub empty: &'a dyn Fn() -> T,
    pub render: &'a dyn Fn(&T) -> Vec<u8>,
    /// Whether every `T` renders to bytes that parse: then the rendering is not parsed again
    /// before it is written.
    pub reads_back: bool,
    /// Always written 0600, whatever mode the file had: a file of secrets that nobody else has
    /// reason to read (botocore's SSO token cache, an env file credd writes a session into). A
    /// mode that changes is logged. Otherwise the file keeps its mode.
    pub private: bool,
}

/// The safe update cycle for any file format with a lossless parse and render: the AWS files
/// and the dotenv files credd manages go through exactly the same lock, temp file, fsync,
/// exchange and re-apply.
pub fn update_with<T>(
    path: &Path,
    format: &Format<'_, T>,
    mut edit: impl FnMut(&mut T) -> Result<(), EditError>,
    before_swap: &mut dyn FnMut(&Path),
) -> Result<Outcome, WriteError> {
    let target = resolve_symlinks(path)?;
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err(dir, "create the directory"))?;
    }
    let _lock = DirLock::acquire(dir)?;
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    remove_stale_temps(dir, &name);

    // `base` is what the edit applies to, and what we believe is on disk. It is always a quiet
    // read (never half of someone's write, so "does not parse" means it), but the first one is
    // let go at once, so that parsing and rendering a large file holds nobody up; a quiet read
    // checks it again before anything is published, and later attempts build while holding one.
    let mut base = read_quiet(&target)?;
    let mut held: Option<Option<Quiet>> = None;
    let mut merged = 0;
    let mut narrowed = None;
    for _attempt in 0..MAX_ATTEMPTS {
        let mut doc = match &base {
            Some(bytes) => (format.parse)(bytes)?,
            None => (format.empty)(),
        };
        edit(&mut doc).map_err(|source| WriteError::Edit { path: path.to_path_buf(), source })?;
        let new = (format.render)(&doc);
        let tmp = if base.as_deref() == Some(new.as_slice()) {
            None
        } else {
            // Never write what we could not read back. `edit_profile` already checks this; this
            // is the last line of defence for any other edit function.
            if !format.reads_back {
                (format.parse)(&new)?;
            }
            let meta = match &base {
                Some(_) => Some(fs::metadata(&target).map_err(io_err(&target, "stat it"))?),
                None => None,
            };
            // The mode it had, when a private format changes it.
            narrowed =
                meta.as_ref().map(|m| m.mode() & 0o7777).filter(|mode| format.private && *mode != 0o600);
            Some(TempFile(write_temp(dir, &name, &new, meta.as_ref(), format.private)?))
        };
        // From here until the swap, nobody may be writing the file (see `quiet.rs`).
        let guard = match held.take() {
            Some(g) => g,
            None => Quiet::hold(&target).map_err(|e| hold_err(&target, e))?,
        };
        if guard.as_ref().map(Quiet::content) != base.as_deref() {
            // Somebody wrote since our read: build again on what is there now, holding it.
            merged += 1;
            base = guard.as_ref().map(|g| g.content().to_vec());
            held = Some(guard);
            continue;
        }
        let Some(tmp) = tmp else {
            return Ok(Outcome::Unchanged);
        };
        before_swap(&target);
        match swap_in(&tmp.0, &target, dir, guard)? {
            Swapped::Done => {
                if let Some(mode) = narrowed {
                    tracing::info!(
                        path = %path.display(),
                        "made the file private (mode {mode:04o} → 0600): it holds secrets"
                    );
                }
                return Ok(Outcome::Written { merged_outside_edits: merged });
            }
            Swapped::Raced => {
                // Another program wrote, or was about to write, during the swap; its version is
                // in place and ours is not. Wait for it to finish and build on what it wrote.
                merged += 1;
                tracing::info!(
                    path = %path.display(),
                    "another program wrote this file while credd was writing it; re-applying credd's edit on top of its version"
                );
                let guard = Quiet::hold(&target).map_err(|e| hold_err(&target, e))?;
                base = guard.as_ref().map(|g| g.content().to_vec());
                held = Some(guard);
            }
            Swapped::Changed => {
                base = read_quiet(&target)?;
            }
        }
    }
    Err(WriteError::Contended { path: path.to_path_buf(), attempts: MAX_ATTEMPTS })
}

/// A temp file that is removed unless it was swapped in.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn hold_err(path: &Path, e: HoldError) -> WriteError {
    match e {
        HoldError::Busy => WriteError::Contended { path: path.to_path_buf(), attempts: 0 },
        HoldError::Io(e) => WriteError::Unreadable(ReadFailure::classify(path, &e)),
    }
}

/// Follows a chain of symlinks to the file that is really written. A dangling link resolves to its
/// (future) target.
fn resolve_symlinks(path: &Path) -> Result<PathBuf, WriteError> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&current).map_err(io_err(&current, "read the symlink"))?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io_err(path, "follow the symlink")(io::Error::other("too many levels of symlinks")))
}

const TEMP_MARK: &str = ".credd-tmp-";

fn write_temp(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    original: Option<&fs::Metadata>,
    private: bool,
) -> Result<PathBuf, WriteError> {
    let tmp = dir.join(format!(".{name}{TEMP_MARK}{}-{:08x}", std::process::id(), fastrand::u32(..)));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        // Name the directory, which is what the user can fix, not a temp file that never was.
        .map_err(io_err(dir, "create a file in the directory"))?;
    let result = (|| {
        if let Some(m) = original {
            // Keep the owner (matters when root edits a user's file) before the mode, since
            // chown may clear setuid-style bits.
            if m.uid() != crate::sys::uid() || m.gid() != crate::sys::gid() {
                match std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid())) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {}
                    Err(e) => return Err(e),
                }
            }
            if !private {
                f.set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))?;
            }
        }
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        drop(f);
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&tmp, "write the temp file")(e));
    }
    Ok(tmp)
}

enum Swapped {
    /// Our file is in place, and it replaced exactly what the edit was built on.
    Done,
    /// Another program wrote, or was waiting to write, while we swapped. Its version is in place
    /// (we swapped it back), ours is not: start over on top of it.
    Raced,
    /// The target appeared or vanished before we could swap.
    Changed,
}

/// Puts `tmp` at `target`, whose content the edit was built on is in `guard` (`None`: there
/// was no file), with writers held off. Never publishes a file that lacks a write another program made meanwhile: if one
/// raced the exchange, its file goes back where it was before anybody can read ours.
fn swap_in(tmp: &Path, target: &Path, dir: &Path, guard: Option<Quiet>) -> Result<Swapped, WriteError> {
    let ours = inode(tmp)?;
    let Some(guard) = guard else {
        // Creating: a hard link fails if someone created the file meanwhile, so nothing is lost.
        return match fs::hard_link(tmp, target) {
            Ok(()) => {
                sync_dir(dir)?;
                Ok(Swapped::Done)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Swapped::Changed),
            Err(_) if target.exists() => Ok(Swapped::Changed),
            Err(_) => {
                fs::rename(tmp, target).map_err(io_err(target, "create it"))?;
                sync_dir(dir)?;
                Ok(Swapped::Done)
            }
        };
    };
    // Someone opened the file for writing since we read it, or replaced it by rename: let its
    // write stand, and start over on it.
    if guard.writer_waiting() || inode(target).ok() != Some(guard.inode()) {
        return Ok(Swapped::Raced);
    }
    let ours_leased = guard.lease_ours(tmp);
    match exchange(tmp, target) {
        Ok(()) => {
            // `tmp` now names what `target` held an instant ago. If that is not the file we read,
            // or a writer is waiting to write into it, ours must not stay: a program reading the
            // file now would build on a version without that write. So the checks that decide it
            // come first and are cheap; the content compare (for the fallback) comes after.
            // Last, a writer whose `open` found the old file by name before the exchange may
            // reach the lease only now: it is given `quiet::LATE_OPEN` to show itself (else its
            // write lands in the file we displace: `docs/reliability.md`, step 4).
            if inode(tmp)? != guard.inode()
                || guard.writer_waiting()
                || !guard.unchanged_at(tmp).map_err(io_err(tmp, "read it"))?
                || guard.late_writer(ours_leased.as_ref())
            {
                put_back(tmp, target, ours)?;
                return Ok(Swapped::Raced);
            }
            drop((guard, ours_leased));
            sync_dir(dir)?;
            Ok(Swapped::Done)
        }
        Err(e) if exchange_unsupported(&e) => {
            // Writers are held off (or, without a lease, were quiet) and the content was just
            // compared, so a plain rename loses nothing the guard could see.
            fs::rename(tmp, target).map_err(io_err(target, "replace it"))?;
            drop(guard);
            sync_dir(dir)?;
            Ok(Swapped::Done)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Swapped::Changed),
        Err(e) => Err(io_err(target, "replace it")(e)),
    }
}

/// Undoes an exchange that displaced another program's write: its file goes back to `target`
/// and ours to `tmp`. If a program replaced ours in the instant between, what it put there is
/// newer than what we displaced, so that goes back instead.
fn put_back(tmp: &Path, target: &Path, ours: (u64, u64)) -> Result<(), WriteError> {
    const ACTION: &str = "put back another program's version of";
    exchange(tmp, target).map_err(io_err(target, ACTION))?;
    if inode(tmp)? != ours {
        exchange(tmp, target).map_err(io_err(target, ACTION))?;
    }
    Ok(())
}

fn inode(path: &Path) -> Result<(u64, u64), WriteError> {
    fs::metadata(path).map(|m| (m.dev(), m.ino())).map_err(io_err(path, "stat it"))
}

fn exchange_unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::ENOTSUP))
}

fn cstr(p: &Path) -> io::Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let (a, b) = (cstr(a)?, cstr(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
    // Called through syscall() because not every libc wraps renameat2.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(target_os = "macos")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let (a, b) = (cstr(a)?, cstr(b)?);
    // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe { libc::renamex_np(a.as_ptr(), b.as_ptr(), libc::RENAME_SWAP) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

fn sync_dir(dir: &Path) -> Result<(), WriteError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir, "sync the directory"))
}

/// Removes temp files left by credd writers that were killed. Only files whose writer process is
/// gone are touched, so a concurrent writer from an older credd without the lock is safe too.
fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}{TEMP_MARK}");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if !crate::sys::process_alive(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// An advisory lock on the directory, held for the whole read-edit-swap cycle.
struct DirLock(File);

impl DirLock {
    fn acquire(dir: &Path) -> Result<DirLock, WriteError> {
        let f = File::open(dir).map_err(io_err(dir, "open the directory to lock it"))?;
        let deadline = Instant::now() + LOCK_TIMEOUT;
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(DirLock(f)),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(WriteError::Contended { path: dir.to_path_buf(), attempts: 0 });
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(io_err(dir, "lock the directory")(e));
                }
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
