//! SIP messages (RFC 3261 §7) as GB/T 28181 uses them: parse from bytes (one datagram, or the
//! front of a TCP byte stream framed by `Content-Length`), build and serialise.
//!
//! The parser is deliberately small and total: it never panics on any input (fuzzed by
//! `fuzz/fuzz_targets/sip_parse.rs`), keeps header order, understands compact header names
//! (`v`, `f`, `t`, `i`, `m`, `l`, `c`) and folded continuation lines, and bounds every size.

use bytes::Bytes;
use custos_core::{Error, ErrorKind, Result};

/// Largest message accepted (headers + body). GB catalog answers are split by the sender
/// into several messages, each well under this.
pub const MAX_MESSAGE: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { code: u16, reason: String },
}

/// One SIP request or response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    /// Header name (as received, compact names expanded) and value, in order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// Expands RFC 3261 §7.3.3 compact forms.
fn canonical_name(name: &str) -> &str {
    match name {
        "v" | "V" => "Via",
        "f" | "F" => "From",
        "t" | "T" => "To",
        "i" | "I" => "Call-ID",
        "m" | "M" => "Contact",
        "l" | "L" => "Content-Length",
        "c" | "C" => "Content-Type",
        "s" | "S" => "Subject",
        "k" | "K" => "Supported",
        "o" | "O" => "Event",
        _ => name,
    }
}

fn proto(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Protocol, msg)
}

/// What [`parse`] found at the front of a buffer.
#[derive(Debug)]
pub enum Parsed {
    /// A whole message and how many bytes it used.
    Message(Message, usize),
    /// More bytes are needed (TCP).
    Incomplete,
}

/// Parses one message from the front of `buf`. For UDP pass the datagram: a message whose
/// body is shorter than its `Content-Length` is an error there (`datagram = true`), while on TCP
/// it means "wait for more".
pub fn parse(buf: &[u8], datagram: bool) -> Result<Parsed> {
    // Skip keep-alive CRLFs (RFC 5626 §3.5.1) before a message.
    let lead = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let buf_all = buf;
    let buf = &buf[lead..];
    let Some(head_end) = find(buf, b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| find(buf, b"\n\n").map(|i| (i, i + 2)))
    else {
        if buf.len() > MAX_MESSAGE {
            return Err(proto(format!(
                "SIP header block longer than {MAX_MESSAGE} bytes without an end"
            )));
        }
        if datagram {
            return Err(proto("SIP datagram has no empty line ending its headers"));
        }
        return Ok(Parsed::Incomplete);
    };
    let (head, body_start) = (&buf[..head_end.0], head_end.1);
    let head = std::str::from_utf8(head).map_err(|_| proto("SIP header block is not UTF-8"))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().unwrap_or("");
    let start = parse_start(first)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // Folded continuation of the previous header.
            match headers.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(proto("SIP header continuation before any header")),
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let Some((n, v)) = line.split_once(':') else {
            return Err(proto(format!(
                "SIP header line without ':': {:?}",
                truncate(line, 60)
            )));
        };
        let n = n.trim();
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(proto(format!("bad SIP header name {:?}", truncate(n, 40))));
        }
        if headers.len() >= MAX_HEADERS {
            return Err(proto(format!("more than {MAX_HEADERS} SIP headers")));
        }
        headers.push((canonical_name(n).to_owned(), v.trim().to_owned()));
    }
    let clen = match headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Length"))
    {
        Some((_, v)) => v
            .parse::<usize>()
            .map_err(|_| proto(format!("bad Content-Length {:?}", truncate(v, 20))))?,
        None if datagram => buf.len() - body_start,
        None => 0,
    };
    if clen > MAX_MESSAGE {
        return Err(proto(format!(
            "Content-Length {clen} is over the {MAX_MESSAGE}-byte limit"
        )));
    }
    let avail = buf.len() - body_start;
    if avail < clen {
        if datagram {
            return Err(proto(format!(
                "SIP datagram body has {avail} bytes, Content-Length says {clen}"
            )));
        }
        return Ok(Parsed::Incomplete);
    }
    let body = Bytes::copy_from_slice(&buf[body_start..body_start + clen]);
    let used = lead + body_start + clen;
    debug_assert!(used <= buf_all.len());
    Ok(Parsed::Message(
        Message {
            start,
            headers,
            body,
        },
        used,
    ))
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn parse_start(line: &str) -> Result<StartLine> {
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (100..700).contains(c))
            .ok_or_else(|| proto(format!("bad SIP status line {:?}", truncate(line, 60))))?;
        return Ok(StartLine::Response {
            code,
            reason: reason.to_owned(),
        });
    }
    let mut it = line.split(' ');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(m), Some(uri), Some("SIP/2.0"), None)
            if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) && !uri.is_empty() =>
        {
            Ok(StartLine::Request {
                method: m.to_owned(),
                uri: uri.to_owned(),
            })
        }
        _ => Err(proto(format!(
            "bad SIP request line {:?}",
            truncate(line, 60)
        ))),
    }
}

