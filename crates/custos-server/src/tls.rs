//! TLS: the operator's certificate, or a self-signed one generated on first start and kept in
//! `DATA/tls/` so browsers can pin it across restarts.

use std::path::{Path, PathBuf};

use custos_core::{Error, ErrorKind, Result};

/// Where the server's certificate comes from.
#[derive(Clone, Debug)]
pub enum TlsSource {
    /// PEM files supplied by the operator.
    Files { cert: PathBuf, key: PathBuf },
    /// Generated once into this directory (`cert.pem`, `key.pem`), then reused.
    SelfSigned { dir: PathBuf, names: Vec<String> },
}

/// Returns (certificate PEM path, key PEM path), generating a self-signed pair if needed.
pub fn ensure_certificate(src: &TlsSource) -> Result<(PathBuf, PathBuf)> {
    match src {
        TlsSource::Files { cert, key } => {
            for p in [cert, key] {
                if !p.exists() {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "TLS file {} does not exist; fix [server] cert/key in the config",
                            p.display()
                        ),
                    ));
                }
            }
            Ok((cert.clone(), key.clone()))
        }
        TlsSource::SelfSigned { dir, names } => {
            let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
            if cert.exists() && key.exists() {
                return Ok((cert, key));
            }
            generate(dir, names, &cert, &key)?;
            Ok((cert, key))
        }
    }
}

fn generate(dir: &Path, names: &[String], cert: &Path, key: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let mut names = names.to_vec();
    for n in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_owned());
        }
    }
    let ck = rcgen::generate_simple_self_signed(names).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("generating a self-signed certificate: {e}"),
        )
    })?;
    let tmp_key = key.with_extension("pem.partial");
    write_private(&tmp_key, ck.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(cert, ck.cert.pem())
        .map_err(|e| Error::io(format!("writing {}", cert.display()), e))?;
    std::fs::rename(&tmp_key, key)
        .map_err(|e| Error::io(format!("writing {}", key.display()), e))?;
    tracing::info!(cert = %cert.display(), "generated a self-signed TLS certificate");
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

/// SHA-256 fingerprint of the certificate, for the operator to compare in the browser.
pub fn fingerprint(cert_pem: &Path) -> Result<String> {
    use sha2::Digest;
    let pem = std::fs::read_to_string(cert_pem)
        .map_err(|e| Error::io(format!("reading {}", cert_pem.display()), e))?;
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = base64_decode(&b64).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{} is not a PEM certificate", cert_pem.display()),
        )
    })?;
    let d = sha2::Sha256::digest(&der);
    Ok(d.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":"))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}
