//! One error type with a small set of kinds (in the style of gRPC status codes). Libraries
//! attach a message that says what was wrong and what to do; the HTTP status or exit code is
//! chosen only at the edge (server, CLI) from the kind.

use std::fmt;

/// What sort of failure this is; decides the HTTP status / exit code at the edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller passed something malformed (bad time, bad config, bad name).
    InvalidArgument,
    /// The named thing (camera, segment, range with footage) does not exist.
    NotFound,
    /// It already exists.
    AlreadyExists,
    /// Authenticated but not allowed; or a rule (retention, hold) forbids it.
    PermissionDenied,
    /// Not authenticated (wrong password, missing credentials).
    Unauthenticated,
    /// The system is not in a state where this can happen (e.g. disk full, not accepted).
    FailedPrecondition,
    /// A peer (camera, database) could not be reached now; retrying may help.
    Unavailable,
    /// Disk, memory or quota exhausted.
    ResourceExhausted,
    /// Stored data is damaged (truncated file, hash mismatch).
    DataLoss,
    /// The peer spoke the protocol wrongly or sent media we cannot record.
    Protocol,
    /// A bug or an unexpected failure of the machine.
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::FailedPrecondition => "failed precondition",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::ResourceExhausted => "resource exhausted",
            ErrorKind::DataLoss => "data loss",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Internal => "internal error",
        }
    }
}

/// The error of every custos library crate: a kind plus a message for a person.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    msg: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, msg: impl Into<String>) -> Self {
        Error {
            kind,
            msg: msg.into(),
            source: None,
        }
    }

    pub fn with_source(
        kind: ErrorKind,
        msg: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error {
            kind,
            msg: msg.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// Prefixes the message with context, keeping kind and source.
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.msg = format!("{ctx}: {}", self.msg);
        self
    }

    /// Maps an I/O error to a kind: ENOSPC/EDQUOT → ResourceExhausted, ENOENT → NotFound,
    /// EACCES/EPERM → PermissionDenied, everything else → Internal.
    pub fn io(msg: impl Into<String>, e: std::io::Error) -> Self {
        let kind = match e.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                ErrorKind::ResourceExhausted
            }
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData => {
                ErrorKind::DataLoss
            }
            _ => ErrorKind::Internal,
        };
        Error::with_source(kind, msg, e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)?;
        if let Some(s) = &self.source {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `bail!(Kind, "fmt", args)` returns an [`Error`] of that kind.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::Error::new($crate::ErrorKind::$kind, format!($($arg)*)))
    };
}

/// `err!(Kind, "fmt", args)` builds an [`Error`] of that kind.
#[macro_export]
macro_rules! err {
    ($kind:ident, $($arg:tt)*) => {
        $crate::Error::new($crate::ErrorKind::$kind, format!($($arg)*))
    };
}
