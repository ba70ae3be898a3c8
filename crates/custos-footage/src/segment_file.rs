//! One segment file being written: init segment, then one `moof`+`mdat` per GOP, each made
//! durable (fsync) before the next, hashing as it goes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use custos_core::{Error, Result};
use sha2::{Digest, Sha256};

use crate::protect::{self, Protection};

/// Writes through to the file and the running hash together.
struct HashingWriter<'a> {
    file: &'a mut File,
    hasher: &'a mut Sha256,
    written: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

pub(crate) struct SegmentFile {
    path: PathBuf,
    file: File,
    hasher: Sha256,
    len: u64,
    next_seq: u32,
}

impl SegmentFile {
    /// Creates the file (never overwriting one) and writes the init segment.
    pub fn create(
        path: &Path,
        sample_entry: &[u8],
        width: u16,
        height: u16,
    ) -> Result<SegmentFile> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io(format!("creating segment {}", path.display()), e))?;
        let mut s = SegmentFile {
            path: path.to_path_buf(),
            file,
            hasher: Sha256::new(),
            len: 0,
            next_seq: 1,
        };
        let mut w = HashingWriter {
            file: &mut s.file,
            hasher: &mut s.hasher,
            written: 0,
        };
        custos_mp4::write_init_segment(&mut w, sample_entry, width, height, 90_000)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        s.len = w.written;
        // Make the new directory entry durable too.
        if let Some(dir) = path.parent()
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(s)
    }

    /// Appends one fragment and makes it durable. On failure the file is truncated back to the
    /// last complete fragment, so what was written before is kept intact.
    pub fn append(
        &mut self,
        base_decode_time: u64,
        samples: &[custos_mp4::FragmentSample<'_>],
    ) -> Result<()> {
        let before = self.len;
        let mut hasher = self.hasher.clone();
        let mut w = HashingWriter {
            file: &mut self.file,
            hasher: &mut hasher,
            written: 0,
        };
        // Coalesce the fragment's many small writes (headers, P-frames) into few syscalls.
        let r = {
            let mut buf = std::io::BufWriter::with_capacity(256 * 1024, &mut w);
            custos_mp4::write_fragment(&mut buf, self.next_seq, base_decode_time, samples)
                .and_then(|_| buf.flush())
        };
        let r = r.and_then(|_| w.file.sync_data());
        let written = w.written;
        match r {
            Ok(()) => {
                self.hasher = hasher;
                self.len = before + written;
                self.next_seq += 1;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(before);
                let _ = self.file.sync_data();
                use std::io::Seek;
                let _ = self.file.seek(std::io::SeekFrom::Start(before));
                Err(Error::io(
                    format!("writing fragment to {}", self.path.display()),
                    e,
                ))
            }
        }
    }

    pub fn fragments(&self) -> u32 {
        self.next_seq - 1
    }

    /// Final fsync, read-only permissions and, where possible, the immutable flag (made
    /// durable with a second, metadata-only fsync); returns (bytes, hex SHA-256).
    pub fn seal(self) -> Result<(u64, String)> {
        self.file
            .sync_all()
            .map_err(|e| Error::io(format!("syncing {}", self.path.display()), e))?;
        if make_read_only(&self.path)?.applied() {
            let _ = self.file.sync_all();
        }
        Ok((self.len, hex::encode(self.hasher.finalize())))
    }

    /// Drops a file that never received a fragment.
    pub fn discard(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Sealed segments are read-only (mode 0444) and, where the filesystem and privileges allow,
/// immutable (`chattr +i`, [`crate::protect`]): then not even root can change or delete them
/// without first clearing the flag. Root still can clear it, which the hash in the index (and
/// the ledger) detects. Failing to set the flag never fails the seal: it is logged once per
/// run. Returns what the flag achieved.
pub(crate) fn make_read_only(path: &Path) -> Result<Protection> {
    // An immutable file refuses chmod, even to the mode it has (a seal repeated by recovery
    // after a crash between flagging and committing the row).
    let mode = std::fs::metadata(path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
        .permissions()
        .mode();
    if mode & 0o7777 != 0o444 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444))
            .map_err(|e| Error::io(format!("making {} read-only", path.display()), e))?;
    }
    let p = protect::make_immutable(path);
    protect::note_segments(p, path.parent().unwrap_or(path));
    Ok(p)
}

/// Hashes a whole file.
pub(crate) fn sha256_file(path: &Path) -> Result<(u64, String)> {
    let mut f =
        File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok((n, hex::encode(h.finalize())))
}
