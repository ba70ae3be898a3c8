//! File storage: record framing and the [`Ledger`] itself. See `FORMAT.md`.

use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, Read};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{SigningKey, VerifyingKey};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};

use crate::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::entry::{Action, Entry, NewEntry};
use crate::error::{Error, Result};
use crate::merkle::{self, Frontier, Hash, HashSource};

/// `entries.log` file name.
pub const ENTRIES_FILE: &str = "entries.log";
/// `entries.idx` file name.
pub const INDEX_FILE: &str = "entries.idx";
/// `hashes` file name.
pub const HASHES_FILE: &str = "hashes";
/// `checkpoints.log` file name.
pub const CHECKPOINTS_FILE: &str = "checkpoints.log";
/// Lock file name: `flock`ed (never written) to serialise processes; see the crate docs.
pub const LOCK_FILE: &str = "lock";
/// Magic header of `entries.log`.
pub const ENTRIES_MAGIC: &[u8; 8] = b"CSTLENT1";
/// Magic header of `checkpoints.log`.
pub const CHECKPOINTS_MAGIC: &[u8; 8] = b"CSTLCKP1";
/// Largest record payload accepted (16 MiB).
pub const MAX_RECORD: u32 = 16 << 20;
/// Bytes of framing around a payload: 4 (length) + 4 (check).
pub const FRAMING: u64 = 8;

/// First four bytes of `SHA-256(payload)`: the record check value.
pub fn record_check(payload: &[u8]) -> [u8; 4] {
    let d = Sha256::digest(payload);
    [d[0], d[1], d[2], d[3]]
}

/// Append a framed record (`u32 LE length ‖ payload ‖ check`) to `out`.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&record_check(payload));
}

/// What reading one framed record found.
#[derive(Debug)]
pub enum RecordRead {
    /// A complete, well-checked record.
    Ok(Vec<u8>),
    /// The file ends inside the record (a torn write): `need` bytes needed, `have` present.
    Torn {
        /// Bytes the record needs from its start.
        need: u64,
        /// Bytes present from its start to end of file.
        have: u64,
    },
    /// Length out of range or check mismatch.
    Bad(String),
}

/// Read one framed record starting at `off` of a file of length `len` (positional read).
pub fn read_record_at(f: &File, off: u64, len: u64) -> std::io::Result<RecordRead> {
    let have = len.saturating_sub(off);
    if have < 4 {
        return Ok(RecordRead::Torn { need: 4, have });
    }
    let mut l = [0u8; 4];
    f.read_exact_at(&mut l, off)?;
    let plen = u32::from_le_bytes(l);
    if plen > MAX_RECORD {
        return Ok(RecordRead::Bad(format!(
            "record length {plen} exceeds the maximum {MAX_RECORD}"
        )));
    }
    let need = FRAMING + u64::from(plen);
    if have < need {
        return Ok(RecordRead::Torn { need, have });
    }
    let mut buf = vec![0u8; plen as usize + 4];
    f.read_exact_at(&mut buf, off + 4)?;
    let check: [u8; 4] = buf[plen as usize..].try_into().unwrap_or_default();
    buf.truncate(plen as usize);
    if record_check(&buf) != check {
        return Ok(RecordRead::Bad("record check value mismatch".into()));
    }
    Ok(RecordRead::Ok(buf))
}

/// Sequential framed-record reader (buffered), for the verifier and scans.
pub struct RecordReader {
    r: BufReader<File>,
    off: u64,
    len: u64,
}

impl RecordReader {
    /// Read records of `f` (of length `len`) from byte `off`.
    pub fn new(f: File, off: u64, len: u64) -> std::io::Result<Self> {
        use std::io::{Seek, SeekFrom};
        let mut r = BufReader::with_capacity(1 << 20, f);
        r.seek(SeekFrom::Start(off))?;
        Ok(Self { r, off, len })
    }
    /// Offset of the next record.
    pub fn offset(&self) -> u64 {
        self.off
    }
    /// Next record, `None` at a clean end of file. After `Torn`/`Bad` the reader stops
    /// being meaningful (the caller stops).
    pub fn next_record(&mut self) -> std::io::Result<Option<RecordRead>> {
        let have = self.len - self.off;
        if have == 0 {
            return Ok(None);
        }
        if have < 4 {
            return Ok(Some(RecordRead::Torn { need: 4, have }));
        }
        let mut l = [0u8; 4];
        self.r.read_exact(&mut l)?;
        let plen = u32::from_le_bytes(l);
        if plen > MAX_RECORD {
            return Ok(Some(RecordRead::Bad(format!(
                "record length {plen} exceeds the maximum {MAX_RECORD}"
            ))));
        }
        let need = FRAMING + u64::from(plen);
        if have < need {
            return Ok(Some(RecordRead::Torn { need, have }));
        }
        let mut buf = vec![0u8; plen as usize + 4];
        self.r.read_exact(&mut buf)?;
        self.off += need;
        let check: [u8; 4] = buf[plen as usize..].try_into().unwrap_or_default();
        buf.truncate(plen as usize);
        if record_check(&buf) != check {
            return Ok(Some(RecordRead::Bad("record check value mismatch".into())));
        }
        Ok(Some(RecordRead::Ok(buf)))
    }
}

/// fsync a directory (after creating or renaming entries in it).
pub fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync directory", dir))
}

/// Result of one append: where the entry landed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    /// Sequence number (= leaf index).
    pub seq: u64,
    /// RFC 9162 leaf hash of the entry's canonical bytes.
    #[serde(with = "hex_hash")]
    pub leaf_hash: Hash,
    /// Tree size after the batch containing this entry.
    pub tree_size_after: u64,
}

mod hex_hash {
    pub fn serialize<S: serde::Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }
}

/// What [`Ledger::open`] repaired. Never silent: callers log it; a repair of the entry log
/// is also recorded in the ledger itself as a [`Action::LedgerRecovered`] entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Recovery {
    /// Human-readable description of each repair, naming the file and byte offset.
    pub repairs: Vec<String>,
    /// Bytes of torn trailing record removed from `entries.log`.
    pub entries_truncated_bytes: u64,
    /// Bytes of torn trailing record removed from `checkpoints.log`.
    pub checkpoints_truncated_bytes: u64,
    /// Entries re-indexed into `entries.idx` / `hashes` from `entries.log`.
    pub reindexed: u64,
    /// Seq of the `LedgerRecovered` entry recording the repair, if one was written.
    pub recorded_as: Option<u64>,
}

