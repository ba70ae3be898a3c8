//! Redacted copies of footage (G1, G2): decode a video file, find faces and licence plates,
//! track them across frames, mask them irreversibly at full resolution and encode a new MP4.
//!
//! What this crate owns:
//! - face detection with the CenterFace ONNX model (loaded from a file on disk, see [`model`];
//!   never fetched from a network), run by onnxruntime (its library loaded at run time from
//!   the PyPI wheel that setup installs) or by `tract-onnx` when that library is absent, on a
//!   downscaled, aspect-preserving copy of each frame ([`face`]);
//! - a classical colour + character-contrast detector for Chinese plates, blue, yellow, green
//!   and white ([`plate`]);
//! - IoU tracking that keeps a box covered for a number of frames after (and, through a
//!   look-ahead buffer, before) the frames where it was detected ([`track`]);
//! - irreversible pixelation on the decoded YUV planes ([`mask`]);
//! - the decode ‖ detect ‖ encode pipeline over FFmpeg (libavcodec, libx264) ([`video`]) and the
//!   box track it produces, which is stored and hashed with every redaction job.
//!
//! What it must not do: it never opens, writes or deletes an original recording. It reads an
//! input file that its caller produced through the registered read path (`custos-footage`,
//! after the ledger entry) and writes only the new, redacted file it is given. Linking the copy
//! to its original (hashes, ledger) is the caller's job; this crate only returns the hashes of
//! what it wrote.

pub mod face;
pub mod geom;
pub mod mask;
pub mod model;
pub mod plate;
pub mod synth;
pub mod track;
pub mod video;

pub use geom::{Kind, Rect};
pub use mask::Polygon;
pub use video::{BoxTrack, Options, Report, redact_file};

/// Hex SHA-256 of a byte slice.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Hex SHA-256 of a file, streamed.
pub fn sha256_file(path: &std::path::Path) -> custos_core::Result<String> {
    use sha2::Digest;
    use std::io::Read;
    let mut f = std::fs::File::open(path)
        .map_err(|e| custos_core::Error::io(format!("opening {}", path.display()), e))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| custos_core::Error::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}
