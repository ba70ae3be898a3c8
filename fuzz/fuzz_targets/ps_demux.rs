#![no_main]

use custos_gb28181::ps::PsDemuxer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Split the input at a data-dependent point: the demuxer must not care where RTP
    // payload boundaries fall.
    let cut = data.first().map(|b| *b as usize % (data.len() + 1)).unwrap_or(0);
    let mut d = PsDemuxer::new();
    d.push(&data[..cut]);
    d.push(&data[cut..]);
    d.flush();
    let mut total = 0;
    while let Some(f) = d.pop() {
        total += f.data.len();
    }
    assert!(total <= data.len());
    let mut j = custos_gb28181::rtp::JitterBuffer::new(4);
    let mut out = Vec::new();
    for c in data.chunks(16) {
        if let Some(p) = custos_gb28181::rtp::parse(c) {
            j.push(p, &mut out);
        }
    }
    j.flush(&mut out);
});
