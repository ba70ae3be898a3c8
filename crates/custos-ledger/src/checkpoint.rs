//! Signed checkpoints (signed tree heads) in the C2SP `signed-note` / `tlog-checkpoint`
//! text form, and ed25519 key files.
//!
//! ```text
//! <origin>\n
//! <tree size, decimal>\n
//! <base64 root hash>\n
//! time_unix_ms <decimal>\n          (extension line, C2SP allows opaque extra lines)
//! \n
//! — <key name> <base64(key id[4] ‖ ed25519 signature[64])>\n
//! ```
//!
//! The signature covers the note body (the first four lines, each with its `\n`). The key
//! name is the origin. The key id is `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0..4]`, as
//! in C2SP signed-note, so Go's `golang.org/x/mod/sumdb/note` verifies these notes.
//!
//! Key files use the same ecosystem's text forms:
//! public `<name>+<key id hex>+<base64(0x01 ‖ public key)>`, signing
//! `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ 32-byte seed)>`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::merkle::Hash;

/// Ed25519 algorithm byte of signed-note keys.
const ALG_ED25519: u8 = 1;

/// An unsigned checkpoint: the state of the log at `tree_size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Log identity (also the key name).
    pub origin: String,
    /// Number of entries covered.
    pub tree_size: u64,
    /// `MTH` of the first `tree_size` entries.
    pub root_hash: Hash,
    /// Ledger clock at signing, Unix milliseconds.
    pub time_unix_ms: u64,
}

impl Checkpoint {
    /// The signed note body.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\ntime_unix_ms {}\n",
            self.origin,
            self.tree_size,
            B64.encode(self.root_hash),
            self.time_unix_ms
        )
    }

    /// Sign with `key`; the key name is the origin.
    pub fn sign(self, key: &SigningKey) -> SignedCheckpoint {
        let sig = key.sign(self.body().as_bytes());
        SignedCheckpoint {
            key_id: key_id(&self.origin, &key.verifying_key()),
            signature: sig.to_bytes(),
            checkpoint: self,
        }
    }
}

/// A checkpoint with its ed25519 signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The signed content.
    pub checkpoint: Checkpoint,
    /// Signed-note key id of the signer.
    pub key_id: [u8; 4],
    /// Ed25519 signature over [`Checkpoint::body`].
    pub signature: [u8; 64],
}

impl SignedCheckpoint {
    /// Full note text.
    pub fn to_text(&self) -> String {
        let mut sig = Vec::with_capacity(68);
        sig.extend_from_slice(&self.key_id);
        sig.extend_from_slice(&self.signature);
        format!(
            "{}\n\u{2014} {} {}\n",
            self.checkpoint.body(),
            self.checkpoint.origin,
            B64.encode(sig)
        )
    }

