//! Writing a shared file so that nothing is ever lost: not on a crash, not to a racing writer.
//!
//! One update is: lock, read, parse (refuse if unparseable), apply the edit, write a temp file in
//! the same directory with the original's mode and owner, fsync it, swap it in atomically, fsync
//! the directory.
//!
//! The swap is where other tools' edits get lost in every tool that writes this file today: an
//! edit that lands between our read and our rename is overwritten. Here the swap is an atomic
//! *exchange* (`renameat2(RENAME_EXCHANGE)` on Linux, `renamex_np(RENAME_SWAP)` on macOS), so the
//! file we displace is still in hand afterwards. If it is not what we read, somebody wrote in
//! between: we apply our edit to *their* version and swap again, a bounded number of times. Where
//! the filesystem cannot exchange, we compare just before a plain rename instead, which narrows
//! the window to microseconds.
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
    #[error("{path}: could not {action}: {source}", path = .path.display())]
    Io { path: PathBuf, action: &'static str, source: io::Error },
    #[error(
        "{path}: the file kept changing while credd tried to update it ({attempts} attempts); \
         nothing of yours was lost, and credd will try again", path = .path.display()
    )]
    Contended { path: PathBuf, attempts: u32 },
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

/// Reads `path` into a document. A missing file is an empty document.
pub fn read_document(path: &Path, kind: FileKind) -> Result<Option<Document>, WriteError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(Document::parse_bytes(&bytes, kind, path)?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path, "read it")(e)),
    }
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
    };
    update_with(path, &format, edit, before_swap)
}

/// How to read and write one kind of text file, for [`update_with`].
pub struct Format<'a, T> {
    pub parse: &'a dyn Fn(&[u8]) -> Result<T, ParseError>,
    pub empty: &'a dyn Fn() -> T,
    pub render: &'a dyn Fn(&T) -> Vec<u8>,
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

    // `base` is what the edit applies to; `expected` is what we believe is on disk right now.
    let mut base = read_bytes(&target)?;
    let mut expected = base.clone();
    let mut merged = 0;
    for _attempt in 0..MAX_ATTEMPTS {
        let mut doc = match &base {
            Some(bytes) => (format.parse)(bytes)?,
            None => (format.empty)(),
        };
        edit(&mut doc).map_err(|source| WriteError::Edit { path: path.to_path_buf(), source })?;
        let new = (format.render)(&doc);
        if base.as_deref() == Some(new.as_slice()) && base == expected {
            return Ok(Outcome::Unchanged);
        }
        // Never write what we could not read back. `edit_profile` already checks this; this is
        // the last line of defence for any other edit function.
        (format.parse)(&new)?;
        let meta = match &expected {
            Some(_) => Some(fs::metadata(&target).map_err(io_err(&target, "stat it"))?),
            None => None,
        };
        let tmp = write_temp(dir, &name, &new, meta.as_ref())?;
        before_swap(&target);
        let displaced = match swap_in(&tmp, &target, expected.as_deref()) {
            Ok(d) => d,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        match displaced {
            Swapped::Done => {
                sync_dir(dir)?;
                return Ok(Outcome::Written { merged_outside_edits: merged });
            }
            Swapped::Displaced(theirs) => {
                // Somebody wrote between our read and our swap. Their content is `theirs`; ours
                // (without their change) is on disk now. Apply the edit to theirs and go again.
                sync_dir(dir)?;
                merged += 1;
                tracing::info!(
                    path = %path.display(),
                    "another program wrote this file while credd was writing it; re-applying credd's edit on top of its version"
                );
                base = theirs;
                expected = Some(new);
            }
            Swapped::Changed => {
                // The plain-rename fallback saw a change before renaming and did not rename.
                base = read_bytes(&target)?;
                expected = base.clone();
            }
        }
    }
    Err(WriteError::Contended { path: path.to_path_buf(), attempts: MAX_ATTEMPTS })
}

fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, WriteError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path, "read it")(e)),
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
) -> Result<PathBuf, WriteError> {
    let tmp = dir.join(format!(".{name}{TEMP_MARK}{}-{:08x}", std::process::id(), fastrand::u32(..)));
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err(&tmp, "create a temp file"))?;
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
            f.set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))?;
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
    /// Our file is in place and what it replaced was what we expected.
    Done,
    /// Our file is in place, but it replaced this unexpected content (an outside write).
    Displaced(Option<Vec<u8>>),
    /// Fallback path only: the file changed before we renamed, so we did not.
    Changed,
}

/// Puts `tmp` at `target`. `expected` is the content we believe `target` has (None: absent).
fn swap_in(tmp: &Path, target: &Path, expected: Option<&[u8]>) -> Result<Swapped, WriteError> {
    if expected.is_none() {
        // Creating: a hard link fails if someone created the file meanwhile, so nothing is lost.
        return match fs::hard_link(tmp, target) {
            Ok(()) => {
                let _ = fs::remove_file(tmp);
                Ok(Swapped::Done)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(tmp);
                Ok(Swapped::Changed)
            }
            Err(_) => rename_if_unchanged(tmp, target, expected),
        };
    }
    match exchange(tmp, target) {
        Ok(()) => {
            // `tmp` now names what `target` held an instant ago.
            let displaced = read_bytes(tmp)?;
            let _ = fs::remove_file(tmp);
            if displaced.as_deref() == expected {
                Ok(Swapped::Done)
            } else {
                Ok(Swapped::Displaced(displaced))
            }
        }
        Err(e) if exchange_unsupported(&e) => rename_if_unchanged(tmp, target, expected),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // The target vanished since we read it: treat it as a change and start over.
            let _ = fs::remove_file(tmp);
            Ok(Swapped::Changed)
        }
        Err(e) => {
            let _ = fs::remove_file(tmp);
            Err(io_err(target, "replace it")(e))
        }
    }
}

fn rename_if_unchanged(tmp: &Path, target: &Path, expected: Option<&[u8]>) -> Result<Swapped, WriteError> {
    if read_bytes(target)?.as_deref() != expected {
        let _ = fs::remove_file(tmp);
        return Ok(Swapped::Changed);
    }
    fs::rename(tmp, target).map_err(io_err(target, "replace it"))?;
    Ok(Swapped::Done)
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
