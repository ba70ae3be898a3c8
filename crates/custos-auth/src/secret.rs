//! Random secrets and their digests: session and API tokens (256 bits from the OS), their
//! SHA-256 (the only form stored), CSRF tokens, constant-time comparison.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use custos_core::{Error, ErrorKind, Result};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of API tokens, so a token found in a log or a file is recognisable.
pub const TOKEN_PREFIX: &str = "cst_";

/// `N` random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("the operating system gave no random bytes: {e}"),
        )
    })?;
    Ok(b)
}

/// A new 256-bit secret, URL-safe base64 without padding (43 characters).
pub fn new_secret() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random::<32>()?))
}

/// A new public id (128 bits, hex) for a session or token.
pub fn new_id() -> Result<String> {
    Ok(hex(&random::<16>()?))
}

/// SHA-256 of a token: what the database keeps.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Equality that takes the same time wherever the strings differ.
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bit_and_distinct() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_eq!(digest(&a).len(), 32);
        assert_ne!(digest(&a), digest(&b));
        assert!(ct_eq(&a, &a.clone()));
        assert!(!ct_eq(&a, &b));
        assert!(!ct_eq(&a, &a[1..]));
    }
}