    /// Parse a note text; strict: the text must be exactly what [`Self::to_text`] gives.
    /// Does not check the signature.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (body, sigpart) = text
            .split_once("\n\n")
            .ok_or("no blank line between note body and signature")?;
        let mut lines = body.split('\n');
        let origin = lines.next().ok_or("missing origin line")?.to_string();
        if origin.is_empty() {
            return Err("empty origin line".into());
        }
        let size_s = lines.next().ok_or("missing tree size line")?;
        let tree_size: u64 = size_s
            .parse()
            .map_err(|_| format!("tree size line {size_s:?} is not a decimal number"))?;
        let root_s = lines.next().ok_or("missing root hash line")?;
        let root = B64
            .decode(root_s)
            .map_err(|_| format!("root hash line {root_s:?} is not base64"))?;
        let root_hash: Hash = root
            .try_into()
            .map_err(|_| "root hash is not 32 bytes".to_string())?;
        let time_s = lines.next().ok_or("missing time_unix_ms line")?;
        let time_unix_ms: u64 = time_s
            .strip_prefix("time_unix_ms ")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("bad time line {time_s:?}"))?;
        if lines.next().is_some() {
            return Err("unexpected extra lines in note body".into());
        }
        let sig_line = sigpart
            .strip_suffix('\n')
            .ok_or("signature line does not end with a newline")?;
        let rest = sig_line
            .strip_prefix("\u{2014} ")
            .ok_or("signature line does not start with an em dash")?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or("signature line has no key name / signature separator")?;
        if name != origin {
            return Err(format!(
                "signature key name {name:?} differs from origin {origin:?}"
            ));
        }
        let raw = B64
            .decode(b64)
            .map_err(|_| "signature is not base64".to_string())?;
        if raw.len() != 68 {
            return Err(format!(
                "signature is {} bytes, want 4 (key id) + 64",
                raw.len()
            ));
        }
        let cp = SignedCheckpoint {
            checkpoint: Checkpoint {
                origin,
                tree_size,
                root_hash,
                time_unix_ms,
            },
            key_id: raw[..4].try_into().unwrap_or_default(),
            signature: raw[4..].try_into().unwrap_or([0u8; 64]),
        };
        if cp.to_text() != text {
            return Err("note is not in canonical form".into());
        }
        Ok(cp)
    }

    /// Check key id and signature against `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        let want = key_id(&self.checkpoint.origin, key);
        if self.key_id != want {
            return Err(Error::BadSignature(format!(
                "checkpoint of size {} is signed by key id {} but the verifying key has id {}",
                self.checkpoint.tree_size,
                hex::encode(self.key_id),
                hex::encode(want)
            )));
        }
        let sig = Signature::from_bytes(&self.signature);
        key.verify_strict(self.checkpoint.body().as_bytes(), &sig)
            .map_err(|_| {
                Error::BadSignature(format!(
                    "ed25519 signature of checkpoint (origin {:?}, size {}) does not verify",
                    self.checkpoint.origin, self.checkpoint.tree_size
                ))
            })
    }
}

/// Signed-note key id: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[0..4]`.
pub fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// Key fingerprint: hex of the first 16 bytes of `SHA-256(public key)`.
pub fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..16])
}

/// A fresh signing key from the OS random source.
pub fn generate_signing_key() -> Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| Error::InvalidArgument(format!("OS random source failed: {e}")))?;
    Ok(SigningKey::from_bytes(&seed))
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains(|c: char| c == '+' || c.is_whitespace()) {
        return Err(Error::InvalidArgument(format!(
            "key name / origin {name:?} must be non-empty without '+' or whitespace"
        )));
    }
    Ok(())
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(Error::io("create key file", path))?;
    f.write_all(text.as_bytes())
        .map_err(Error::io("write key file", path))?;
    f.sync_all().map_err(Error::io("fsync key file", path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::storage::fsync_dir(dir)?;
    }
    Ok(())
}

/// Save a signing key (file mode 0600, must not exist yet) under key name `name`.
pub fn save_signing_key(path: &Path, name: &str, key: &SigningKey) -> Result<()> {
    check_name(name)?;
    let vk = key.verifying_key();
    let mut raw = vec![ALG_ED25519];
    raw.extend_from_slice(&key.to_bytes());
    let text = format!(
        "PRIVATE+KEY+{name}+{}+{}\n",
        hex::encode(key_id(name, &vk)),
        B64.encode(raw)
    );
    write_new(path, &text, 0o600)
}

/// Save a public key (mode 0644, must not exist yet).
pub fn save_verifying_key(path: &Path, name: &str, key: &VerifyingKey) -> Result<()> {
    check_name(name)?;
    write_new(path, &verifier_key_text(name, key), 0o644)
}

/// Signed-note verifier key string `<name>+<key id hex>+<base64(0x01 ‖ key)>`.
pub fn verifier_key_text(name: &str, key: &VerifyingKey) -> String {
    let mut raw = vec![ALG_ED25519];
    raw.extend_from_slice(key.as_bytes());
    format!(
        "{name}+{}+{}\n",
        hex::encode(key_id(name, key)),
        B64.encode(raw)
    )
}

