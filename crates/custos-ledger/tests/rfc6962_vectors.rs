//! E4: the Merkle tree is the RFC 6962 / RFC 9162 tree, so any independent verifier
//! recomputes the same roots and proofs. Known-answer vectors from RFC 6962's reference
//! implementation tests (certificate-transparency-go / transparency-dev `merkle`).

use custos_ledger::merkle::{
    self, MemoryTree, consistency_proof, inclusion_proof, verify_consistency_proof,
    verify_inclusion_proof,
};

fn h(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// `ROOTS[n]` = MTH of the first `n` leaves.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index 0-based, tree size, PATH)
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, PROOF)
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

fn tree() -> MemoryTree {
    let mut t = MemoryTree::new();
    for l in LEAVES {
        t.push(&hex::decode(l).unwrap());
    }
    t
}

#[test]
fn e4_rfc6962_roots_for_every_size() {
    assert_eq!(merkle::empty_root(), h(ROOTS[0]));
    let t = tree();
    for (n, want) in ROOTS.iter().enumerate() {
        assert_eq!(merkle::root(&t, n as u64).unwrap(), h(want), "size {n}");
    }
    // Incrementally too.
    let mut t = MemoryTree::new();
    for (i, l) in LEAVES.iter().enumerate() {
        t.push(&hex::decode(l).unwrap());
        assert_eq!(t.root(), h(ROOTS[i + 1]), "incremental size {}", i + 1);
    }
}

#[test]
fn e4_rfc6962_inclusion_proofs() {
    let t = tree();
    for (idx, size, want) in INCLUSION {
        let p = inclusion_proof(&t, *idx, *size).unwrap();
        let want: Vec<[u8; 32]> = want.iter().map(|s| h(s)).collect();
        assert_eq!(p, want, "PATH({idx}, D[{size}])");
        let leaf = merkle::leaf_hash(&hex::decode(LEAVES[*idx as usize]).unwrap());
        let root = h(ROOTS[*size as usize]);
        assert!(verify_inclusion_proof(&leaf, *idx, *size, &p, &root));
        // Wrong index, wrong size, wrong root, altered proof: all rejected.
        assert!(!verify_inclusion_proof(&leaf, idx + 1, *size, &p, &root) || *size == 1);
        assert!(!verify_inclusion_proof(
            &leaf,
            *idx,
            *size,
            &p,
            &h(ROOTS[0])
        ));
        if let Some(first) = p.first() {
            let mut bad = p.clone();
            bad[0] = merkle::leaf_hash(first);
            assert!(!verify_inclusion_proof(&leaf, *idx, *size, &bad, &root));
        }
    }
}

#[test]
fn e4_rfc6962_consistency_proofs() {
    let t = tree();
    for (old, new, want) in CONSISTENCY {
        let p = consistency_proof(&t, *old, *new).unwrap();
        let want: Vec<[u8; 32]> = want.iter().map(|s| h(s)).collect();
        assert_eq!(p, want, "PROOF({old}, D[{new}])");
        let (ro, rn) = (h(ROOTS[*old as usize]), h(ROOTS[*new as usize]));
        assert!(verify_consistency_proof(*old, *new, &p, &ro, &rn));
        assert!(!verify_consistency_proof(*old, *new, &p, &rn, &ro) || old == new);
        if !p.is_empty() {
            let mut bad = p.clone();
            let last = bad.len() - 1;
            bad[last][0] ^= 1;
            assert!(!verify_consistency_proof(*old, *new, &bad, &ro, &rn));
        }
    }
}
