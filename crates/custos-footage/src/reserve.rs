//! The space reserve of the data directory (E7, F2): a preallocated file that holds back room
//! for the index and the ledger.
//!
//! Footage writes already stop at a free-space floor ([`crate::recorder::footage_floor`]), but
//! another program can still fill the filesystem. When a gap row or its ledger entry cannot be
//! written for lack of space, the recorder deletes this file and tries again, so the outage is
//! still recorded. The file is made again at the next start when there is room.

use std::io::Write as _;
use std::path::PathBuf;

use custos_core::{Error, Result};

use crate::layout::DataDir;
use crate::retention::{DiskSpace, Statvfs};

/// Largest reserve; filesystems under 128 MiB reserve a sixteenth of their size.
pub const RESERVE_BYTES: u64 = 8 << 20;

fn path(data: &DataDir) -> PathBuf {
    data.root().join("space-reserve")
}

/// Makes sure the reserve exists. Returns its size, 0 when there is no room for it (then the
/// floor alone protects the index and the ledger).
pub fn ensure(data: &DataDir) -> Result<u64> {
    let p = path(data);
    let space = Statvfs.space(data.root())?;
    let want = RESERVE_BYTES.min(space.total_bytes / 16);
    if let Ok(m) = std::fs::metadata(&p)
        && m.len() >= want
    {
        return Ok(m.len());
    }
    let floor = crate::recorder::footage_floor(space.total_bytes);
    if space.free_bytes < want + floor {
        tracing::warn!(
            free = space.free_bytes,
            "no room for the space reserve of the data directory; relying on the free-space floor"
        );
        return Ok(0);
    }
    let tmp = p.with_extension("tmp");
    let r = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        // Allocated blocks, not a sparse file: posix_fallocate, or zeros where the filesystem
        // cannot.
        if nix::fcntl::posix_fallocate(std::os::fd::AsRawFd::as_raw_fd(&f), 0, want as i64).is_err()
        {
            let zeros = vec![0u8; 1 << 20];
            let mut left = want;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                f.write_all(&zeros[..n])?;
                left -= n as u64;
            }
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &p)
    })();
    if let Err(e) = r {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(
            format!("making the space reserve {}", p.display()),
            e,
        ));
    }
    Ok(want)
}

/// Deletes the reserve; returns the bytes freed (0 if it was already used).
pub fn release(data: &DataDir) -> u64 {
    let p = path(data);
    let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
    if len > 0 && std::fs::remove_file(&p).is_ok() {
        tracing::warn!(
            bytes = len,
            "disk full: released the space reserve so the index and the ledger can record the outage"
        );
        return len;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E7, F2: the reserve is made once at its size and released once.
    #[test]
    fn e7_f2_reserve_made_and_released() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::create(dir.path()).unwrap();
        let n = ensure(&data).unwrap();
        assert!(n > 0);
        assert_eq!(std::fs::metadata(path(&data)).unwrap().len(), n);
        assert_eq!(ensure(&data).unwrap(), n);
        assert_eq!(release(&data), n);
        assert!(!path(&data).exists());
        assert_eq!(release(&data), 0);
    }
}