impl Recovery {
    /// True when nothing was repaired.
    pub fn is_clean(&self) -> bool {
        self.repairs.is_empty()
    }
}

/// When to sign a checkpoint: after `every_entries` new entries or when the latest
/// checkpoint is older than `every` and there are new entries. The server runs the timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointCadence {
    /// Entries since the last checkpoint that force a new one.
    pub every_entries: u64,
    /// Age of the last checkpoint that forces a new one (if anything was appended).
    pub every: Duration,
}

impl Default for CheckpointCadence {
    fn default() -> Self {
        Self {
            every_entries: 1000,
            every: Duration::from_secs(10),
        }
    }
}

impl CheckpointCadence {
    /// Whether a checkpoint is due for a log of `len` entries whose latest checkpoint is
    /// `latest` (`(tree_size, time_unix_ms)`), at `now_ms`.
    pub fn due(&self, len: u64, latest: Option<(u64, u64)>, now_ms: u64) -> bool {
        let (size, t) = latest.unwrap_or((0, 0));
        if len <= size {
            return false;
        }
        len - size >= self.every_entries
            || now_ms.saturating_sub(t) >= self.every.as_millis() as u64
    }
}

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

fn system_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

struct Files {
    dir: PathBuf,
    /// The `lock` file: only ever `flock`ed, never written. Each [`Ledger`] opens it
    /// itself, so two instances (in one process or two) hold distinct open file
    /// descriptions and their `flock`s conflict.
    lock: File,
    entries: File,
    index: File,
    hashes: File,
    checkpoints: File,
}

impl Files {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// What this process knows of the files. Everything below these lengths is immutable
/// (append-only, and only a crashed writer's unacknowledged tail is ever cut), so it may
/// be read without the file lock once known.
struct Inner {
    files: Files,
    /// Number of entries.
    len: u64,
    /// Byte length of entries.log up to the end of record `len - 1`.
    entries_end: u64,
    /// Byte length of checkpoints.log up to the end of the last known checkpoint.
    checkpoints_end: u64,
    /// Number of checkpoint records before `checkpoints_end`.
    checkpoints: u64,
    frontier: Frontier,
    last_time: u64,
    latest: Option<SignedCheckpoint>,
    poisoned: Option<String>,
    /// Repairs made by refreshes after open, until taken by [`Ledger::take_recoveries`].
    recoveries: Vec<Recovery>,
}

/// Hash source over the `hashes` file (positional reads, nothing held in memory).
struct FileHashes<'a> {
    f: &'a File,
    path: &'a Path,
    /// Stored hashes in the file that may be read.
    count: u64,
}

impl HashSource for FileHashes<'_> {
    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        let i = merkle::stored_hash_index(level, index);
        if i >= self.count {
            return Err(Error::Corrupt {
                what: "hashes file",
                location: format!("{} stored hash #{i}", self.path.display()),
                detail: format!(
                    "needed node (level {level}, index {index}) but the file holds {} hashes",
                    self.count
                ),
            });
        }
        let mut h = [0u8; 32];
        self.f
            .read_exact_at(&mut h, i * 32)
            .map_err(Error::io("read", self.path))?;
        Ok(h)
    }
}

/// Which `flock` to take on the lock file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LockMode {
    /// `LOCK_SH`: refresh in-memory state, never modify files.
    Shared,
    /// `LOCK_EX`: refresh with repair of a crashed writer's tail, then write.
    Exclusive,
}

/// Take `flock(mode)` on the lock file `lock` (at `path`), waiting at most `timeout`. The
/// lock is released when the returned value is dropped.
///
/// Uncontended, this is one `LOCK_NB` attempt on a duplicate of `lock`'s descriptor. When
/// another holder has it, a helper thread blocks in `flock` on a fresh open file
/// description of the same file, so the kernel wakes it as soon as the holder unlocks
/// (polling would starve against a busy writer), while this thread waits for it at most
/// `timeout`. If that passes, the helper unlocks and exits as soon as it gets the lock.
fn lock_file(lock: &File, path: &Path, mode: LockMode, timeout: Duration) -> Result<Flock<File>> {
    let (try_arg, wait_arg) = match mode {
        LockMode::Shared => (FlockArg::LockSharedNonblock, FlockArg::LockShared),
        LockMode::Exclusive => (FlockArg::LockExclusiveNonblock, FlockArg::LockExclusive),
    };
    let flock_err = |e: Errno| Error::Io {
        op: "flock",
        path: path.to_path_buf(),
        source: e.into(),
    };
    match Flock::lock(lock.try_clone().map_err(Error::io("dup", path))?, try_arg) {
        Ok(l) => return Ok(l),
        Err((_, Errno::EAGAIN | Errno::EINTR)) => {}
        Err((_, e)) => return Err(flock_err(e)),
    }
    let start = Instant::now();
    let fresh = File::open(path).map_err(Error::io("open", path))?;
    {
        use std::os::unix::fs::MetadataExt;
        let (a, b) = (
            lock.metadata().map_err(Error::io("stat", path))?,
            fresh.metadata().map_err(Error::io("stat", path))?,
        );
        if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
            return Err(Error::Inconsistent(format!(
                "lock file {} was replaced while the ledger was open; reopen the ledger",
                path.display()
            )));
        }
    }
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("custos-ledger-lock".into())
        .spawn(move || {
            let mut f = fresh;
            let r = loop {
                match Flock::lock(f, wait_arg) {
                    Err((back, Errno::EINTR)) => f = back,
                    other => break other.map_err(|(_, e)| e),
                }
            };
            // If the waiter gave up, the lock is dropped (released) right here.
            let _ = tx.send(r);
        })
        .map_err(Error::io("spawn lock waiter for", path))?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(l)) => Ok(l),
        Ok(Err(e)) => Err(flock_err(e)),
        Err(_) => Err(Error::Locked {
            path: path.to_path_buf(),
            waited: start.elapsed(),
        }),
    }
}