impl Message {
    pub fn request(method: &str, uri: &str) -> Message {
        Message {
            start: StartLine::Request {
                method: method.to_owned(),
                uri: uri.to_owned(),
            },
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A response to `req`, copying Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2); the
    /// To gets `to_tag` if it has none.
    pub fn response_to(req: &Message, code: u16, reason: &str, to_tag: Option<&str>) -> Message {
        let mut r = Message {
            start: StartLine::Response {
                code,
                reason: reason.to_owned(),
            },
            headers: Vec::new(),
            body: Bytes::new(),
        };
        for (n, v) in &req.headers {
            if n.eq_ignore_ascii_case("Via")
                || n.eq_ignore_ascii_case("From")
                || n.eq_ignore_ascii_case("Call-ID")
                || n.eq_ignore_ascii_case("CSeq")
            {
                r.headers.push((n.clone(), v.clone()));
            } else if n.eq_ignore_ascii_case("To") {
                let mut v = v.clone();
                if let Some(t) = to_tag
                    && param(&v, "tag").is_none()
                {
                    v.push_str(";tag=");
                    v.push_str(t);
                }
                r.headers.push((n.clone(), v));
            }
        }
        r
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// First value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => *v = value,
            None => self.headers.push((name.to_owned(), value)),
        }
        self
    }

    pub fn with_body(&mut self, content_type: &str, body: impl Into<Bytes>) -> &mut Self {
        self.set("Content-Type", content_type);
        self.body = body.into();
        self
    }

    pub fn call_id(&self) -> &str {
        self.header("Call-ID").unwrap_or("")
    }

    /// `CSeq: 3 REGISTER` → (3, "REGISTER").
    pub fn cseq(&self) -> Option<(u32, &str)> {
        let v = self.header("CSeq")?;
        let (n, m) = v.split_once(' ')?;
        Some((n.trim().parse().ok()?, m.trim()))
    }

    /// The user part of the From URI: a GB device's 20-digit id.
    pub fn from_user(&self) -> Option<&str> {
        uri_user(self.header("From")?)
    }

    pub fn to_user(&self) -> Option<&str> {
        uri_user(self.header("To")?)
    }

    /// `Expires` header, or the Contact's `expires=` parameter.
    pub fn expires(&self) -> Option<u32> {
        self.header("Expires")
            .and_then(|v| v.trim().parse().ok())
            .or_else(|| {
                self.header("Contact")
                    .and_then(|c| param(c, "expires")?.parse().ok())
            })
    }

    /// Serialises with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        match &self.start {
            StartLine::Request { method, uri } => {
                out.extend_from_slice(format!("{method} {uri} SIP/2.0\r\n").as_bytes())
            }
            StartLine::Response { code, reason } => {
                out.extend_from_slice(format!("SIP/2.0 {code} {reason}\r\n").as_bytes())
            }
        }
        for (n, v) in &self.headers {
            if n.eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

/// The user part of a name-addr or addr-spec: `<sip:3402...@3402000000>;tag=1` → `3402...`.
pub fn uri_user(v: &str) -> Option<&str> {
    let uri = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next()?,
    };
    let rest = uri
        .trim()
        .strip_prefix("sip:")
        .or_else(|| uri.trim().strip_prefix("sips:"))?;
    let user = rest.split_once('@')?.0;
    let user = user.split(':').next()?;
    (!user.is_empty()).then_some(user)
}

/// The host[:port] of a SIP URI or name-addr.
pub fn uri_hostport(v: &str) -> Option<&str> {
    let uri = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next()?,
    };
    let rest = uri.trim().strip_prefix("sip:")?;
    let hp = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    Some(hp.split(';').next()?.trim())
}

/// A `;name=value` parameter of a header value (outside `<...>`), e.g. `tag` of From/To,
/// `branch`/`rport`/`received` of Via. A flag parameter without `=` yields `""`.
pub fn param<'a>(v: &'a str, name: &str) -> Option<&'a str> {
    let tail = match v.rfind('>') {
        Some(i) => &v[i + 1..],
        None => v,
    };
    for p in tail.split(';').skip(1) {
        let (n, val) = p.split_once('=').unwrap_or((p, ""));
        if n.trim().eq_ignore_ascii_case(name) {
            return Some(val.trim().trim_matches('"'));
        }
    }
    None
}

