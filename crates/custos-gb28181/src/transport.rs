//! SIP transport and client transactions: one UDP socket and one TCP listener on the same
//! port, connections kept per peer, and requests matched to their responses by Call-ID and
//! CSeq (RFC 3261 §17.1, simplified: UDP retransmission at T1 doubling, no server-side
//! retransmission cache beyond answering again).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use custos_core::{Error, ErrorKind, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use crate::sip::{self, Message, Parsed};

/// Where a message came from / goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Peer {
    Udp(SocketAddr),
    Tcp(SocketAddr),
}

impl Peer {
    pub fn addr(self) -> SocketAddr {
        match self {
            Peer::Udp(a) | Peer::Tcp(a) => a,
        }
    }
    pub fn proto(self) -> &'static str {
        match self {
            Peer::Udp(_) => "UDP",
            Peer::Tcp(_) => "TCP",
        }
    }
}

type TxKey = (String, u32, String);

pub(crate) struct Transport {
    pub udp: Arc<UdpSocket>,
    pub local: SocketAddr,
    tcp: Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>>,
    pending: Mutex<HashMap<TxKey, mpsc::UnboundedSender<Message>>>,
    /// Messages parsed from any socket, for the dispatcher.
    inbound: mpsc::UnboundedSender<(Message, Peer)>,
    pub stats: Mutex<Stats>,
}

#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Stats {
    pub received: u64,
    pub sent: u64,
    pub parse_errors: u64,
}

