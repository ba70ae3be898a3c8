#![no_main]

use custos_gb28181::sip::{self, Parsed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for datagram in [true, false] {
        if let Ok(Parsed::Message(m, used)) = sip::parse(data, datagram) {
            assert!(used <= data.len());
            // What we parsed serialises and parses back to the same message.
            let again = m.to_bytes();
            match sip::parse(&again, true) {
                Ok(Parsed::Message(m2, n)) => {
                    assert_eq!(n, again.len());
                    assert_eq!(m.start, m2.start);
                    assert_eq!(m.body, m2.body);
                }
                other => panic!("re-parse failed: {other:?}"),
            }
            let _ = (m.cseq(), m.from_user(), m.expires());
            if let Some(a) = m.header("Authorization") {
                let _ = custos_gb28181::digest::verify(a, "REGISTER", "3402000000", "x", |_| true);
            }
        }
    }
});
