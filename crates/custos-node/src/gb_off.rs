//! Built without the `gb28181` feature: no GB/T 28181 platform runs; the same calls as the
//! `gb` module do nothing.

use custos_core::Result;

use crate::runtime::Runtime;

/// Nothing to configure.
#[derive(Clone, Debug, Default)]
pub struct GbOptions {}

pub struct Gb;

/// Never made: there is no platform.
pub struct Console;

impl Gb {
    pub async fn start(_o: &GbOptions, _rt: &Runtime) -> Result<Option<Gb>> {
        Ok(None)
    }

    pub fn console(&self) -> Console {
        Console
    }

    pub async fn next_channel(_gb: &mut Option<Gb>) -> String {
        std::future::pending().await
    }

    pub async fn attach(&mut self, _rt: &mut Runtime, _channel: String, _seg: u32) -> Result<()> {
        Ok(())
    }

    pub async fn stop(self) {}
}
