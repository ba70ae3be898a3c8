//! Key files round-trip for every key, including those whose base64 contains '+'.

use custos_ledger::{
    generate_signing_key, load_signing_key, load_verifying_key, save_signing_key,
    save_verifying_key,
};

/// E4: a node key and its public key always load back as saved (base64 may contain '+', the
/// field separator of the signed-note key format).
#[test]
fn e4_key_files_round_trip_for_many_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut saw_plus = false;
    for i in 0..64 {
        let k = generate_signing_key().unwrap();
        let (sk, pk) = (
            dir.path().join(format!("{i}.key")),
            dir.path().join(format!("{i}.pub")),
        );
        save_signing_key(&sk, "custos", &k).unwrap();
        save_verifying_key(&pk, "custos", &k.verifying_key()).unwrap();
        saw_plus |= std::fs::read_to_string(&pk).unwrap().matches('+').count() > 2;
        let (name, k2) = load_signing_key(&sk).unwrap();
        assert_eq!(name, "custos");
        assert_eq!(k2.to_bytes(), k.to_bytes());
        assert_eq!(load_verifying_key(&pk).unwrap().1, k.verifying_key());
    }
    assert!(
        saw_plus,
        "64 random keys without a '+' in their base64: the test did not exercise the case"
    );
}
