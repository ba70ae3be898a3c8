//! Filesystem protection of what custos has finished writing (E3, E4): Linux inode flags that
//! even root must clear before changing a file.
//!
//! * Sealed segments get `FS_IMMUTABLE_FL` (`chattr +i`) after their final fsync and chmod 0444:
//!   no write, truncation, rename, unlink or chmod, by anyone, until the flag is cleared. Only
//!   [`crate::retention::delete_expired`] clears it, for a segment it has proved expired and not
//!   held.
//! * The ledger's log files (`entries.log`, `entries.idx`, `hashes`, `checkpoints.log`) get
//!   `FS_APPEND_FL` (`chattr +a`): they can be opened for writing only with `O_APPEND` and never
//!   truncated. custos-ledger clears it only around its own torn-tail cut, under its exclusive
//!   lock, and restores it at once.
//!
//! Setting or clearing either flag needs `CAP_LINUX_IMMUTABLE` (root has it) and a filesystem
//! that supports the flags (ext4, xfs, btrfs, tmpfs since Linux 6.0; not most FUSE or network
//! filesystems). Without them custos records as before (mode 0444 only) and says so once per
//! run. The flags keep out mistakes, non-root users and careless scripts; root can clear them.
//! What root can do is detected rather than prevented: see "Trust model" in
//! `docs/architecture.md`.

use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

use custos_ledger::fsflags;
use nix::errno::Errno;
use nix::libc;

pub use custos_ledger::fsflags::{FS_APPEND_FL, FS_IMMUTABLE_FL};

/// The ledger files that get `FS_APPEND_FL` (all but `lock`, which is never written).
pub const LEDGER_FILES: [&str; 4] = [
    custos_ledger::storage::ENTRIES_FILE,
    custos_ledger::storage::INDEX_FILE,
    custos_ledger::storage::HASHES_FILE,
    custos_ledger::storage::CHECKPOINTS_FILE,
];

/// What setting (or clearing) a flag achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protection {
    /// The flag is in effect (or was cleared, for the clearing functions).
    Applied,
    /// The filesystem has no such flag (`EOPNOTSUPP`/`ENOTTY`: e.g. tmpfs before Linux 6.0,
    /// most FUSE and network filesystems), or it ignored it.
    Unsupported,
    /// Not allowed (`EPERM`): not root, or without `CAP_LINUX_IMMUTABLE`.
    NotPermitted,
    /// Any other error (the file vanished, I/O error, ...).
    Failed(Errno),
}

impl Protection {
    fn from_errno(e: Errno) -> Protection {
        match e {
            Errno::EOPNOTSUPP | Errno::ENOTTY | Errno::ENOSYS | Errno::EINVAL => {
                Protection::Unsupported
            }
            Errno::EPERM | Errno::EACCES => Protection::NotPermitted,
            e => Protection::Failed(e),
        }
    }

    /// True when the flag is in effect.
    pub fn applied(self) -> bool {
        self == Protection::Applied
    }

    /// The weaker of two outcomes (for a group of files).
    fn min(self, other: Protection) -> Protection {
        let rank = |p: Protection| match p {
            Protection::Applied => 3,
            Protection::NotPermitted => 2,
            Protection::Unsupported => 1,
            Protection::Failed(_) => 0,
        };
        if rank(other) < rank(self) {
            other
        } else {
            self
        }
    }
}

impl std::fmt::Display for Protection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Protection::Applied => f.write_str("applied"),
            Protection::Unsupported => f.write_str("not supported by the filesystem"),
            Protection::NotPermitted => {
                f.write_str("not permitted (needs root or CAP_LINUX_IMMUTABLE)")
            }
            Protection::Failed(e) => write!(f, "failed ({e})"),
        }
    }
}

/// Opens `path` for the flag ioctls (see [`custos_ledger::fsflags::open_for_flags`]).
fn open_for_flags(path: &Path) -> Result<File, Errno> {
    fsflags::open_for_flags(path)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}

/// The inode flags of `path` (`FS_IOC_GETFLAGS`).
pub fn flags(path: &Path) -> std::io::Result<libc::c_int> {
    fsflags::of_path(path)
}

