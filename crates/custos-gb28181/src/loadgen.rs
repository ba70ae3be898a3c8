//! Simulated devices and streams for `custos bench gb28181`: many devices registering (digest)
//! and keeping alive against a [`Platform`], and a synthetic PS stream for demux throughput.
//! Unstable; exposed for the benchmark only.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use custos_core::frame::Codec;
use custos_core::{Error, ErrorKind, Result};
use tokio::net::UdpSocket;

use crate::sip::{self, Message, Parsed};

/// Device ids `{domain}132{serial:07}`.
pub fn device_id(domain: &str, i: usize) -> String {
    format!("{domain}132{:07}", i + 1)
}

async fn transact(s: &UdpSocket, to: SocketAddr, m: &Message, buf: &mut [u8]) -> Result<Message> {
    let bytes = m.to_bytes();
    for _ in 0..5 {
        s.send_to(&bytes, to)
            .await
            .map_err(|e| Error::io("loadgen send", e))?;
        match tokio::time::timeout(Duration::from_secs(2), s.recv(buf)).await {
            Ok(Ok(n)) => {
                if let Ok(Parsed::Message(r, _)) = sip::parse(&buf[..n], true) {
                    return Ok(r);
                }
            }
            Ok(Err(e)) => return Err(Error::io("loadgen receive", e)),
            Err(_) => continue, // retransmit
        }
    }
    Err(Error::new(
        ErrorKind::Unavailable,
        "loadgen: platform did not answer",
    ))
}

fn base(
    method: &str,
    id: &str,
    domain: &str,
    platform_id: &str,
    local: SocketAddr,
    cseq: u32,
    call: &str,
) -> Message {
    let mut m = Message::request(method, &format!("sip:{platform_id}@{domain}"));
    m.push(
        "Via",
        format!("SIP/2.0/UDP {local};rport;branch=z9hG4bK{}", sip::token()),
    )
    .push("From", format!("<sip:{id}@{domain}>;tag=t{id}"))
    .push(
        "To",
        if method == "REGISTER" {
            format!("<sip:{id}@{domain}>")
        } else {
            format!("<sip:{platform_id}@{domain}>")
        },
    )
    .push("Call-ID", call.to_owned())
    .push("CSeq", format!("{cseq} {method}"))
    .push("Max-Forwards", "70");
    m
}

/// The UDP sockets the simulated devices speak from: device `i` uses socket `i % len`, for
/// its REGISTER and every later message (the platform accepts a device's messages only from
/// the address it registered from).
pub struct Pool {
    sockets: Vec<Arc<UdpSocket>>,
}

impl Pool {
    pub async fn bind(n: usize) -> Result<Pool> {
        let mut sockets = Vec::new();
        for _ in 0..n.max(1) {
            sockets.push(Arc::new(
                UdpSocket::bind("127.0.0.1:0")
                    .await
                    .map_err(|e| Error::io("loadgen bind", e))?,
            ));
        }
        Ok(Pool { sockets })
    }

    fn len(&self) -> usize {
        self.sockets.len()
    }
}

/// Registers `ids` (digest) over the pool's sockets concurrently; returns the elapsed time.
pub async fn register_all(
    platform: SocketAddr,
    platform_id: &str,
    password: &str,
    ids: &[String],
    pool: &Pool,
) -> Result<Duration> {
    let domain = &platform_id[..10];
    let ids = Arc::new(ids.to_vec());
    let start = Instant::now();
    let mut tasks = Vec::new();
    let sockets = pool.len();
    for k in 0..sockets {
        let ids = ids.clone();
        let (pid, dom, pw) = (
            platform_id.to_owned(),
            domain.to_owned(),
            password.to_owned(),
        );
        let s = pool.sockets[k].clone();
        tasks.push(tokio::spawn(async move {
            let local = s.local_addr().map_err(|e| Error::io("loadgen", e))?;
            let mut buf = vec![0u8; 8192];
            for id in ids.iter().skip(k).step_by(sockets) {
                let call = format!("r{id}");
                let mut m = base("REGISTER", id, &dom, &pid, local, 1, &call);
                m.push("Contact", format!("<sip:{id}@{local}>"))
                    .push("Expires", "3600");
                let r = transact(&s, platform, &m, &mut buf).await?;
                let ch = r.header("WWW-Authenticate").unwrap_or("").to_owned();
                let uri = format!("sip:{pid}@{dom}");
                let auth = crate::digest::answer(&ch, id, &pw, "REGISTER", &uri)
                    .ok_or_else(|| Error::new(ErrorKind::Protocol, "loadgen: no challenge"))?;
                let mut m = base("REGISTER", id, &dom, &pid, local, 2, &call);
                m.push("Contact", format!("<sip:{id}@{local}>"))
                    .push("Expires", "3600")
                    .push("Authorization", auth);
                let r = transact(&s, platform, &m, &mut buf).await?;
                if r.status() != Some(200) {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("loadgen: REGISTER of {id} got {:?}", r.status()),
                    ));
                }
            }
            Ok::<(), Error>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))??;
    }
    Ok(start.elapsed())
}

