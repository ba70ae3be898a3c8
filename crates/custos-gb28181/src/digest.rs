//! HTTP digest authentication (RFC 2617, MD5, with and without `qop=auth`) as GB/T 28181
//! REGISTER uses it, for both sides: the platform challenges and verifies, the cascade client
//! answers a challenge.
//!
//! The verifier hashes the `uri=` that the client put in its `Authorization` header, not the
//! Request-URI: devices differ (sipp writes the proxy address, others `sip:id@domain`), and the
//! digest is computed over what the client wrote.

use md5::{Digest, Md5};

/// The `key=value` pairs of a `Digest ...` header value (quoted or not), keys lower-cased.
pub fn parse_params(v: &str) -> Option<Vec<(String, String)>> {
    let rest = v.trim();
    let rest = rest
        .strip_prefix("Digest")
        .or_else(|| rest.strip_prefix("digest"))?;
    let mut out = Vec::new();
    let mut s = rest.trim_start();
    while !s.is_empty() {
        let (k, after) = s.split_once('=')?;
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        out.push((k, val.to_owned()));
        s = next.trim_start().trim_start_matches(',').trim_start();
        if out.len() > 32 {
            return None;
        }
    }
    Some(out)
}

fn get<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn md5_hex(parts: &[&str]) -> String {
    let mut h = Md5::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The `nonce=` of an `Authorization` value, if any.
pub fn nonce_of(auth: &str) -> Option<String> {
    let p = parse_params(auth)?;
    get(&p, "nonce").map(str::to_owned)
}

/// The `nc=` (nonce count, hexadecimal) of an `Authorization` value with `qop`, if any.
pub fn nc_of(auth: &str) -> Option<u32> {
    let p = parse_params(auth)?;
    get(&p, "qop")?;
    u32::from_str_radix(get(&p, "nc")?, 16).ok()
}

/// The expected `response=` for these parameters and password.
pub fn response(
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, &str, &str)>, // (qop, nc, cnonce)
) -> String {
    let ha1 = md5_hex(&[username, realm, password]);
    let ha2 = md5_hex(&[method, uri]);
    match qop {
        Some((q, nc, cnonce)) => md5_hex(&[&ha1, nonce, nc, cnonce, q, &ha2]),
        None => md5_hex(&[&ha1, nonce, &ha2]),
    }
}

/// Why a digest did not verify.
#[derive(Debug, PartialEq, Eq)]
pub enum Reject {
    /// Malformed or missing fields, or a nonce we did not issue: challenge again (401).
    Stale,
    /// Well-formed but the password is wrong: 403.
    BadPassword,
}

/// Checks an `Authorization` header value for `method`. `nonce_ok` says whether the nonce is
/// one we issued and still valid.
pub fn verify(
    auth: &str,
    method: &str,
    realm: &str,
    password: &str,
    nonce_ok: impl Fn(&str) -> bool,
) -> Result<String, Reject> {
    let p = parse_params(auth).ok_or(Reject::Stale)?;
    let username = get(&p, "username").ok_or(Reject::Stale)?;
    let nonce = get(&p, "nonce").ok_or(Reject::Stale)?;
    let uri = get(&p, "uri").ok_or(Reject::Stale)?;
    let resp = get(&p, "response").ok_or(Reject::Stale)?;
    let their_realm = get(&p, "realm").unwrap_or(realm);
    if !nonce_ok(nonce) {
        return Err(Reject::Stale);
    }
    if let Some(alg) = get(&p, "algorithm")
        && !alg.eq_ignore_ascii_case("MD5")
    {
        return Err(Reject::Stale);
    }
    let qop = match get(&p, "qop") {
        Some(q) if q.eq_ignore_ascii_case("auth") => Some((
            q,
            get(&p, "nc").ok_or(Reject::Stale)?,
            get(&p, "cnonce").ok_or(Reject::Stale)?,
        )),
        Some(_) => return Err(Reject::Stale),
        None => None,
    };
    let want = response(username, their_realm, password, method, uri, nonce, qop);
    if want.eq_ignore_ascii_case(resp) {
        Ok(username.to_owned())
    } else {
        Err(Reject::BadPassword)
    }
}

/// The client side: an `Authorization` value answering a `WWW-Authenticate` challenge.
pub fn answer(
    challenge: &str,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
) -> Option<String> {
    let p = parse_params(challenge)?;
    let realm = get(&p, "realm")?;
    let nonce = get(&p, "nonce")?;
    let qop_auth = get(&p, "qop").is_some_and(|q| q.split(',').any(|x| x.trim() == "auth"));
    if qop_auth {
        let cnonce = crate::sip::token();
        let nc = "00000001";
        let r = response(
            username,
            realm,
            password,
            method,
            uri,
            nonce,
            Some(("auth", nc, &cnonce)),
        );
        Some(format!(
            "Digest username=\"{username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             response=\"{r}\", algorithm=MD5, qop=auth, nc={nc}, cnonce=\"{cnonce}\""
        ))
    } else {
        let r = response(username, realm, password, method, uri, nonce, None);
        Some(format!(
            "Digest username=\"{username}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             response=\"{r}\", algorithm=MD5"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I2: RFC 2617 §3.5's worked example (qop=auth).
    #[test]
    fn rfc2617_known_answer() {
        let r = response(
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(("auth", "00000001", "0a4f113b")),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    /// I2 (GB/T 28181 interface, digest): verify uses the clients uri and tells 403 from 401.
    #[test]
    fn verify_uses_the_clients_uri_and_tells_403_from_401() {
        let ch = "Digest realm=\"3402000000\", nonce=\"n1\", qop=\"auth\"";
        for uri in ["sip:127.0.0.1:25060", "sip:34020000002000000001@3402000000"] {
            let a = answer(ch, "34020000001320000001", "12345678", "REGISTER", uri).unwrap();
            assert_eq!(
                verify(&a, "REGISTER", "3402000000", "12345678", |n| n == "n1"),
                Ok("34020000001320000001".into())
            );
            assert_eq!(
                verify(&a, "REGISTER", "3402000000", "wrong", |n| n == "n1"),
                Err(Reject::BadPassword)
            );
            assert_eq!(
                verify(&a, "REGISTER", "3402000000", "12345678", |_| false),
                Err(Reject::Stale)
            );
        }
        let plain = answer(
            "Digest realm=\"3402000000\",nonce=\"n2\"",
            "u",
            "p",
            "REGISTER",
            "sip:x",
        )
        .unwrap();
        assert!(!plain.contains("qop"));
        assert!(verify(&plain, "REGISTER", "3402000000", "p", |_| true).is_ok());
    }
}
