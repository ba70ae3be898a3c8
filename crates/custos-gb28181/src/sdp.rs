//! The SDP that GB/T 28181 INVITEs carry (RFC 4566 plus the GB `y=` SSRC and `f=` lines, which
//! generic SDP parsers drop): build an offer, parse an answer or an upper platform's offer.

/// What a media session needs from an SDP body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaSdp {
    /// `s=`: `Play`, `Playback` or `Download`.
    pub session: String,
    /// `o=` user: the channel id.
    pub origin: String,
    /// `c=` address.
    pub addr: String,
    pub port: u16,
    /// `m=video ... TCP/RTP/AVP` rather than `RTP/AVP`.
    pub tcp: bool,
    /// `a=setup:` (`active`/`passive`) for TCP.
    pub setup: Option<String>,
    /// `y=` as a number (10 decimal digits).
    pub ssrc: Option<u32>,
    /// `t=` start and end (Unix seconds) for playback/download.
    pub start: u64,
    pub end: u64,
    /// `u=` (playback: `channel:0`).
    pub uri: Option<String>,
    /// Direction attribute (`sendonly`/`recvonly`/`sendrecv`).
    pub direction: Option<String>,
}

/// Parses the lines we need; ignores the rest. `None` if there is no video `m=` line.
pub fn parse(body: &str) -> Option<MediaSdp> {
    let mut s = MediaSdp::default();
    let mut have_m = false;
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        match k.trim() {
            "s" => s.session = v.to_owned(),
            "o" => s.origin = v.split(' ').next().unwrap_or("").to_owned(),
            "c" => s.addr = v.rsplit(' ').next().unwrap_or("").to_owned(),
            "u" => s.uri = Some(v.to_owned()),
            "t" => {
                let mut it = v.split(' ');
                s.start = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                s.end = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
            }
            "m" if !have_m => {
                let f: Vec<&str> = v.split(' ').collect();
                if f.len() >= 3 && f[0] == "video" {
                    s.port = f[1].parse().ok()?;
                    s.tcp = f[2].to_ascii_uppercase().starts_with("TCP");
                    have_m = true;
                }
            }
            "y" => s.ssrc = v.parse::<u64>().ok().map(|x| x as u32),
            "a" => {
                if let Some(x) = v.strip_prefix("setup:") {
                    s.setup = Some(x.trim().to_owned());
                } else if matches!(v, "sendonly" | "recvonly" | "sendrecv") {
                    s.direction = Some(v.to_owned());
                }
            }
            _ => {}
        }
    }
    have_m.then_some(s)
}

/// Writes an SDP for our side: an offer to a device (`recvonly`) or an answer to an upper
/// platform (`sendonly`).
pub fn build(m: &MediaSdp, id: &str) -> String {
    let proto = if m.tcp { "TCP/RTP/AVP" } else { "RTP/AVP" };
    let mut s = format!(
        "v=0\r\no={id} 0 0 IN IP4 {addr}\r\ns={sess}\r\n",
        addr = m.addr,
        sess = if m.session.is_empty() {
            "Play"
        } else {
            &m.session
        }
    );
    if let Some(u) = &m.uri {
        s.push_str(&format!("u={u}\r\n"));
    }
    s.push_str(&format!(
        "c=IN IP4 {}\r\nt={} {}\r\nm=video {} {proto} 96\r\n",
        m.addr, m.start, m.end, m.port
    ));
    s.push_str(&format!(
        "a={}\r\na=rtpmap:96 PS/90000\r\n",
        m.direction.as_deref().unwrap_or("recvonly")
    ));
    if m.tcp {
        s.push_str(&format!(
            "a=setup:{}\r\na=connection:new\r\n",
            m.setup.as_deref().unwrap_or("passive")
        ));
    }
    if let Some(y) = m.ssrc {
        s.push_str(&format!("y={y:010}\r\n"));
    }
    s
}

/// A GB SSRC: `0` live / `1` history, digits 4–8 of the domain, a 4-digit serial.
pub fn make_ssrc(history: bool, domain: &str, serial: u16) -> u32 {
    let mid: u32 = domain.get(3..8).and_then(|d| d.parse().ok()).unwrap_or(0);
    (if history { 1_000_000_000 } else { 0 }) + mid * 10_000 + (serial % 10_000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I2 (GB/T 28181 interface, sdp): parses device answer with y line.
    #[test]
    fn parses_device_answer_with_y_line() {
        let a = "v=0\r\no=34020000001320000001 0 0 IN IP4 10.0.0.5\r\ns=Play\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=video 15060 TCP/RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\na=setup:active\r\ny=0200006334\r\nf=\r\n";
        let m = parse(a).unwrap();
        assert_eq!((m.port, m.tcp, m.ssrc), (15060, true, Some(200_006_334)));
        assert_eq!(m.setup.as_deref(), Some("active"));
        assert_eq!(m.addr, "10.0.0.5");
        assert_eq!(make_ssrc(false, "3402000000", 6334), 200_006_334);
        let round = parse(&build(&m, "x")).unwrap();
        assert_eq!(round.ssrc, m.ssrc);
        assert_eq!(round.port, 15060);
    }
}