/// Sends `rounds` keepalives for every id (each waits for its 200); returns the elapsed time.
pub async fn keepalive_all(
    platform: SocketAddr,
    platform_id: &str,
    ids: &[String],
    pool: &Pool,
    rounds: usize,
) -> Result<Duration> {
    let domain = &platform_id[..10];
    let ids = Arc::new(ids.to_vec());
    let start = Instant::now();
    let mut tasks = Vec::new();
    let sockets = pool.len();
    for k in 0..sockets {
        let ids = ids.clone();
        let (pid, dom) = (platform_id.to_owned(), domain.to_owned());
        let s = pool.sockets[k].clone();
        tasks.push(tokio::spawn(async move {
            let local = s.local_addr().map_err(|e| Error::io("loadgen", e))?;
            let mut buf = vec![0u8; 8192];
            for r in 0..rounds {
                for id in ids.iter().skip(k).step_by(sockets) {
                    let mut m = base(
                        "MESSAGE",
                        id,
                        &dom,
                        &pid,
                        local,
                        20 + r as u32,
                        &format!("k{id}"),
                    );
                    m.with_body(
                        "Application/MANSCDP+xml",
                        crate::manscdp::build(
                            "Notify",
                            "Keepalive",
                            r as u32,
                            id,
                            &[("Status", "OK".into())],
                            crate::manscdp::Charset::Gb18030,
                        ),
                    );
                    let resp = transact(&s, platform, &m, &mut buf).await?;
                    if resp.status() != Some(200) {
                        return Err(Error::new(
                            ErrorKind::Protocol,
                            format!("loadgen: keepalive of {id} got {:?}", resp.status()),
                        ));
                    }
                }
            }
            Ok::<(), Error>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))??;
    }
    Ok(start.elapsed())
}

/// A synthetic PS stream of about `bytes` bytes: 25 fps H.264-like access units (a key frame
/// with SPS/PPS each second), as PS packs.
pub fn synthetic_ps(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 65536);
    let mut i: i64 = 0;
    let mut x: u32 = 0x1234_5678;
    while out.len() < bytes {
        let key = i % 25 == 0;
        let size = if key { 120_000 } else { 25_000 };
        let mut au = Vec::with_capacity(size + 32);
        if key {
            au.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x64, 0, 0x1f, 0xac]);
            au.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80]);
        }
        au.extend_from_slice(&[0, 0, 0, 1, if key { 0x65 } else { 0x41 }]);
        while au.len() < size {
            // xorshift, never producing a start code (no two zero bytes in a row).
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            au.push((x as u8) | 1);
        }
        out.extend(crate::ps::mux_frame(
            Codec::H264,
            &au,
            i * 3600,
            i * 3600,
            key,
        ));
        i += 1;
    }
    out
}

/// Steady state: keepalives from `ids` in turn at `per_sec` for `dur` (each waits for its
/// 200), as `ids.len()` devices with a `ids.len() / per_sec` interval would send them.
pub async fn keepalive_paced(
    platform: SocketAddr,
    platform_id: &str,
    ids: &[String],
    pool: &Pool,
    per_sec: f64,
    dur: Duration,
) -> Result<u64> {
    let domain = &platform_id[..10];
    let mut buf = vec![0u8; 8192];
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_sec));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let end = Instant::now() + dur;
    let mut n = 0u64;
    while Instant::now() < end {
        tick.tick().await;
        let i = n as usize % ids.len();
        let id = &ids[i];
        let s = &pool.sockets[i % pool.len()];
        let local = s.local_addr().map_err(|e| Error::io("loadgen", e))?;
        let mut m = base(
            "MESSAGE",
            id,
            domain,
            platform_id,
            local,
            1000 + n as u32,
            &format!("p{id}"),
        );
        m.with_body(
            "Application/MANSCDP+xml",
            crate::manscdp::build(
                "Notify",
                "Keepalive",
                n as u32,
                id,
                &[("Status", "OK".into())],
                crate::manscdp::Charset::Gb18030,
            ),
        );
        transact(s, platform, &m, &mut buf).await?;
        n += 1;
    }
    Ok(n)
}
