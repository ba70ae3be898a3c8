//! Time-based one-time passwords (RFC 6238 on HOTP, RFC 4226), written from the RFCs: HMAC of
//! the time-step counter, dynamic truncation, decimal digits. Accounts use SHA-1, 6 digits and
//! 30-second steps (what authenticator apps expect), accept the codes of the previous, current
//! and next step (±30 s of clock drift) and never accept a step twice (no replay).

use hmac::{Hmac, Mac};

/// Seconds per time step.
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Length of a new shared secret (160 bits, the HMAC-SHA-1 block-size-friendly length RFC
/// 4226 recommends).
pub const SECRET_LEN: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

fn mac(alg: Algorithm, key: &[u8], msg: &[u8]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut m = <M as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }
    match alg {
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, msg),
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, msg),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, msg),
    }
}

/// HOTP (RFC 4226 §5.3): the code of `counter`, `digits` long.
pub fn hotp(alg: Algorithm, key: &[u8], counter: u64, digits: u32) -> u32 {
    let h = mac(alg, key, &counter.to_be_bytes());
    let off = (h[h.len() - 1] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    bin % 10u32.pow(digits)
}

/// The time step of a Unix time (T0 = 0).
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECONDS)
}

/// TOTP (RFC 6238 §4): the code at `unix_secs`, zero-padded to `digits`.
pub fn totp(alg: Algorithm, key: &[u8], unix_secs: i64, digits: u32) -> String {
    let code = hotp(alg, key, step_of(unix_secs) as u64, digits);
    format!("{code:0width$}", width = digits as usize)
}

/// The step whose 6-digit SHA-1 code equals `code`, looking one step either side of
/// `unix_secs`; `None` if none matches.
pub fn matching_step(key: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    [now - 1, now, now + 1].into_iter().find(|&s| {
        s >= 0 && {
            let c = format!("{:06}", hotp(Algorithm::Sha1, key, s as u64, DIGITS));
            crate::secret::ct_eq(&c, code)
        }
    })
}

/// RFC 4648 base32 without padding, as authenticator apps read secrets.
pub fn base32(bytes: &[u8]) -> String {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(A[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(A[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `otpauth://` URI (Key Uri Format of authenticator apps) for `account` at `issuer`.
pub fn uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{i}:{a}?secret={s}&issuer={i}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        i = percent_encode(issuer),
        a = percent_encode(account),
        s = base32(secret),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: every test vector, all three hash functions, 8 digits.
    #[test]
    fn e1_totp_rfc6238_test_vectors() {
        let k1 = b"12345678901234567890";
        let k256 = b"12345678901234567890123456789012";
        let k512 = b"1234567890123456789012345678901234567890123456789012345678901234";
        let table: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (t, sha1, sha256, sha512) in table {
            assert_eq!(totp(Algorithm::Sha1, k1, t, 8), sha1, "SHA1 at {t}");
            assert_eq!(totp(Algorithm::Sha256, k256, t, 8), sha256, "SHA256 at {t}");
            assert_eq!(totp(Algorithm::Sha512, k512, t, 8), sha512, "SHA512 at {t}");
        }
    }

    /// RFC 4226 Appendix D: HOTP values of counters 0..9.
    #[test]
    fn e1_hotp_rfc4226_test_vectors() {
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (c, w) in want.into_iter().enumerate() {
            assert_eq!(
                hotp(Algorithm::Sha1, b"12345678901234567890", c as u64, 6),
                w
            );
        }
    }

    #[test]
    fn e1_totp_window_is_one_step_each_side() {
        let k = b"12345678901234567890";
        let t = 1_111_111_111;
        let code = totp(Algorithm::Sha1, k, t, 6);
        assert_eq!(matching_step(k, &code, t), Some(step_of(t)));
        assert_eq!(matching_step(k, &code, t + 30), Some(step_of(t)));
        assert_eq!(matching_step(k, &code, t - 30), Some(step_of(t)));
        assert_eq!(matching_step(k, &code, t + 90), None);
        assert_eq!(matching_step(k, "12345", t), None);
        assert_eq!(matching_step(k, "abcdef", t), None);
    }

    /// RFC 4648 §10 base32 vectors (without padding).
    #[test]
    fn base32_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(i.as_bytes()), o);
        }
        let u = uri("custos", "张 三", b"12345678901234567890");
        assert_eq!(
            u,
            "otpauth://totp/custos:%E5%BC%A0%20%E4%B8%89?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=custos&algorithm=SHA1&digits=6&period=30"
        );
    }
}
