//! Built without the `gb28181` feature: the `--sip-*` options do not exist and no GB/T 28181
//! platform runs.

use custos_node::gb::GbOptions;

#[derive(clap::Args, Clone, Debug)]
pub struct SipArgs {}

impl SipArgs {
    pub fn options(&self) -> GbOptions {
        GbOptions {}
    }
}
