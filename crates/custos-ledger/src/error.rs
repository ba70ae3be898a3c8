//! The ledger's error type. Every message names the file, entry, checkpoint or byte
//! offset concerned and says what is wrong.

use std::path::PathBuf;
use std::time::Duration;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O error on `path` while doing `op`.
    #[error("I/O error: {op} {}: {source}", path.display())]
    Io {
        /// What the ledger was doing ("fsync", "read", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Stored data is not what the format says (bad framing, bad checksum, bad JSON...).
    #[error("corrupt {what} at {location}: {detail}")]
    Corrupt {
        /// What is corrupt ("entry record", "checkpoint", "hashes file").
        what: &'static str,
        /// Where: file and byte offset and/or seq.
        location: String,
        /// What is wrong.
        detail: String,
    },
    /// A checkpoint signature does not verify with the key given.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// Two things that must agree do not (stored root vs checkpoint, proofs, key/origin).
    #[error("inconsistent ledger: {0}")]
    Inconsistent(String),
    /// A caller passed an argument the ledger cannot act on.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A previous append failed and could not be rolled back; reopen the ledger (which
    /// repairs it) before appending again. Fail closed (E2).
    #[error("ledger is poisoned after a failed append that could not be rolled back: {0}")]
    Poisoned(String),
    /// Another custos process (or another `Ledger` instance) held the ledger's lock file
    /// for longer than the lock timeout; nothing was written.
    #[error(
        "another custos process holds the ledger lock {} (waited {waited:?}); retry, or check for a stuck custos process",
        path.display()
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// How long this process waited.
        waited: Duration,
    },
    /// A key file could not be parsed.
    #[error("bad key file {}: {detail}", path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl Error {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}