/// A random token for tags, branches and Call-IDs.
pub fn token() -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("OS randomness");
    hex::encode(b)
}

/// GB/T 28181 §9.10 `Date` value: `yyyy-MM-ddTHH:mm:ss.SSS`, Beijing time (UTC+8).
pub fn gb_date(t: chrono::DateTime<chrono::Utc>) -> String {
    let bj = t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"));
    bj.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// Parses a GB `Date` value (the fractional part is optional), taken as Beijing time.
pub fn parse_gb_date(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let v = v.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let bj = chrono::FixedOffset::east_opt(8 * 3600)?;
    Some(
        naive
            .and_local_timezone(bj)
            .single()?
            .with_timezone(&chrono::Utc),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: &str = "REGISTER sip:34020000002000000001@3402000000 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;rport;branch=z9hG4bK1\r\n\
f: <sip:34020000001320000001@3402000000>;tag=abc\r\n\
To: <sip:34020000001320000001@3402000000>\r\n\
i: 1@127.0.0.1\r\n\
CSeq: 1 REGISTER\r\n\
Contact: <sip:34020000001320000001@127.0.0.1:5061>\r\n\
Expires: 3600\r\n\
Date: 2026-11-24T12:00:00.000\r\n\
Content-Length: 0\r\n\r\n";

    /// I2 (GB/T 28181 interface, sip): parses register with compact names and gb date.
    #[test]
    fn parses_register_with_compact_names_and_gb_date() {
        let Parsed::Message(m, n) = parse(REG.as_bytes(), true).unwrap() else {
            panic!()
        };
        assert_eq!(n, REG.len());
        assert_eq!(m.method(), Some("REGISTER"));
        assert_eq!(m.from_user(), Some("34020000001320000001"));
        assert_eq!(m.call_id(), "1@127.0.0.1");
        assert_eq!(m.cseq(), Some((1, "REGISTER")));
        assert_eq!(m.expires(), Some(3600));
        let d = parse_gb_date(m.header("Date").unwrap()).unwrap();
        assert_eq!(gb_date(d), "2026-11-24T12:00:00.000");
        assert_eq!(param(m.header("From").unwrap(), "tag"), Some("abc"));
        assert_eq!(param(m.header("Via").unwrap(), "rport"), Some(""));
    }

    /// I2 (GB/T 28181 interface, sip): tcp stream framing waits for body and splits messages.
    #[test]
    fn tcp_stream_framing_waits_for_body_and_splits_messages() {
        let msg = "MESSAGE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 5\r\n\r\nhello";
        let two = format!("{msg}{msg}");
        assert!(matches!(
            parse(&two.as_bytes()[..msg.len() - 1], false).unwrap(),
            Parsed::Incomplete
        ));
        let Parsed::Message(m, n) = parse(two.as_bytes(), false).unwrap() else {
            panic!()
        };
        assert_eq!(n, msg.len());
        assert_eq!(&m.body[..], b"hello");
        assert!(parse(&two.as_bytes()[..msg.len() - 1], true).is_err());
    }

    /// I2 (GB/T 28181 interface, sip): round trips through to bytes.
    #[test]
    fn round_trips_through_to_bytes() {
        let Parsed::Message(m, _) = parse(REG.as_bytes(), true).unwrap() else {
            panic!()
        };
        let Parsed::Message(m2, _) = parse(&m.to_bytes(), true).unwrap() else {
            panic!()
        };
        assert_eq!(m, m2);
    }

    /// I2 (GB/T 28181 interface, sip): rejects garbage without panicking.
    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            &b"\r\n\r\n"[..],
            b"HELLO\r\n\r\n",
            b"SIP/2.0 99 X\r\n\r\n",
            b"INVITE sip:a SIP/2.0\r\nNoColon\r\n\r\n",
            b"INVITE sip:a SIP/2.0\r\nContent-Length: 99999999\r\n\r\n",
            b"INVITE sip:a SIP/2.0\r\n folded\r\n\r\n",
        ] {
            assert!(
                parse(bad, true).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// I2 (GB/T 28181 interface, sip): uri helpers.
    #[test]
    fn uri_helpers() {
        assert_eq!(
            uri_user("\"cam\" <sip:34020000001320000001@3402000000>;tag=1"),
            Some("34020000001320000001")
        );
        assert_eq!(
            uri_hostport("<sip:34020000001320000001@127.0.0.1:5061>"),
            Some("127.0.0.1:5061")
        );
        assert_eq!(uri_user("sip:3402000000"), None);
    }
}
