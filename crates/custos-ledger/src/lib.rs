//! # custos-ledger
//!
//! The tamper-evident ledger of custos (requirements E2 "register every access, fail
//! closed", E4 "run records cannot be altered; alteration, truncation or reordering is
//! detectable by an independent verifier", E5 "evidence preservation").
//!
//! ## What it owns
//! * an **append-only log of typed entries** ([`Entry`], [`Action`]) in a canonical byte
//!   form that an outside verifier can reproduce ([`entry`]);
//! * the **RFC 9162 Merkle tree** over those entries: hashing, `MTH`, inclusion and
//!   consistency proofs and their verification ([`merkle`], pure, no I/O);
//! * **ed25519-signed checkpoints** in the C2SP signed-note text form, and key files
//!   ([`checkpoint`]);
//! * **file storage** in one directory with batched, fsynced appends and crash recovery
//!   ([`Ledger`]);
//! * the **verifier** ([`verify`]), usable offline with only the files and a public key.
//!
//! ## What it must not do
//! It knows nothing about HTTP, video, cameras or users beyond opaque strings; it never
//! prints (`print_stdout`/`print_stderr` are forbidden): it returns errors and reports,
//! and callers log them. It does not run timers: [`CheckpointCadence`] only decides.
//!
//! ## Files (see `FORMAT.md` in the crate for the byte-level description)
//! * `entries.log` — magic `CSTLENT1`, then records `u32 LE len ‖ payload ‖ SHA-256(payload)[0..4]`;
//!   payload = canonical entry JSON = the Merkle leaf data; record `i` holds seq `i`.
//! * `entries.idx` — `u64 LE` byte offset in `entries.log` of each record, 8 bytes per seq.
//! * `hashes` — 32-byte hashes of every complete aligned subtree, in the stored-hash order
//!   of Go's `sumdb/tlog` (leaf, then the parents it completes), so proofs read
//!   `O(log n)` hashes without loading the log.
//! * `checkpoints.log` — magic `CSTLCKP1`, then framed signed-note checkpoint texts.
//! * `lock` — empty; only ever `flock`ed (see "Concurrency").
//!
//! ## Concurrency (several processes on one directory)
//! The recorder, the server and short CLI commands (`custos export`, `custos hold`) open
//! the same ledger at once. They are serialised by `flock(2)` on `<dir>/lock`
//! ([`storage::LOCK_FILE`]), which every [`Ledger`] opens itself (so two instances, even in
//! one process, conflict like two processes do); within one instance a mutex serialises
//! threads, and the file lock is taken inside it.
//! * **Exclusive lock (`LOCK_EX`)** around every mutation: [`Ledger::open`] (file
//!   creation, torn-tail recovery, the `LedgerRecovered` entry), [`Ledger::append`] /
//!   [`Ledger::record`], [`Ledger::checkpoint`] / [`Ledger::checkpoint_if_due`]. It is held
//!   from before the refresh until after the last fsync, so `Ok` still means durable, and
//!   a writer never has bytes on disk that it has not fsynced while another holds the
//!   lock. Hence anything incomplete seen under the exclusive lock is a *crashed* writer's
//!   leftover, and is repaired exactly as at open (reported by [`Ledger::take_recoveries`]
//!   and recorded as a `LedgerRecovered` entry); a live writer's record is never cut.
//! * **Refresh** after taking a lock: the lengths of the four files are compared with
//!   what the instance knows (four `fstat`s when nothing changed); new entries are picked
//!   up as at open (the first new index slot must continue the known log, the last
//!   indexed record must be intact and hold its seq, the frontier is rebuilt from
//!   `hashes` in `O(log n)` reads), new checkpoints are read and the latest is checked
//!   (key, origin, size, root). Files shorter than what was already read fail closed.
//! * **Readers** ([`Ledger::len`], [`Ledger::root`], [`Ledger::latest_checkpoint`],
//!   [`Ledger::entry`], proofs, ...) refresh under a **shared lock (`LOCK_SH`)** when the
//!   request may go beyond what the instance knows (always for `len`/`root`/
//!   `latest_checkpoint`), and never modify files. They release it before reading: data
//!   below a known length never changes, so long reads do not hold writers up. The
//!   infallible readers return the last known state if the refresh fails.
//! * **Bounded wait**: an uncontended lock is one `LOCK_NB` call; when contended, a helper
//!   thread blocks in `flock` (woken as soon as the holder unlocks) for at most the lock
//!   timeout ([`DEFAULT_LOCK_TIMEOUT`], [`Ledger::set_lock_timeout`]); then the operation
//!   fails with [`Error::Locked`] ("another custos process holds the ledger lock"),
//!   having written nothing — an access that must be registered does not happen (E2).
//! * [`verify_dir`] takes no lock (it also runs on read-only copies): run it on a quiet
//!   ledger or a copy; while a writer is active it may report that writer's unfinished
//!   tail.
//!
//! ## Trust model
//! Everything up to the latest signed checkpoint is protected: any alteration, deletion,
//! reordering, truncation or forged checkpoint is reported by [`verify::verify_dir`].
//! Entries after the latest checkpoint are reported as an unsigned tail (warning); sign
//! checkpoints often ([`CheckpointCadence`]) and copy them off the machine (witnesses,
//! exports), because someone holding the signing key, or deleting the newest checkpoints
//! together with the entries they cover, can only be caught by a checkpoint kept elsewhere.

#![forbid(clippy::print_stdout, clippy::print_stderr)]
#![warn(missing_docs)]

pub mod bench;
pub mod checkpoint;
pub mod entry;
pub mod error;
pub mod fsflags;
pub mod merkle;
pub mod storage;
pub mod verify;

pub use checkpoint::{
    Checkpoint, SignedCheckpoint, fingerprint, generate_signing_key, load_signing_key,
    load_verifying_key, save_signing_key, save_verifying_key,
};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use entry::{Action, Entry, NewEntry};
pub use error::{Error, Result};
pub use merkle::Hash;
pub use storage::{CheckpointCadence, DEFAULT_LOCK_TIMEOUT, Ledger, Receipt, Recovery};
pub use verify::{Problem, Report, Severity, verify_dir, verify_inclusion};