fn parse_key_parts(path: &Path, text: &str, private: bool) -> Result<(String, [u8; 32])> {
    let bad = |d: &str| Error::BadKey {
        path: path.to_path_buf(),
        detail: d.to_string(),
    };
    let line = text.trim_end_matches('\n');
    let line = if private {
        line.strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("does not start with PRIVATE+KEY+"))?
    } else {
        line
    };
    let parts: Vec<&str> = line.splitn(3, '+').collect(); // base64 may contain '+'
    if parts.len() != 3 {
        return Err(bad("want <name>+<key id hex>+<base64 key>"));
    }
    let raw = B64
        .decode(parts[2])
        .map_err(|_| bad("key material is not base64"))?;
    if raw.len() != 33 || raw[0] != ALG_ED25519 {
        return Err(bad(
            "key material is not 0x01 followed by 32 bytes (ed25519)",
        ));
    }
    let mut k = [0u8; 32];
    k.copy_from_slice(&raw[1..]);
    Ok((parts[0].to_string(), k))
}

/// Load a signing key file; returns the key name and key. Refuses group/world-readable
/// files.
pub fn load_signing_key(path: &Path) -> Result<(String, SigningKey)> {
    use std::os::unix::fs::PermissionsExt;
    let meta = fs::metadata(path).map_err(Error::io("stat key file", path))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::BadKey {
            path: path.to_path_buf(),
            detail: format!(
                "signing key file mode is {:o}; it must not be readable by group or others (0600)",
                meta.permissions().mode() & 0o777
            ),
        });
    }
    let text = fs::read_to_string(path).map_err(Error::io("read key file", path))?;
    let (name, seed) = parse_key_parts(path, &text, true)?;
    Ok((name, SigningKey::from_bytes(&seed)))
}

/// Load a public key file; returns the key name and key.
pub fn load_verifying_key(path: &Path) -> Result<(String, VerifyingKey)> {
    let text = fs::read_to_string(path).map_err(Error::io("read key file", path))?;
    let (name, pk) = parse_key_parts(path, &text, false)?;
    let vk = VerifyingKey::from_bytes(&pk).map_err(|_| Error::BadKey {
        path: path.to_path_buf(),
        detail: "not a valid ed25519 public key".into(),
    })?;
    Ok((name, vk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_roundtrip_and_verify() {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let cp = Checkpoint {
            origin: "custos.test/ledger".into(),
            tree_size: 42,
            root_hash: [9u8; 32],
            time_unix_ms: 1234,
        }
        .sign(&sk);
        let t = cp.to_text();
        let p = SignedCheckpoint::parse(&t).unwrap();
        assert_eq!(p, cp);
        p.verify(&sk.verifying_key()).unwrap();
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(p.verify(&other.verifying_key()).is_err());
        let forged = t.replace("\n42\n", "\n43\n");
        let f = SignedCheckpoint::parse(&forged).unwrap();
        assert!(matches!(
            f.verify(&sk.verifying_key()),
            Err(Error::BadSignature(_))
        ));
    }

    #[test]
    fn key_files() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let sk = generate_signing_key().unwrap();
        let sp = d.path().join("ledger.key");
        let pp = d.path().join("ledger.pub");
        save_signing_key(&sp, "custos.test", &sk).unwrap();
        save_verifying_key(&pp, "custos.test", &sk.verifying_key()).unwrap();
        assert_eq!(
            fs::metadata(&sp).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (n, sk2) = load_signing_key(&sp).unwrap();
        assert_eq!(n, "custos.test");
        assert_eq!(sk2.to_bytes(), sk.to_bytes());
        let (_, vk) = load_verifying_key(&pp).unwrap();
        assert_eq!(vk, sk.verifying_key());
        assert_eq!(fingerprint(&vk).len(), 32);
        assert!(save_signing_key(&sp, "custos.test", &sk).is_err());
    }
}
