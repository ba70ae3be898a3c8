//! A running node: the recording runtime, its GB/T 28181 platform if configured, and the
//! HTTPS server if started. One loop runs it until a stop (Ctrl-C, SIGTERM, a duration),
//! recording GB/T 28181 channels as their devices appear; one function stops it cleanly.

use std::future::Future;
#[cfg(feature = "gb28181")]
use std::sync::Arc;
use std::time::Duration;

use custos_core::Result;

use crate::config::Config;
use crate::gb::{Gb, GbOptions};
use crate::runtime::Runtime;
use crate::server::{Started, WebOptions, start_server, store_placements, sync_live};

pub struct Node {
    pub rt: Runtime,
    pub gb: Option<Gb>,
    pub server: Option<Started>,
    segment_seconds: u32,
}

impl Node {
    /// Opens the data directory and starts recording `cfg`'s cameras (configuration changes
    /// in the ledger first), stores the configuration's placements (they decide what the
    /// upper GB/T 28181 platform is offered), then starts the GB/T 28181 platform if `gb`
    /// says so.
    pub async fn start(data: &std::path::Path, cfg: &Config, gb: &GbOptions) -> Result<Node> {
        let rt = Runtime::start(data, cfg).await?;
        store_placements(&rt, cfg).await?;
        let gb = Gb::start(gb, &rt).await?;
        Ok(Node {
            rt,
            gb,
            server: None,
            segment_seconds: cfg.segment_seconds,
        })
    }

    /// Starts the HTTPS server over the recorder (the console sees the GB/T 28181 platform
    /// if one runs).
    pub async fn serve(
        &mut self,
        cfg: &Config,
        web: &WebOptions,
        console: custos_server::Console,
        accounts: custos_auth::Accounts,
        admin_password: Option<String>,
    ) -> Result<&Started> {
        let started = start_server(&self.rt, cfg, web, console, accounts, admin_password).await?;
        #[cfg(feature = "gb28181")]
        if let Some(g) = &self.gb {
            started.state.set_gb(Arc::new(g.console()));
        }
        Ok(self.server.insert(started))
    }

    /// Runs until `stop` completes (its answer is returned: "interrupted", "time is up"…):
    /// records each new GB/T 28181 channel (and gives it live view when serving), and calls
    /// `on_tick` every `every` (first at once) with the runtime, e.g. for a status table or
    /// the systemd watchdog.
    pub async fn run_until<S, T>(
        &mut self,
        stop: S,
        every: Option<Duration>,
        mut on_tick: T,
    ) -> &'static str
    where
        S: Future<Output = &'static str> + Unpin,
        T: FnMut(&Runtime),
    {
        let mut stop = stop;
        let mut tick = every.map(|d| {
            let mut i = tokio::time::interval(d);
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        loop {
            tokio::select! {
                w = &mut stop => return w,
                _ = async {
                    match &mut tick {
                        Some(i) => { i.tick().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => on_tick(&self.rt),
                ch = Gb::next_channel(&mut self.gb) => {
                    if let Some(g) = self.gb.as_mut() {
                        match g.attach(&mut self.rt, ch, self.segment_seconds).await {
                            Ok(()) => {
                                if let Some(s) = &self.server {
                                    sync_live(&s.state, &self.rt);
                                }
                            }
                            Err(e) => eprintln!("warning: cannot record GB channel: {e}"),
                        }
                    }
                }
            }
        }
    }

    /// Stops cleanly: closes the server's connections, ends every GB/T 28181 media session,
    /// stops ingest, lets every recorder seal its open segment, writes the last checkpoint.
    /// Returns how many streams were sealed.
    pub async fn stop(self) -> Result<usize> {
        if let Some(s) = self.server {
            s.server.stop().await;
        }
        if let Some(g) = self.gb {
            g.stop().await;
        }
        let n = self.rt.streams.len();
        self.rt.stop().await?;
        Ok(n)
    }
}

/// Waits for Ctrl-C, SIGTERM or the optional duration; says which.
pub async fn wait_for_stop(dur: Option<Duration>) -> &'static str {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    let timer = async {
        match dur {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupted",
        _ = term.recv() => "terminated",
        _ = timer => "time is up",
    }
}
