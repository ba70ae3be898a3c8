#![no_main]

use custos_gb28181::manscdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = manscdp::parse(data) {
        assert!(!m.cmd_type.is_empty());
        for it in &m.items {
            let _ = manscdp::CatalogItem::from_fields(it);
        }
    }
    let _ = custos_gb28181::sdp::parse(&String::from_utf8_lossy(data));
});