impl Transport {
    pub async fn bind(
        listen: SocketAddr,
    ) -> Result<(Arc<Transport>, mpsc::UnboundedReceiver<(Message, Peer)>)> {
        let udp = UdpSocket::bind(listen).await.map_err(|e| {
            Error::io(
                format!("cannot bind SIP UDP {listen}; choose another --sip-listen"),
                e,
            )
        })?;
        let local = udp
            .local_addr()
            .map_err(|e| Error::io("SIP UDP address", e))?;
        // TCP on the same port as UDP (an ephemeral UDP port is reused for TCP).
        let tcp = TcpListener::bind(local).await.map_err(|e| {
            Error::io(
                format!("cannot bind SIP TCP {local}; choose another --sip-listen"),
                e,
            )
        })?;
        let (tx, rx) = mpsc::unbounded_channel();
        let t = Arc::new(Transport {
            udp: Arc::new(udp),
            local,
            tcp: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            inbound: tx,
            stats: Mutex::new(Stats::default()),
        });
        let t2 = t.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                let (n, from) = match t2.udp.recv_from(&mut buf).await {
                    Ok(x) => x,
                    Err(e) => {
                        // ICMP port unreachable surfaces here on Linux; keep serving.
                        tracing::debug!(error = %e, "SIP UDP receive");
                        continue;
                    }
                };
                if buf[..n]
                    .iter()
                    .all(|b| *b == b'\r' || *b == b'\n' || *b == 0)
                {
                    continue; // keep-alive ping
                }
                match sip::parse(&buf[..n], true) {
                    Ok(Parsed::Message(m, _)) => t2.received(m, Peer::Udp(from)),
                    Ok(Parsed::Incomplete) => {}
                    Err(e) => {
                        t2.stats.lock().unwrap().parse_errors += 1;
                        tracing::warn!(peer = %from, error = %e, "bad SIP datagram dropped");
                    }
                }
            }
        });
        let t3 = t.clone();
        tokio::spawn(async move {
            loop {
                let Ok((s, from)) = tcp.accept().await else {
                    continue;
                };
                t3.clone().adopt_tcp(s, from);
            }
        });
        Ok((t, rx))
    }

    fn received(&self, m: Message, peer: Peer) {
        self.stats.lock().unwrap().received += 1;
        if m.status().is_some() {
            let key = match m.cseq() {
                Some((n, meth)) => (m.call_id().to_owned(), n, meth.to_owned()),
                None => return,
            };
            let p = self.pending.lock().unwrap();
            if let Some(tx) = p.get(&key) {
                let _ = tx.send(m);
            } else {
                tracing::debug!(call_id = %key.0, cseq = key.1, "response to no pending request");
            }
            return;
        }
        let _ = self.inbound.send((m, peer));
    }

    fn adopt_tcp(self: Arc<Self>, s: TcpStream, from: SocketAddr) {
        let _ = s.set_nodelay(true);
        let (mut rd, mut wr) = s.into_split();
        let (wtx, mut wrx) = mpsc::unbounded_channel::<Vec<u8>>();
        self.tcp.lock().unwrap().insert(from, wtx);
        tokio::spawn(async move {
            while let Some(b) = wrx.recv().await {
                if wr.write_all(&b).await.is_err() {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            let mut buf: Vec<u8> = Vec::new();
            let mut chunk = vec![0u8; 16384];
            loop {
                let n = match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&chunk[..n]);
                loop {
                    match sip::parse(&buf, false) {
                        Ok(Parsed::Message(m, used)) => {
                            buf.drain(..used);
                            self.received(m, Peer::Tcp(from));
                        }
                        Ok(Parsed::Incomplete) => break,
                        Err(e) => {
                            self.stats.lock().unwrap().parse_errors += 1;
                            tracing::warn!(peer = %from, error = %e, "bad SIP over TCP; closing");
                            self.tcp.lock().unwrap().remove(&from);
                            return;
                        }
                    }
                }
            }
            self.tcp.lock().unwrap().remove(&from);
        });
    }

    pub async fn send(self: &Arc<Self>, peer: Peer, m: &Message) -> Result<()> {
        let b = m.to_bytes();
        self.stats.lock().unwrap().sent += 1;
        match peer {
            Peer::Udp(a) => {
                self.udp.send_to(&b, a).await.map_err(|e| {
                    Error::with_source(ErrorKind::Unavailable, format!("SIP send to {a}"), e)
                })?;
            }
            Peer::Tcp(a) => {
                let existing = self.tcp.lock().unwrap().get(&a).cloned();
                let tx =
                    match existing {
                        Some(tx) => tx,
                        None => {
                            let s = TcpStream::connect(a).await.map_err(|e| {
                                Error::with_source(
                                    ErrorKind::Unavailable,
                                    format!("SIP TCP connect to {a}"),
                                    e,
                                )
                            })?;
                            self.clone().adopt_tcp(s, a);
                            self.tcp.lock().unwrap().get(&a).cloned().ok_or_else(|| {
                                Error::new(ErrorKind::Unavailable, "SIP TCP closed")
                            })?
                        }
                    };
                tx.send(b).map_err(|_| {
                    Error::new(
                        ErrorKind::Unavailable,
                        format!("SIP TCP connection to {a} closed"),
                    )
                })?;
            }
        }
        Ok(())
    }

    /// Sends a request and waits for its final response (provisional ones are skipped).
    pub async fn request(
        self: &Arc<Self>,
        peer: Peer,
        m: &Message,
        timeout: Duration,
    ) -> Result<Message> {
        let (n, meth) = m
            .cseq()
            .ok_or_else(|| Error::new(ErrorKind::Internal, "request without CSeq"))?;
        let key = (m.call_id().to_owned(), n, meth.to_owned());
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.pending.lock().unwrap().insert(key.clone(), tx);
        let r = async {
            self.send(peer, m).await?;
            let deadline = tokio::time::Instant::now() + timeout;
            let mut t1 = Duration::from_millis(500);
            let mut provisional = false;
            loop {
                let wait = if matches!(peer, Peer::Udp(_)) && !provisional {
                    t1.min(deadline.saturating_duration_since(tokio::time::Instant::now()))
                } else {
                    deadline.saturating_duration_since(tokio::time::Instant::now())
                };
                match tokio::time::timeout(wait, rx.recv()).await {
                    Ok(Some(resp)) => {
                        if resp.status().unwrap_or(0) >= 200 {
                            return Ok(resp);
                        }
                        provisional = true;
                    }
                    Ok(None) => unreachable!("sender held in pending"),
                    Err(_) => {
                        if tokio::time::Instant::now() >= deadline {
                            return Err(Error::new(
                                ErrorKind::Unavailable,
                                format!(
                                    "no answer to {meth} (Call-ID {}) from {} within {timeout:?}",
                                    key.0,
                                    peer.addr()
                                ),
                            ));
                        }
                        // UDP retransmission (RFC 3261 §17.1.1.2/§17.1.2.2).
                        self.send(peer, m).await?;
                        t1 = (t1 * 2).min(Duration::from_secs(4));
                    }
                }
            }
        }
        .await;
        self.pending.lock().unwrap().remove(&key);
        r
    }

    /// The `Via` for a request we send to `peer`.
    pub fn via(&self, peer: Peer, host: &str) -> String {
        format!(
            "SIP/2.0/{} {}:{};rport;branch=z9hG4bK{}",
            peer.proto(),
            host,
            self.local.port(),
            sip::token()
        )
    }
}
