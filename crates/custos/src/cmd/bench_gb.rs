//! `custos bench gb28181`: registrations/s and keepalives/s the GB/T 28181 platform handles on
//! one core, the share of that core 10,000 devices with 60 s keepalives need, and PS demux
//! throughput against a plain copy of the same bytes (ratio on the last line).

use std::time::{Duration, Instant};

use anyhow::Result;
use custos_gb28181::loadgen;
use custos_gb28181::{Platform, PlatformConfig};

#[derive(clap::Args)]
pub struct Args {
    /// Simulated devices.
    #[arg(long, default_value_t = 10_000)]
    pub devices: usize,
    /// Concurrent UDP sockets the devices share.
    #[arg(long, default_value_t = 64)]
    pub sockets: usize,
    /// Keepalive rounds (every device, each round).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Seconds of steady-state keepalives (every device once per 60 s).
    #[arg(long, default_value_t = 10)]
    pub steady_secs: u64,
    /// MB of PS to demux.
    #[arg(long, default_value_t = 256)]
    pub ps_mb: usize,
}

fn cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let t =
        |tv: nix::sys::time::TimeVal| Duration::new(tv.tv_sec() as u64, tv.tv_usec() as u32 * 1000);
    t(u.user_time()) + t(u.system_time())
}

pub async fn run(a: Args) -> Result<()> {
    let id = custos_gb28181::DEFAULT_SIP_ID;
    let mut cfg = PlatformConfig::new(id, "bench-password", "127.0.0.1:0".parse()?)?;
    cfg.query_on_register = false;
    let p = Platform::start(cfg).await?;
    let ids: Vec<String> = (0..a.devices)
        .map(|i| loadgen::device_id(&id[..10], i))
        .collect();
    println!(
        "GB/T 28181 platform on one core (the simulated devices share that core, so the figures are lower bounds)"
    );
    let c0 = cpu();
    // Each simulated device speaks from the socket it registered from.
    let pool = loadgen::Pool::bind(a.sockets).await?;
    let reg = loadgen::register_all(p.local_addr(), id, "bench-password", &ids, &pool).await?;
    let c1 = cpu();
    let st = p.status();
    anyhow::ensure!(
        st.online == a.devices,
        "only {} of {} devices registered",
        st.online,
        a.devices
    );
    println!(
        "registrations: {} (digest, 2 round trips each) in {:.2} s = {:.0}/s, CPU {:.2} s",
        a.devices,
        reg.as_secs_f64(),
        a.devices as f64 / reg.as_secs_f64(),
        (c1 - c0).as_secs_f64()
    );
    let ka = loadgen::keepalive_all(p.local_addr(), id, &ids, &pool, a.rounds).await?;
    let c2 = cpu();
    let n = (a.devices * a.rounds) as f64;
    let ka_cpu = (c2 - c1).as_secs_f64();
    anyhow::ensure!(
        p.status().counters.keepalives as f64 >= n,
        "platform counted fewer keepalives than sent"
    );
    println!(
        "keepalives: {n:.0} in {:.2} s = {:.0}/s, CPU {:.2} s ({:.1} µs each)",
        ka.as_secs_f64(),
        n / ka.as_secs_f64(),
        ka_cpu,
        ka_cpu / n * 1e6
    );
    let need = 10_000.0 / 60.0;
    println!(
        "10,000 devices with 60 s keepalives = {need:.0} keepalives/s -> {:.2} % of one core by the per-keepalive cost (goal < 10 %)",
        need * ka_cpu / n * 100.0
    );
    // Measured steady state: the devices registered above, keepalives at that rate, with the
    // platform's liveness sweep running, for `steady_secs`.
    let (c3, t3) = (cpu(), Instant::now());
    let sent = loadgen::keepalive_paced(
        p.local_addr(),
        id,
        &ids,
        &pool,
        a.devices as f64 / 60.0,
        Duration::from_secs(a.steady_secs),
    )
    .await?;
    let share = (cpu() - c3).as_secs_f64() / t3.elapsed().as_secs_f64();
    println!(
        "steady state, {} devices online, {sent} keepalives in {} s ({:.0}/s): {:.2} % of one core measured (platform + simulated devices; goal < 10 %)",
        p.status().online,
        a.steady_secs,
        sent as f64 / t3.elapsed().as_secs_f64(),
        share * 100.0
    );
    // PS demux vs memcpy of the same bytes in the same RTP-sized pieces.
    let ps = loadgen::synthetic_ps(a.ps_mb << 20);
    let mb = ps.len() as f64 / 1e6;
    let t = Instant::now();
    let mut d = custos_gb28181::ps::PsDemuxer::new();
    let mut frames = 0usize;
    for c in ps.chunks(1400) {
        d.push(c);
        while let Some(f) = d.pop() {
            frames += std::hint::black_box(f.data.len()).min(1);
        }
    }
    d.flush();
    frames += usize::from(d.pop().is_some());
    let demux = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut sink: Vec<u8> = Vec::with_capacity(1 << 20);
    for c in ps.chunks(1400) {
        if sink.len() + c.len() > sink.capacity() {
            std::hint::black_box(&sink);
            sink.clear();
        }
        sink.extend_from_slice(c);
    }
    std::hint::black_box(&sink);
    let copy = t.elapsed().as_secs_f64();
    println!(
        "PS demux: {mb:.0} MB ({frames} frames) in {demux:.3} s = {:.0} MB/s; memcpy of the same chunks: {:.0} MB/s",
        mb / demux,
        mb / copy
    );
    println!("demux/memcpy throughput ratio: {:.3}", copy / demux);
    Ok(())
}
