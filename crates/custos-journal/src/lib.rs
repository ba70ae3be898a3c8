//! The footage side of the ledger (E2, E3, E4): every sealed segment, gap and retention
//! deletion is a ledger entry, and every read of footage must first be registered.
//!
//! [`Registered`] is the proof that an access was registered durably; footage's read path
//! (`custos_footage::read`) cannot be called without one, so a caller cannot forget to register,
//! and a failed registration means no read (fail closed).
//!
//! This crate depends on core and the ledger only: everything that reads or changes anything
//! (footage, accounts, the registry, the server) goes through it, and none of them has to
//! depend on footage to do so. A data directory is given as its root path (footage's
//! `DataDir` is one: it implements `AsRef<Path>`).
#![forbid(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use custos_core::{Error, ErrorKind, Result, Time90k};
use custos_ledger::{Action, Ledger, NewEntry, SignedCheckpoint, VerifyingKey};
use serde_json::json;

/// Proof that an access was durably registered in the ledger before it happens.
#[derive(Debug, Clone)]
pub struct Registered {
    seq: u64,
}

impl Registered {
    /// The ledger sequence number of the registration.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// The data directory's ledger, shared (cheap to clone).
#[derive(Clone)]
pub struct Journal {
    ledger: Arc<Ledger>,
    pub_key_path: PathBuf,
}

fn lerr(what: &str, e: custos_ledger::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("ledger: {what}: {e}"))
}

/// Where the node's signing and public keys live in the data directory `data`
/// (`DATA/keys/ledger.key`, `DATA/keys/ledger.pub`).
pub fn key_paths(data: impl AsRef<Path>) -> (PathBuf, PathBuf) {
    let d = data.as_ref().join("keys");
    (d.join("ledger.key"), d.join("ledger.pub"))
}

impl Journal {
    /// Opens the ledger of `data` (`DATA/ledger/`), creating the node key on first use
    /// (`DATA/keys/ledger.key`, mode 0600; the public key beside it). Repairs of a torn tail
    /// are returned as lines for the caller to report.
    pub fn open(data: impl AsRef<Path>) -> Result<(Journal, Vec<String>)> {
        let data = data.as_ref();
        let (key_path, pub_path) = key_paths(data);
        let key = if key_path.exists() {
            custos_ledger::load_signing_key(&key_path)
                .map_err(|e| lerr("loading the node key", e))?
                .1
        } else {
            std::fs::create_dir_all(key_path.parent().unwrap())
                .map_err(|e| Error::io("creating the keys directory", e))?;
            let k = custos_ledger::generate_signing_key()
                .map_err(|e| lerr("generating the node key", e))?;
            custos_ledger::save_signing_key(&key_path, "custos", &k)
                .map_err(|e| lerr("saving the node key", e))?;
            custos_ledger::save_verifying_key(&pub_path, "custos", &k.verifying_key())
                .map_err(|e| lerr("saving the public key", e))?;
            k
        };
        let origin = format!(
            "custos/{}",
            &custos_ledger::fingerprint(&key.verifying_key())[..16]
        );
        let (ledger, recovery) =
            Ledger::open(&data.join("ledger"), key, &origin).map_err(|e| lerr("opening", e))?;
        Ok((
            Journal {
                ledger: Arc::new(ledger),
                pub_key_path: pub_path,
            },
            recovery.repairs,
        ))
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.ledger.verifying_key()
    }

    pub fn public_key_path(&self) -> &Path {
        &self.pub_key_path
    }

    fn append(&self, e: NewEntry) -> Result<u64> {
        self.ledger
            .record(e)
            .map(|r| r.seq)
            .map_err(|e| lerr("appending", e))
    }

    /// Registers an access to footage or confidential information; only after this returns
    /// may the access happen.
    pub fn register_access(
        &self,
        actor: &str,
        action: Action,
        object: &str,
        purpose: Option<&str>,
        details: serde_json::Value,
    ) -> Result<Registered> {
        let mut e = NewEntry::new(actor, action, object).details(details);
        if let Some(p) = purpose {
            e = e.purpose(p);
        }
        let seq = self
            .append(e)
            .map_err(|e| e.context("access refused: it could not be registered (E2)"))?;
        Ok(Registered { seq })
    }

    /// A sealed segment: its identity and hash.
    #[allow(clippy::too_many_arguments)]
    pub fn segment_sealed(
        &self,
        segment_id: i64,
        camera: &str,
        stream: &str,
        path: &str,
        sha256: &str,
        bytes: u64,
        start: Time90k,
        end: Time90k,
        recovered: bool,
    ) -> Result<u64> {
        self.append(
            NewEntry::new(
                "recorder",
                Action::SegmentSealed,
                format!("segment/{segment_id}"),
            )
            .details(json!({
                "segment_id": segment_id,
                "camera": camera,
                "stream": stream,
                "path": path,
                "sha256": sha256,
                "bytes": bytes,
                "start_90k": start.0,
                "end_90k": end.0,
                "recovered": recovered,
            })),
        )
    }

    pub fn gap(
        &self,
        camera: &str,
        stream: &str,
        start: Time90k,
        end: Time90k,
        reason: &str,
    ) -> Result<u64> {
        self.append(
            NewEntry::new("recorder", Action::Gap, format!("camera/{camera}/{stream}")).details(
                json!({
                    "camera": camera,
                    "stream": stream,
                    "start_90k": start.0,
                    "end_90k": end.0,
                    "reason": reason,
                }),
            ),
        )
    }

    pub fn segment_deleted(
        &self,
        segment_id: i64,
        sha256: Option<&str>,
        reason: &str,
    ) -> Result<u64> {
        self.append(
            NewEntry::new(
                "retention",
                Action::SegmentDeleted,
                format!("segment/{segment_id}"),
            )
            .details(json!({ "segment_id": segment_id, "sha256": sha256, "reason": reason })),
        )
    }

    /// Any other entry (holds, configuration changes, exports).
    pub fn record(&self, e: NewEntry) -> Result<u64> {
        self.append(e)
    }

    /// Signs a checkpoint of the current tree now.
    pub fn checkpoint(&self) -> Result<SignedCheckpoint> {
        self.ledger
            .checkpoint()
            .map_err(|e| lerr("signing a checkpoint", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// E2/E3: opening a data directory creates the node key (mode 0600) where `key_paths` says;
    /// every registered access and footage event is a ledger entry in order, and a reopened
    /// journal continues the same ledger with the same key.
    #[test]
    fn e2_registered_accesses_are_ledger_entries_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = key_paths(dir.path());
        let (j, repairs) = Journal::open(dir.path()).unwrap();
        assert!(repairs.is_empty());
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(j.public_key_path(), public);
        let a = j
            .register_access(
                "alice",
                Action::Playback,
                "camera/gate-1/main",
                Some("case 1"),
                json!({}),
            )
            .unwrap();
        let g = j
            .gap("gate-1", "main", Time90k(0), Time90k(90_000), "test")
            .unwrap();
        assert!(g > a.seq());
        let vk = j.verifying_key();
        drop(j);
        let (j, _) = Journal::open(dir.path()).unwrap();
        assert_eq!(j.verifying_key(), vk);
        let entries = j.ledger().entries(0..j.ledger().len()).unwrap();
        assert_eq!(entries[a.seq() as usize].actor, "alice");
        assert_eq!(entries[a.seq() as usize].purpose.as_deref(), Some("case 1"));
    }
}