/// The in-process mutex plus the exclusive file lock. Field order matters: the `flock` is
/// released before the mutex, so no other thread of this instance can take (and then
/// see released) the same open file description's lock while this holder still uses it.
struct WriteGuard<'a> {
    _flock: Flock<File>,
    g: MutexGuard<'a, Inner>,
}

/// Default bound on waiting for the ledger's file lock ([`Ledger::set_lock_timeout`]).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The append-only ledger. Thread-safe (all methods take `&self`) and multi-process safe
/// (see the crate documentation, "Concurrency").
pub struct Ledger {
    inner: Mutex<Inner>,
    key: SigningKey,
    origin: String,
    clock: Mutex<Clock>,
    lock_timeout_ms: AtomicU64,
}

fn open_file(dir: &Path, name: &str, magic: Option<&[u8; 8]>, created: &mut bool) -> Result<File> {
    let p = dir.join(name);
    // O_APPEND: the files may be append-only (`chattr +a`, see [`cut`]), which admits no other
    // writer; every write is at the end anyway (Linux `pwrite` appends under O_APPEND).
    let f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .truncate(false)
        .open(&p)
        .map_err(Error::io("open", &p))?;
    let len = f.metadata().map_err(Error::io("stat", &p))?.len();
    if let Some(m) = magic {
        if len < 8 {
            // New file, or a crash while writing the header: header bytes present must be a
            // prefix of the magic (otherwise it is not our file).
            let mut b = vec![0u8; len as usize];
            f.read_exact_at(&mut b, 0).map_err(Error::io("read", &p))?;
            if b[..] != m[..len as usize] {
                return Err(Error::Corrupt {
                    what: "file header",
                    location: format!("{} offset 0", p.display()),
                    detail: format!("short file ({len} bytes) that is not a custos-ledger header"),
                });
            }
            f.write_all_at(&m[len as usize..], len)
                .map_err(Error::io("write header", &p))?;
            f.sync_all().map_err(Error::io("fsync", &p))?;
            *created = true;
        } else {
            let mut b = [0u8; 8];
            f.read_exact_at(&mut b, 0).map_err(Error::io("read", &p))?;
            if &b != m {
                return Err(Error::Corrupt {
                    what: "file header",
                    location: format!("{} offset 0", p.display()),
                    detail: format!(
                        "magic is {:?}, want {:?}",
                        String::from_utf8_lossy(&b),
                        String::from_utf8_lossy(m)
                    ),
                });
            }
        }
    } else if len == 0 {
        *created = true;
    }
    Ok(f)
}

fn file_len(f: &File, p: &Path) -> Result<u64> {
    Ok(f.metadata().map_err(Error::io("stat", p))?.len())
}

fn truncate(f: &File, p: &Path, len: u64) -> Result<()> {
    cut(f, len).map_err(Error::io("truncate", p))?;
    f.sync_all().map_err(Error::io("fsync", p))
}

/// `set_len` that works on an append-only file. The custos recorder makes the four log files
/// append-only (`chattr +a`) where the filesystem allows; appends need nothing, but a cut (a
/// rollback or torn-tail repair, only ever under the exclusive lock) clears the flag for the
/// cut and sets it again (if that fails, the recorder re-applies it at its next start). Where
/// the flag cannot be cleared (not root), the cut fails: fail closed.
fn cut(f: &File, len: u64) -> std::io::Result<()> {
    use crate::fsflags::{self, FS_APPEND_FL};
    let flags = fsflags::get(f).ok();
    let append = flags.is_some_and(|fl| fl & FS_APPEND_FL != 0);
    if let (true, Some(fl)) = (append, flags) {
        fsflags::set(f, fl & !FS_APPEND_FL)?;
    }
    let r = f.set_len(len);
    if let (true, Some(fl)) = (append, flags) {
        let _ = fsflags::set(f, fl);
    }
    r
}

