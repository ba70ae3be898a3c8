//! Built without the `gb28181` feature: the `--sip-*` options do not exist and no GB/T 28181
//! platform runs; the same calls as `gb.rs` do nothing.

use anyhow::Result;

use crate::runtime::Runtime;

#[derive(clap::Args, Clone, Debug)]
pub struct SipArgs {}

pub struct Gb;

impl Gb {
    pub async fn start(_a: &SipArgs, _rt: &Runtime) -> Result<Option<Gb>> {
        Ok(None)
    }

    pub async fn next_channel(_gb: &mut Option<Gb>) -> String {
        std::future::pending().await
    }

    pub async fn attach(&mut self, _rt: &mut Runtime, _channel: String, _seg: u32) -> Result<()> {
        Ok(())
    }

    pub async fn stop(self) {}
}
