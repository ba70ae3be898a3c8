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

pub mod checkpoint;
pub mod entry;
pub mod error;
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
pub use storage::{CheckpointCadence, Ledger, Receipt, Recovery};
pub use verify::{Problem, Report, Severity, verify_dir, verify_inclusion};