/// Largest `n` with `stored_hash_count(n) * 32 <= hlen`: the leaves whose hashes are all
/// present in a `hashes` file of `hlen` bytes.
fn hashed_leaves(hlen: u64) -> u64 {
    let hc = hlen / 32;
    let (mut lo, mut hi) = (0u64, hc + 1);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if merkle::stored_hash_count(mid) <= hc {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

impl Inner {
    fn empty(files: Files) -> Self {
        Inner {
            files,
            len: 0,
            entries_end: ENTRIES_MAGIC.len() as u64,
            checkpoints_end: CHECKPOINTS_MAGIC.len() as u64,
            checkpoints: 0,
            frontier: Frontier::new(),
            last_time: 0,
            latest: None,
            poisoned: None,
            recoveries: Vec::new(),
        }
    }

    fn hash_source(&self) -> FileHashes<'_> {
        FileHashes {
            f: &self.files.hashes,
            path: Path::new(HASHES_FILE),
            count: merkle::stored_hash_count(self.len),
        }
    }

    /// Bring the in-memory state up to what the files hold: entries and checkpoints
    /// appended by other processes (or, at open, everything). The caller holds the file
    /// lock in `mode`.
    ///
    /// Under [`LockMode::Exclusive`] no writer is between its first write and its last
    /// fsync (writers hold the exclusive lock for exactly that span), so anything past the
    /// last complete, indexed record is a crashed writer's leftover and is repaired as at
    /// open: partial index/hash slots cut, complete records re-indexed, a torn trailing
    /// record cut (reported in `rec`). Under [`LockMode::Shared`] nothing is modified: the
    /// state stops at the last fully indexed entry and the last complete checkpoint.
    ///
    /// Fails closed on damage that is not a torn tail, on files shorter than what this
    /// process already read, and on a new latest checkpoint that does not verify.
    fn refresh(
        &mut self,
        key: &VerifyingKey,
        origin: &str,
        mode: LockMode,
        rec: &mut Recovery,
    ) -> Result<()> {
        let ep = self.files.path(ENTRIES_FILE);
        let ip = self.files.path(INDEX_FILE);
        let hp = self.files.path(HASHES_FILE);
        let cp = self.files.path(CHECKPOINTS_FILE);
        let ilen = file_len(&self.files.index, &ip)?;
        let hlen = file_len(&self.files.hashes, &hp)?;
        let elen = file_len(&self.files.entries, &ep)?;
        let clen = file_len(&self.files.checkpoints, &cp)?;
        if elen == self.entries_end
            && ilen == self.len * 8
            && hlen == merkle::stored_hash_count(self.len) * 32
            && clen == self.checkpoints_end
        {
            return Ok(());
        }
        let excl = mode == LockMode::Exclusive;

        // Derived files: the common leaf count of complete index slots and hash slots.
        let n = (ilen / 8).min(hashed_leaves(hlen));
        if n < self.len || elen < self.entries_end || clen < self.checkpoints_end {
            return Err(Error::Inconsistent(format!(
                "ledger files in {} shrank below what this process already read \
                 ({} indexed entries, {} bytes of {ENTRIES_FILE}, {} bytes of {CHECKPOINTS_FILE}; \
                 now {n}, {elen}, {clen}): they were changed outside the ledger's locking",
                self.files.dir.display(),
                self.len,
                self.entries_end,
                self.checkpoints_end,
            )));
        }
        if excl {
            // Partial trailing slots of a writer that died between its writes and fsyncs.
            if ilen != n * 8 {
                truncate(&self.files.index, &ip, n * 8)?;
            }
            let hwant = merkle::stored_hash_count(n) * 32;
            if hlen != hwant {
                truncate(&self.files.hashes, &hp, hwant)?;
            }
        }

        if n > self.len {
            // Entries indexed by another process (or, at open, before): the first new
            // record must start where the known log ends, and the last indexed
            // (acknowledged) record must be intact and hold its seq.
            let slot = |s: u64| -> Result<u64> {
                let mut b = [0u8; 8];
                self.files
                    .index
                    .read_exact_at(&mut b, s * 8)
                    .map_err(Error::io("read", &ip))?;
                Ok(u64::from_le_bytes(b))
            };
            let first = slot(self.len)?;
            if first != self.entries_end {
                return Err(Error::Corrupt {
                    what: "index slot",
                    location: format!("{} seq {}", ip.display(), self.len),
                    detail: format!(
                        "points at byte {first} of {}, but the preceding record ends at byte {}",
                        ep.display(),
                        self.entries_end
                    ),
                });
            }
            let off = slot(n - 1)?;
            let rr =
                read_record_at(&self.files.entries, off, elen).map_err(Error::io("read", &ep))?;
            let RecordRead::Ok(p) = rr else {
                return Err(Error::Corrupt {
                    what: "entry record",
                    location: format!("{} seq {} offset {off}", ep.display(), n - 1),
                    detail: format!(
                        "the last indexed (acknowledged) entry is not intact: {rr:?}; refusing to open or append"
                    ),
                });
            };
            let e = Entry::from_canonical_bytes(&p).map_err(|d| Error::Corrupt {
                what: "entry record",
                location: format!("{} seq {} offset {off}", ep.display(), n - 1),
                detail: d,
            })?;
            if e.seq != n - 1 {
                return Err(Error::Corrupt {
                    what: "entry record",
                    location: format!("{} offset {off}", ep.display()),
                    detail: format!("index slot {} points at an entry with seq {}", n - 1, e.seq),
                });
            }
            let frontier = Frontier::from_source(
                &FileHashes {
                    f: &self.files.hashes,
                    path: &hp,
                    count: merkle::stored_hash_count(n),
                },
                n,
            )?;
            self.len = n;
            self.entries_end = off + FRAMING + p.len() as u64;
            self.frontier = frontier;
            self.last_time = e.time_unix_ms;
        }

        if excl && elen > self.entries_end {
            self.repair_entries_tail(elen, rec)?;
        }
        self.refresh_checkpoints(key, origin, excl, clen, rec)
    }

    /// Under the exclusive lock: records past the index were written by a writer that
    /// died before indexing them. Complete ones are re-indexed, a torn tail is cut.
    fn repair_entries_tail(&mut self, elen: u64, rec: &mut Recovery) -> Result<()> {
        let ep = self.files.path(ENTRIES_FILE);
        let ip = self.files.path(INDEX_FILE);
        let hp = self.files.path(HASHES_FILE);
        let n = self.len;
        let mut len = n;
        let mut pos = self.entries_end;
        let mut last_time = self.last_time;
        let mut frontier = self.frontier.clone();
        let mut idx_buf = Vec::new();
        let mut hash_buf = Vec::new();
        let mut rd = RecordReader::new(
            self.files
                .entries
                .try_clone()
                .map_err(Error::io("dup", &ep))?,
            pos,
            elen,
        )
        .map_err(Error::io("seek", &ep))?;
        loop {
            let off = rd.offset();
            match rd.next_record().map_err(Error::io("read", &ep))? {
                None => break,
                Some(RecordRead::Ok(p)) => {
                    let e = Entry::from_canonical_bytes(&p).map_err(|d| Error::Corrupt {
                        what: "entry record",
                        location: format!("{} offset {off} (expected seq {len})", ep.display()),
                        detail: d,
                    })?;
                    if e.seq != len {
                        return Err(Error::Corrupt {
                            what: "entry record",
                            location: format!("{} offset {off}", ep.display()),
                            detail: format!("seq {} where seq {len} was expected", e.seq),
                        });
                    }
                    idx_buf.extend_from_slice(&off.to_le_bytes());
                    let mut out = Vec::new();
                    frontier.push(merkle::leaf_hash(&p), &mut out);
                    for h in out {
                        hash_buf.extend_from_slice(&h);
                    }
                    last_time = e.time_unix_ms;
                    len += 1;
                    pos = rd.offset();
                }
                Some(other) => {
                    // Torn or bad record: acceptable only as the trailing record.
                    let rest = elen - off;
                    let is_tail = match &other {
                        RecordRead::Torn { .. } => true,
                        RecordRead::Bad(_) => {
                            let mut l = [0u8; 4];
                            self.files
                                .entries
                                .read_exact_at(&mut l, off)
                                .map_err(Error::io("read", &ep))?;
                            FRAMING + u64::from(u32::from_le_bytes(l)) >= rest
                        }
                        RecordRead::Ok(_) => false,
                    };
                    if !is_tail {
                        return Err(Error::Corrupt {
                            what: "entry record",
                            location: format!("{} offset {off} (seq {len})", ep.display()),
                            detail: format!(
                                "{other:?} followed by more data; not a torn tail, refusing to open or append"
                            ),
                        });
                    }
                    truncate(&self.files.entries, &ep, off)?;
                    rec.entries_truncated_bytes += rest;
                    rec.repairs.push(format!(
                        "{}: removed torn trailing record at byte offset {off} ({rest} bytes, {other:?}); log ends after seq {}",
                        ep.display(),
                        len as i128 - 1
                    ));
                    break;
                }
            }
        }
        if len > n {
            self.files
                .index
                .write_all_at(&idx_buf, n * 8)
                .map_err(Error::io("write", &ip))?;
            self.files
                .index
                .sync_data()
                .map_err(Error::io("fsync", &ip))?;
            self.files
                .hashes
                .write_all_at(&hash_buf, merkle::stored_hash_count(n) * 32)
                .map_err(Error::io("write", &hp))?;
            self.files
                .hashes
                .sync_data()
                .map_err(Error::io("fsync", &hp))?;
            rec.reindexed += len - n;
            rec.repairs.push(format!(
                "{}, {}: re-indexed seq {n}..{} from {} (complete records that were not indexed before a crash)",
                ip.display(),
                hp.display(),
                len - 1,
                ep.display()
            ));
            self.len = len;
            self.entries_end = pos;
            self.frontier = frontier;
            self.last_time = last_time;
        }
        Ok(())
    }

    /// Read checkpoints appended since `checkpoints_end`; under the exclusive lock cut a
    /// torn trailing one. A new latest checkpoint must verify with `key`, have `origin`,
    /// cover no more entries than are known and match the stored root.
    fn refresh_checkpoints(
        &mut self,
        key: &VerifyingKey,
        origin: &str,
        excl: bool,
        clen: u64,
        rec: &mut Recovery,
    ) -> Result<()> {
        if clen == self.checkpoints_end {
            return Ok(());
        }
        let cp = self.files.path(CHECKPOINTS_FILE);
        let mut rd = RecordReader::new(
            self.files
                .checkpoints
                .try_clone()
                .map_err(Error::io("dup", &cp))?,
            self.checkpoints_end,
            clen,
        )
        .map_err(Error::io("seek", &cp))?;
        let mut latest: Option<SignedCheckpoint> = None;
        let mut cend = self.checkpoints_end;
        let mut ci = self.checkpoints;
        loop {
            let off = rd.offset();
            match rd.next_record().map_err(Error::io("read", &cp))? {
                None => break,
                Some(RecordRead::Ok(p)) => {
                    let text = String::from_utf8(p).map_err(|_| Error::Corrupt {
                        what: "checkpoint",
                        location: format!("{} checkpoint #{ci} offset {off}", cp.display()),
                        detail: "not UTF-8".into(),
                    })?;
                    let c = SignedCheckpoint::parse(&text).map_err(|d| Error::Corrupt {
                        what: "checkpoint",
                        location: format!("{} checkpoint #{ci} offset {off}", cp.display()),
                        detail: d,
                    })?;
                    latest = Some(c);
                    cend = rd.offset();
                    ci += 1;
                }
                Some(other) => {
                    let rest = clen - off;
                    let is_tail = match &other {
                        RecordRead::Torn { .. } => true,
                        _ => {
                            let mut l = [0u8; 4];
                            self.files
                                .checkpoints
                                .read_exact_at(&mut l, off)
                                .map_err(Error::io("read", &cp))?;
                            FRAMING + u64::from(u32::from_le_bytes(l)) >= rest
                        }
                    };
                    if !is_tail {
                        return Err(Error::Corrupt {
                            what: "checkpoint",
                            location: format!("{} checkpoint #{ci} offset {off}", cp.display()),
                            detail: format!(
                                "{other:?} followed by more data; refusing to open or append"
                            ),
                        });
                    }
                    if excl {
                        truncate(&self.files.checkpoints, &cp, off)?;
                        rec.checkpoints_truncated_bytes += rest;
                        rec.repairs.push(format!(
                            "{}: removed torn trailing checkpoint record at byte offset {off} ({rest} bytes, {other:?})",
                            cp.display()
                        ));
                    }
                    break;
                }
            }
        }
        if let Some(c) = &latest {
            let what = format!(
                "latest checkpoint (#{} in {}, size {})",
                ci - 1,
                cp.display(),
                c.checkpoint.tree_size
            );
            if c.checkpoint.origin != origin {
                return Err(Error::Inconsistent(format!(
                    "{what} has origin {:?}, this ledger is opened as {origin:?}",
                    c.checkpoint.origin
                )));
            }
            c.verify(key)
                .map_err(|e| Error::BadSignature(format!("{what}: {e}")))?;
            if c.checkpoint.tree_size > self.len {
                return Err(Error::Inconsistent(format!(
                    "{what} covers {} entries but {} holds only {}: signed entries are missing",
                    c.checkpoint.tree_size,
                    self.files.path(ENTRIES_FILE).display(),
                    self.len
                )));
            }
            let r = merkle::root(&self.hash_source(), c.checkpoint.tree_size)?;
            if r != c.checkpoint.root_hash {
                return Err(Error::Inconsistent(format!(
                    "{what} root {} differs from the stored tree's root {} at that size",
                    hex::encode(c.checkpoint.root_hash),
                    hex::encode(r)
                )));
            }
        }
        // Committed only once the new latest checkpoint passed its checks.
        if latest.is_some() {
            self.latest = latest;
        }
        self.checkpoints_end = cend;
        self.checkpoints = ci;
        Ok(())
    }
}

impl Ledger {
    /// Open (creating if needed) the ledger in `dir`, signing checkpoints with `key` under
    /// the name `origin`.
    ///
    /// Takes the exclusive file lock (`dir/lock`, waiting up to [`DEFAULT_LOCK_TIMEOUT`])
    /// for the whole open, so recovery never races another process's append.
    ///
    /// Recovery: a torn trailing record in `entries.log` or `checkpoints.log` (partial write
    /// during a crash) is cut off and reported in the returned [`Recovery`]; `entries.idx`
    /// and `hashes` are rebuilt from `entries.log` where they lag behind. A repair of the
    /// entry log is also appended to the ledger as a `LedgerRecovered` entry.
    ///
    /// Fails closed (returns an error, changes nothing) when damage is not a torn tail: a
    /// bad record followed by more data, an indexed (acknowledged) record that is damaged,
    /// an entry whose seq is out of place, a latest checkpoint that does not verify with
    /// `key`, has another origin, covers more entries than the log holds, or whose root
    /// differs from the stored tree. Fails with [`Error::Locked`] when another process
    /// holds the lock for longer than the timeout.
    pub fn open(dir: &Path, key: SigningKey, origin: &str) -> Result<(Ledger, Recovery)> {
        if origin.is_empty() || origin.contains(|c: char| c == '+' || c.is_whitespace()) {
            return Err(Error::InvalidArgument(format!(
                "origin {origin:?} must be non-empty without '+' or whitespace"
            )));
        }
        let mut created = false;
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(Error::io("create directory", dir))?;
            if let Some(p) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                fsync_dir(p)?;
            }
        }
        let lp = dir.join(LOCK_FILE);
        let lock = match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&lp)
        {
            Ok(f) => {
                created = true;
                f
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => OpenOptions::new()
                .read(true)
                .write(true)
                .open(&lp)
                .map_err(Error::io("open", &lp))?,
            Err(e) => return Err(Error::io("create", &lp)(e)),
        };
        let flock = lock_file(&lock, &lp, LockMode::Exclusive, DEFAULT_LOCK_TIMEOUT)?;
        let files = Files {
            dir: dir.to_path_buf(),
            lock,
            entries: open_file(dir, ENTRIES_FILE, Some(ENTRIES_MAGIC), &mut created)?,
            index: open_file(dir, INDEX_FILE, None, &mut created)?,
            hashes: open_file(dir, HASHES_FILE, None, &mut created)?,
            checkpoints: open_file(dir, CHECKPOINTS_FILE, Some(CHECKPOINTS_MAGIC), &mut created)?,
        };
        if created {
            fsync_dir(dir)?;
        }
        let ledger = Ledger {
            inner: Mutex::new(Inner::empty(files)),
            key,
            origin: origin.to_string(),
            clock: Mutex::new(Arc::new(system_clock)),
            lock_timeout_ms: AtomicU64::new(DEFAULT_LOCK_TIMEOUT.as_millis() as u64),
        };
        let rec = {
            let mut w = WriteGuard {
                _flock: flock,
                g: ledger.lock(),
            };
            let mut rec = Recovery::default();
            w.g.refresh(
                &ledger.key.verifying_key(),
                &ledger.origin,
                LockMode::Exclusive,
                &mut rec,
            )?;
            ledger.record_recovery(&mut w.g, rec)?
        };
        Ok((ledger, rec))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> u64 {
        let c = self.clock.lock().unwrap_or_else(|p| p.into_inner()).clone();
        c()
    }

    fn file_lock(&self, g: &Inner, mode: LockMode) -> Result<Flock<File>> {
        lock_file(
            &g.files.lock,
            &g.files.path(LOCK_FILE),
            mode,
            self.lock_timeout(),
        )
    }

    /// Mutex, then the exclusive file lock, then a refresh (repairing and recording a
    /// crashed writer's tail). Every mutation runs under this guard.
    fn write_lock(&self) -> Result<WriteGuard<'_>> {
        let g = self.lock();
        if let Some(p) = &g.poisoned {
            return Err(Error::Poisoned(p.clone()));
        }
        let mut w = WriteGuard {
            _flock: self.file_lock(&g, LockMode::Exclusive)?,
            g,
        };
        let mut rec = Recovery::default();
        w.g.refresh(
            &self.key.verifying_key(),
            &self.origin,
            LockMode::Exclusive,
            &mut rec,
        )?;
        if !rec.is_clean() {
            let rec = self.record_recovery(&mut w.g, rec)?;
            w.g.recoveries.push(rec);
        }
        Ok(w)
    }

    /// Mutex, and, when `stale` says the known state may not cover the request, a refresh
    /// under the shared file lock (released before returning: what is known is immutable).
    fn read_lock(&self, stale: impl Fn(&Inner) -> bool) -> Result<MutexGuard<'_, Inner>> {
        let mut g = self.lock();
        if stale(&g) {
            let _flock = self.file_lock(&g, LockMode::Shared)?;
            let mut rec = Recovery::default();
            g.refresh(
                &self.key.verifying_key(),
                &self.origin,
                LockMode::Shared,
                &mut rec,
            )?;
        }
        Ok(g)
    }

    /// For the infallible readers: refresh if possible, else the last known state.
    fn read_best_effort(&self) -> MutexGuard<'_, Inner> {
        self.read_lock(|_| true).unwrap_or_else(|_| self.lock())
    }

    /// If `rec` repaired the entry log, record it as a `LedgerRecovered` entry.
    fn record_recovery(&self, g: &mut Inner, mut rec: Recovery) -> Result<Recovery> {
        if rec.entries_truncated_bytes > 0 || rec.reindexed > 0 {
            let e = NewEntry::new("custos-ledger", Action::LedgerRecovered, "ledger")
                .details(serde_json::json!({ "repairs": rec.repairs }));
            let r = self.append_locked(g, vec![e])?;
            rec.recorded_as = r.first().map(|r| r.seq);
        }
        Ok(rec)
    }

    /// Replace the clock (Unix ms) used to stamp entries and checkpoints (tests, or a
    /// trusted time source).
    pub fn set_clock(&self, clock: impl Fn() -> u64 + Send + Sync + 'static) {
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(clock);
    }

    /// Bound the wait for the ledger's file lock (default [`DEFAULT_LOCK_TIMEOUT`]); after
    /// it, operations fail with [`Error::Locked`].
    pub fn set_lock_timeout(&self, timeout: Duration) {
        self.lock_timeout_ms
            .store(timeout.as_millis() as u64, Ordering::Relaxed);
    }

    /// The current bound on waiting for the file lock.
    pub fn lock_timeout(&self) -> Duration {
        Duration::from_millis(self.lock_timeout_ms.load(Ordering::Relaxed))
    }

    /// Repairs made after open, when this instance found another process's crashed,
    /// unfinished append (each also recorded as a `LedgerRecovered` entry). Returns them
    /// once, for the caller to log.
    pub fn take_recoveries(&self) -> Vec<Recovery> {
        std::mem::take(&mut self.lock().recoveries)
    }

    /// The origin (log name, key name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Public key of the checkpoint signer.
    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.key.verifying_key()
    }

    /// Append a batch of entries.
    ///
    /// Durability contract (E2 "fail closed", E4):
    /// * MUST return `Ok` only after every record of the batch, its index slots and its
    ///   Merkle hashes have been written and `fsync`ed (`fdatasync`) to `entries.log`,
    ///   `entries.idx` and `hashes` (and the directory, when files were created at open).
    /// * MUST assign contiguous seq numbers in batch order; receipts are in the same order.
    /// * MUST NOT return `Ok` for a partially written batch: on any error the files are
    ///   cut back to their previous length; if that also fails, the ledger becomes
    ///   poisoned and every later call fails until it is reopened (which repairs it).
    /// * MUST NOT be treated as success by callers when it returns `Err`: the access that
    ///   was to be registered must not happen (E2).
    /// * Entries are not covered by a signed checkpoint until [`Ledger::checkpoint`] runs.
    ///
    /// Multi-process: runs under the exclusive file lock, held from before the refresh
    /// (which picks up other processes' entries, so seqs continue theirs) until after the
    /// last fsync. Fails with [`Error::Locked`] if the lock is not obtained in time.
    pub fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<Receipt>> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = self.write_lock()?;
        self.append_locked(&mut w.g, entries)
    }

    /// The append itself; the caller holds the mutex and the exclusive file lock and has
    /// refreshed.
    fn append_locked(&self, g: &mut Inner, entries: Vec<NewEntry>) -> Result<Vec<Receipt>> {
        if let Some(p) = &g.poisoned {
            return Err(Error::Poisoned(p.clone()));
        }
        // Stamped under the lock so that time order follows seq order.
        let time = self.now();
        let n0 = g.len;
        let mut frontier = g.frontier.clone();
        let mut ebuf = Vec::with_capacity(entries.len() * 256);
        let mut ibuf = Vec::with_capacity(entries.len() * 8);
        let mut hashes = Vec::with_capacity(entries.len() * 2);
        let mut leaves = Vec::with_capacity(entries.len());
        let count = entries.len() as u64;
        for (i, ne) in entries.into_iter().enumerate() {
            let e = Entry::from_new(ne, n0 + i as u64, time);
            let bytes = e.to_canonical_bytes();
            if bytes.len() > MAX_RECORD as usize {
                return Err(Error::InvalidArgument(format!(
                    "entry #{i} of the batch is {} bytes, over the {MAX_RECORD}-byte limit",
                    bytes.len()
                )));
            }
            ibuf.extend_from_slice(&(g.entries_end + ebuf.len() as u64).to_le_bytes());
            frame(&bytes, &mut ebuf);
            let lh = merkle::leaf_hash(&bytes);
            leaves.push(lh);
            frontier.push(lh, &mut hashes);
        }
        let hbuf: Vec<u8> = hashes.concat();
        let (eoff, ioff, hoff) = (g.entries_end, n0 * 8, merkle::stored_hash_count(n0) * 32);
        let f = &g.files;
        let res = (|| -> Result<()> {
            let ep = f.path(ENTRIES_FILE);
            f.entries
                .write_all_at(&ebuf, eoff)
                .map_err(Error::io("write", &ep))?;
            f.entries.sync_data().map_err(Error::io("fsync", &ep))?;
            let ip = f.path(INDEX_FILE);
            f.index
                .write_all_at(&ibuf, ioff)
                .map_err(Error::io("write", &ip))?;
            let hp = f.path(HASHES_FILE);
            f.hashes
                .write_all_at(&hbuf, hoff)
                .map_err(Error::io("write", &hp))?;
            f.index.sync_data().map_err(Error::io("fsync", &ip))?;
            f.hashes.sync_data().map_err(Error::io("fsync", &hp))?;
            Ok(())
        })();
        if let Err(e) = res {
            let rollback = cut(&f.entries, eoff)
                .and_then(|_| cut(&f.index, ioff))
                .and_then(|_| cut(&f.hashes, hoff))
                .and_then(|_| f.entries.sync_all())
                .and_then(|_| f.index.sync_all())
                .and_then(|_| f.hashes.sync_all());
            if let Err(re) = rollback {
                g.poisoned = Some(format!("append failed ({e}); rollback failed ({re})"));
            }
            return Err(e);
        }
        g.entries_end += ebuf.len() as u64;
        g.len += count;
        g.frontier = frontier;
        g.last_time = time;
        let after = g.len;
        Ok(leaves
            .into_iter()
            .enumerate()
            .map(|(i, leaf_hash)| Receipt {
                seq: n0 + i as u64,
                leaf_hash,
                tree_size_after: after,
            })
            .collect())
    }

    /// Append one entry; same contract as [`Ledger::append`].
    pub fn record(&self, e: NewEntry) -> Result<Receipt> {
        self.append(vec![e])?
            .pop()
            .ok_or_else(|| Error::InvalidArgument("empty append".into()))
    }

    /// Number of entries, including other processes' appends (refreshed under the shared
    /// lock; if that fails, e.g. the lock times out, the last known length).
    pub fn len(&self) -> u64 {
        self.read_best_effort().len
    }

    /// Whether the ledger has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Current Merkle root (`MTH` of all entries; refreshed like [`Ledger::len`]).
    pub fn root(&self) -> Hash {
        self.read_best_effort().frontier.root()
    }

    /// Merkle root at `tree_size <= len()`.
    pub fn root_at(&self, tree_size: u64) -> Result<Hash> {
        let g = self.read_lock(|g| tree_size > g.len)?;
        Self::check_size(&g, tree_size)?;
        merkle::root(&g.hash_source(), tree_size)
    }

    /// Sign a checkpoint of the current tree (including other processes' entries), append
    /// it (fsynced) to `checkpoints.log`. Runs under the exclusive file lock.
    pub fn checkpoint(&self) -> Result<SignedCheckpoint> {
        let mut w = self.write_lock()?;
        self.checkpoint_locked(&mut w.g)
    }

    fn checkpoint_locked(&self, g: &mut Inner) -> Result<SignedCheckpoint> {
        let time = self.now();
        let cp = Checkpoint {
            origin: self.origin.clone(),
            tree_size: g.len,
            root_hash: g.frontier.root(),
            time_unix_ms: time,
        }
        .sign(&self.key);
        let mut buf = Vec::new();
        frame(cp.to_text().as_bytes(), &mut buf);
        let off = g.checkpoints_end;
        let p = g.files.path(CHECKPOINTS_FILE);
        let f = &g.files.checkpoints;
        let res = f
            .write_all_at(&buf, off)
            .and_then(|_| f.sync_data())
            .map_err(Error::io("write+fsync", &p));
        if let Err(e) = res {
            if let Err(re) = cut(f, off).and_then(|_| f.sync_all()) {
                g.poisoned = Some(format!(
                    "checkpoint write failed ({e}); rollback failed ({re})"
                ));
            }
            return Err(e);
        }
        g.checkpoints_end += buf.len() as u64;
        g.checkpoints += 1;
        g.latest = Some(cp.clone());
        Ok(cp)
    }

    /// Sign a checkpoint if `cadence` says one is due. Decided first under the shared
    /// lock, then again under the exclusive lock (so two processes do not both sign).
    pub fn checkpoint_if_due(
        &self,
        cadence: &CheckpointCadence,
    ) -> Result<Option<SignedCheckpoint>> {
        let now = self.now();
        let due = |g: &Inner| {
            let latest = g
                .latest
                .as_ref()
                .map(|c| (c.checkpoint.tree_size, c.checkpoint.time_unix_ms));
            cadence.due(g.len, latest, now)
        };
        if !due(&*self.read_lock(|_| true)?) {
            return Ok(None);
        }
        let mut w = self.write_lock()?;
        if !due(&w.g) {
            return Ok(None);
        }
        self.checkpoint_locked(&mut w.g).map(Some)
    }

    /// The latest signed checkpoint, if any (also one signed by another process;
    /// refreshed like [`Ledger::len`]).
    pub fn latest_checkpoint(&self) -> Option<SignedCheckpoint> {
        self.read_best_effort().latest.clone()
    }

    fn check_size(g: &Inner, tree_size: u64) -> Result<()> {
        if tree_size > g.len {
            return Err(Error::InvalidArgument(format!(
                "tree size {tree_size} exceeds the ledger length {}",
                g.len
            )));
        }
        Ok(())
    }

    /// RFC 9162 inclusion proof of leaf `index` in the tree of `tree_size` leaves.
    /// Reads `O(log n)` hashes from disk.
    pub fn inclusion_proof(&self, index: u64, tree_size: u64) -> Result<Vec<Hash>> {
        let g = self.read_lock(|g| tree_size > g.len)?;
        Self::check_size(&g, tree_size)?;
        merkle::inclusion_proof(&g.hash_source(), index, tree_size)
    }

    /// RFC 9162 consistency proof between tree sizes `old <= new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        let g = self.read_lock(|g| new > g.len)?;
        Self::check_size(&g, new)?;
        merkle::consistency_proof(&g.hash_source(), old, new)
    }

    fn read_entry(g: &Inner, seq: u64) -> Result<(Entry, Vec<u8>)> {
        if seq >= g.len {
            return Err(Error::InvalidArgument(format!(
                "no entry with seq {seq}; the ledger holds {}",
                g.len
            )));
        }
        let ip = g.files.path(INDEX_FILE);
        let ep = g.files.path(ENTRIES_FILE);
        let mut b = [0u8; 8];
        g.files
            .index
            .read_exact_at(&mut b, seq * 8)
            .map_err(Error::io("read", &ip))?;
        let off = u64::from_le_bytes(b);
        let loc = || format!("{} seq {seq} offset {off}", ep.display());
        match read_record_at(&g.files.entries, off, g.entries_end)
            .map_err(Error::io("read", &ep))?
        {
            RecordRead::Ok(p) => {
                let e = Entry::from_canonical_bytes(&p).map_err(|d| Error::Corrupt {
                    what: "entry record",
                    location: loc(),
                    detail: d,
                })?;
                if e.seq != seq {
                    return Err(Error::Corrupt {
                        what: "entry record",
                        location: loc(),
                        detail: format!("record holds seq {}", e.seq),
                    });
                }
                Ok((e, p))
            }
            other => Err(Error::Corrupt {
                what: "entry record",
                location: loc(),
                detail: format!("{other:?}"),
            }),
        }
    }

    /// The entry with sequence number `seq` (also one appended by another process).
    pub fn entry(&self, seq: u64) -> Result<Entry> {
        Ok(Self::read_entry(&*self.read_lock(|g| seq >= g.len)?, seq)?.0)
    }

    /// The canonical bytes (Merkle leaf data) of entry `seq`, for evidence bundles.
    pub fn entry_bytes(&self, seq: u64) -> Result<Vec<u8>> {
        Ok(Self::read_entry(&*self.read_lock(|g| seq >= g.len)?, seq)?.1)
    }

    /// Entries in `range` (clipped to the ledger length).
    pub fn entries(&self, range: Range<u64>) -> Result<Vec<Entry>> {
        let g = self.read_lock(|g| range.end > g.len)?;
        let end = range.end.min(g.len);
        (range.start..end)
            .map(|s| Self::read_entry(&g, s).map(|x| x.0))
            .collect()
    }

    /// The ledger directory.
    pub fn dir(&self) -> PathBuf {
        self.lock().files.dir.clone()
    }
}
