//! Password hashing (Argon2id, OWASP parameters), the password policy, and generated
//! one-time passwords.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use custos_core::{Error, ErrorKind, Result};

use crate::secret;

/// Argon2id memory cost: 19 MiB (OWASP Password Storage Cheat Sheet, first configuration).
pub const M_COST_KIB: u32 = 19 * 1024;
/// Argon2id iterations.
pub const T_COST: u32 = 2;
/// Argon2id parallelism.
pub const P_COST: u32 = 1;
/// Shortest password accepted (characters).
pub const MIN_LEN: usize = 12;
/// Longest password accepted (characters), so hashing cost stays bounded.
pub const MAX_LEN: usize = 256;
/// Length of generated one-time passwords (from a 55-symbol alphabet: about 115 bits).
pub const GENERATED_LEN: usize = 20;

fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid Argon2 parameters"),
    )
}

/// Hashes a password with a fresh 128-bit salt; returns the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$…`). CPU-bound (tens of milliseconds): call it from a
/// blocking thread.
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&secret::random::<16>()?)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("encoding a salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::new(ErrorKind::Internal, format!("hashing a password: {e}")))
}

/// Whether `password` matches the PHC string (its own parameters are used, so hashes made
/// with older parameters still verify). A damaged hash is DataLoss.
pub fn verify(password: &str, phc: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| {
        Error::new(
            ErrorKind::DataLoss,
            format!("a stored password hash is damaged ({e}); reset the password"),
        )
    })?;
    Ok(argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// The password policy (length over composition, as NIST SP 800-63B advises): 12–256
/// characters, not containing the account name, not one repeated character.
pub fn check_policy(name: &str, password: &str) -> Result<()> {
    let n = password.chars().count();
    let bad = |why: String| Err(Error::new(ErrorKind::InvalidArgument, why));
    if n < MIN_LEN {
        return bad(format!(
            "password too short ({n} characters): use at least {MIN_LEN}, e.g. a few unrelated words"
        ));
    }
    if n > MAX_LEN {
        return bad(format!(
            "password too long ({n} characters): use at most {MAX_LEN}"
        ));
    }
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name.to_lowercase()) {
        return bad("the password must not contain the account name".into());
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return bad("the password must not be one character repeated".into());
    }
    Ok(())
}

/// A random password for first start or a reset: 20 symbols without look-alikes (0/O, 1/l/I).
pub fn generate() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(GENERATED_LEN);
    while out.len() < GENERATED_LEN {
        for b in secret::random::<32>()? {
            // Rejection sampling keeps every symbol equally likely.
            let limit = 256 - 256 % ALPHABET.len();
            if (b as usize) < limit && out.len() < GENERATED_LEN {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E1: passwords are stored as Argon2id hashes with the OWASP parameters and verify.
    #[test]
    fn e1_hash_round_trip_argon2id() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h).unwrap());
        assert!(!verify("correct horse batterY", &h).unwrap());
        // Salted: the same password hashes differently.
        assert_ne!(h, hash("correct horse battery").unwrap());
        let e = verify("x", "not a hash").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DataLoss);
    }

    #[test]
    fn e1_password_policy() {
        assert!(check_policy("alice", "short").is_err());
        assert!(check_policy("alice", "aaaaaaaaaaaaaaa").is_err());
        assert!(check_policy("alice", "my-ALICE-password").is_err());
        assert!(check_policy("alice", &"ab".repeat(200)).is_err());
        assert!(check_policy("alice", "river stone lamp").is_ok());
        let e = check_policy("bob", "short").unwrap_err();
        assert!(e.msg().contains("at least 12"), "{}", e.msg());
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let a = generate().unwrap();
        assert_eq!(a.chars().count(), GENERATED_LEN);
        assert!(check_policy("admin", &a).is_ok());
        assert_ne!(a, generate().unwrap());
    }
}