/// Whether `path` carries `FS_IMMUTABLE_FL` (false if it cannot be read).
pub fn is_immutable(path: &Path) -> bool {
    flags(path).is_ok_and(|f| f & FS_IMMUTABLE_FL != 0)
}

/// Whether `path` carries `FS_APPEND_FL` (false if it cannot be read).
pub fn is_append_only(path: &Path) -> bool {
    flags(path).is_ok_and(|f| f & FS_APPEND_FL != 0)
}

/// Sets (`on`) or clears `flag` on `path`, keeping its other flags; reads the flags back, so a
/// filesystem that silently ignores the flag counts as [`Protection::Unsupported`].
fn change(path: &Path, flag: libc::c_int, on: bool) -> Protection {
    let r = (|| {
        let f = open_for_flags(path)?;
        let old = fsflags::get(&f)?;
        let new = if on { old | flag } else { old & !flag };
        if new == old {
            return Ok(Protection::Applied);
        }
        fsflags::set(&f, new)?;
        let now = fsflags::get(&f)?;
        Ok(if (now & flag != 0) == on {
            Protection::Applied
        } else {
            Protection::Unsupported
        })
    })();
    r.unwrap_or_else(Protection::from_errno)
}

/// Makes a sealed segment immutable (`chattr +i`). Call after its final fsync and chmod 0444.
pub fn make_immutable(path: &Path) -> Protection {
    change(path, FS_IMMUTABLE_FL, true)
}

/// Makes a file append-only (`chattr +a`).
pub fn make_append_only(path: &Path) -> Protection {
    change(path, FS_APPEND_FL, true)
}

/// Clears the immutable flag of a segment about to be deleted. Only the retention sweeper's
/// [`crate::retention::delete_expired`] calls it, with a proof that the segment expired.
pub(crate) fn clear_immutable_of_expired(path: &Path) -> Protection {
    change(path, FS_IMMUTABLE_FL, false)
}

/// Makes the ledger files in `dir` append-only; the weakest outcome over the files that
/// exist.
pub fn protect_ledger(dir: &Path) -> Protection {
    LEDGER_FILES
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| p.exists())
        .map(|p| make_append_only(&p))
        .fold(Protection::Applied, Protection::min)
}

/// Whether sealed segments written in `dir` can be made immutable: tries it on a scratch file
/// (created, flagged, unflagged, removed).
pub fn probe(dir: &Path) -> Protection {
    let p = dir.join(format!(".custos-protect-probe-{}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    if let Err(e) = File::create(&p) {
        return Protection::Failed(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)));
    }
    let r = make_immutable(&p);
    if r.applied() {
        let _ = change(&p, FS_IMMUTABLE_FL, false);
    }
    let _ = std::fs::remove_file(&p);
    r
}

/// The segment protection last logged in this process, so it is logged once per run (and
/// again only if it changes, e.g. footage on another filesystem).
static SEGMENTS_LOGGED: Mutex<Option<Protection>> = Mutex::new(None);

/// Logs what protection sealed segments get, once per run.
pub fn note_segments(p: Protection, dir: &Path) {
    let mut last = SEGMENTS_LOGGED.lock().unwrap_or_else(|e| e.into_inner());
    if *last == Some(p) {
        return;
    }
    *last = Some(p);
    if p.applied() {
        tracing::info!(
            dir = %dir.display(),
            "sealed segments are mode 0444 and immutable (chattr +i): not even root can change or delete them without first clearing the flag"
        );
    } else {
        tracing::warn!(
            dir = %dir.display(),
            "sealed segments are mode 0444 only: the immutable flag (chattr +i) is {p}; root can change or delete them (custos verify still detects it)"
        );
    }
}

/// Logs what protection the ledger files have (the recorder calls it once at start).
pub fn note_ledger(p: Protection, dir: &Path) {
    if p.applied() {
        tracing::info!(
            dir = %dir.display(),
            "ledger files are append-only (chattr +a): not even root can rewrite or truncate them without first clearing the flag"
        );
    } else {
        tracing::warn!(
            dir = %dir.display(),
            "ledger files are not append-only: the append-only flag (chattr +a) is {p}; the Merkle tree and signed checkpoints still detect changes"
        );
    }
}
