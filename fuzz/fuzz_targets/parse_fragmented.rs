#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let slice = custos_mp4::parse_fragmented(data);
    let reader = custos_mp4::parse_fragmented_reader(&mut std::io::Cursor::new(data));
    // Both entry points must agree on every input.
    match (&slice, &reader) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            assert!(a.valid_len <= data.len() as u64);
            for f in &a.fragments {
                for s in &f.samples {
                    assert!(s.file_offset >= f.offset);
                    assert!(s.file_offset + u64::from(s.size) <= f.offset + f.len);
                }
            }
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("parsers disagree: {slice:?} vs {reader:?}"),
    }
});
