//! RFC 9162 §2.1 Merkle tree math. Pure: no I/O, no clock.
//!
//! * leaf hash `SHA-256(0x00 ‖ data)`, node hash `SHA-256(0x01 ‖ left ‖ right)`;
//! * `MTH` of any size (the empty tree hashes to `SHA-256("")`);
//! * inclusion proofs (`PATH`, §2.1.3.1) and consistency proofs (`PROOF`, §2.1.4.1),
//!   generated over a [`HashSource`] so that storage can back them without memory;
//! * verification per §2.1.3.2 and §2.1.4.2.
//!
//! Stored-hash layout: a tree of `n` leaves is stored as the hashes of all its *complete,
//! aligned* subtrees (the node at `level` `l`, index `k` covers leaves `[k·2^l, (k+1)·2^l)`)
//! in the order they become complete while appending, i.e. the layout of Go's
//! `golang.org/x/mod/sumdb/tlog` ([`stored_hash_index`], [`stored_hash_count`]). Every
//! subtree a proof needs is one stored hash or the fold of at most `log2 n` of them.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// `MTH({})`: the hash of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Source of the hashes of complete, aligned subtrees: `node(level, index)` is the
/// hash of leaves `[index·2^level, (index+1)·2^level)`; level 0 is the leaf hash.
pub trait HashSource {
    /// Hash of the complete subtree at `level`, `index`.
    fn node(&self, level: u32, index: u64) -> Result<Hash>;
}

impl<F: Fn(u32, u64) -> Result<Hash>> HashSource for F {
    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        self(level, index)
    }
}

/// Position of node (`level`, `index`) in the stored-hash sequence (sumdb/tlog order).
pub fn stored_hash_index(level: u32, index: u64) -> u64 {
    let mut n = index;
    for _ in 0..level {
        n = 2 * n + 1;
    }
    let mut i = 0u64;
    while n > 0 {
        i += n;
        n >>= 1;
    }
    i + u64::from(level)
}

/// Number of stored hashes of a tree of `n` leaves.
pub fn stored_hash_count(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut count = stored_hash_index(0, n - 1) + 1;
    let mut i = n - 1;
    while i & 1 == 1 {
        count += 1;
        i >>= 1;
    }
    count
}

/// Largest power of two strictly smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` from a hash source. Ranges used by proofs are always aligned, so this
/// reads at most `2·log2(hi-lo)` stored hashes.
pub fn subtree_hash(src: &impl HashSource, lo: u64, hi: u64) -> Result<Hash> {
    let n = hi - lo;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return src.node(n.trailing_zeros(), lo / n);
    }
    let k = if n.is_power_of_two() { n / 2 } else { split(n) };
    let l = subtree_hash(src, lo, lo + k)?;
    let r = subtree_hash(src, lo + k, hi)?;
    Ok(node_hash(&l, &r))
}

/// `MTH` of the first `size` leaves.
pub fn root(src: &impl HashSource, size: u64) -> Result<Hash> {
    subtree_hash(src, 0, size)
}

/// RFC 9162 §2.1.3.1 `PATH(index, D[0:size])`.
pub fn inclusion_proof(src: &impl HashSource, index: u64, size: u64) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(Error::InvalidArgument(format!(
            "inclusion proof: leaf index {index} not in a tree of size {size}"
        )));
    }
    let mut out = Vec::new();
    path(src, index, 0, size, &mut out)?;
    Ok(out)
}

fn path(src: &impl HashSource, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) -> Result<()> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(src, m, lo, lo + k, out)?;
        out.push(subtree_hash(src, lo + k, hi)?);
    } else {
        path(src, m - k, lo + k, hi, out)?;
        out.push(subtree_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.1 `PROOF(old, D[0:new])`; empty when `old == new` or `old == 0`.
pub fn consistency_proof(src: &impl HashSource, old: u64, new: u64) -> Result<Vec<Hash>> {
    if old > new {
        return Err(Error::InvalidArgument(format!(
            "consistency proof: old size {old} > new size {new}"
        )));
    }
    let mut out = Vec::new();
    if old == 0 || old == new {
        return Ok(out);
    }
    subproof(src, old, 0, new, true, &mut out)?;
    Ok(out)
}

fn subproof(
    src: &impl HashSource,
    m: u64,
    lo: u64,
    hi: u64,
    b: bool,
    out: &mut Vec<Hash>,
) -> Result<()> {
    let n = hi - lo;
    if m == n {
        if !b {
            out.push(subtree_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(src, m, lo, lo + k, b, out)?;
        out.push(subtree_hash(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(subtree_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2: does `proof` show leaf hash `leaf` at `index` in a tree of
/// `size` leaves with root `root`?
pub fn verify_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnum, mut snum) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snum == 0 {
            return false;
        }
        if fnum & 1 == 1 || fnum == snum {
            r = node_hash(p, &r);
            if fnum & 1 == 0 {
                while fnum & 1 == 0 && fnum != 0 {
                    fnum >>= 1;
                    snum >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnum >>= 1;
        snum >>= 1;
    }
    snum == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: does `proof` show that the tree (`old`, `old_root`) is a prefix of
/// (`new`, `new_root`)?
pub fn verify_consistency_proof(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        // Every tree extends the empty tree; RFC 9162 sends an empty proof.
        return proof.is_empty() && *old_root == empty_root();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut fnum, mut snum) = (old - 1, new - 1);
    while fnum & 1 == 1 {
        fnum >>= 1;
        snum >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if snum == 0 {
            return false;
        }
        if fnum & 1 == 1 || fnum == snum {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnum & 1 == 0 {
                while fnum & 1 == 0 && fnum != 0 {
                    fnum >>= 1;
                    snum >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnum >>= 1;
        snum >>= 1;
    }
    fr == *old_root && sr == *new_root && snum == 0
}

/// The right frontier ("compact range") of a growing tree: the hashes of the complete
/// subtrees of the binary decomposition of its size. Appending a leaf yields exactly the
/// stored hashes that become complete, in stored-hash order.
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    size: u64,
    /// (level, hash), largest subtree first.
    stack: Vec<(u32, Hash)>,
}

impl Frontier {
    /// Empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rebuild the frontier of a tree of `size` leaves from a hash source.
    pub fn from_source(src: &impl HashSource, size: u64) -> Result<Self> {
        let mut stack = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            let w = 1u64 << level;
            if size & w != 0 {
                stack.push((level, src.node(level, start / w)?));
                start += w;
            }
        }
        Ok(Self { size, stack })
    }

    /// Leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append a leaf hash; pushes to `out` the stored hashes this completes (the leaf
    /// first, then each parent up the tree).
    pub fn push(&mut self, leaf: Hash, out: &mut Vec<Hash>) {
        out.push(leaf);
        self.stack.push((0, leaf));
        while self.stack.len() >= 2 {
            let (lr, r) = self.stack[self.stack.len() - 1];
            let (ll, l) = self.stack[self.stack.len() - 2];
            if ll != lr {
                break;
            }
            self.stack.truncate(self.stack.len() - 2);
            let h = node_hash(&l, &r);
            out.push(h);
            self.stack.push((ll + 1, h));
        }
        self.size += 1;
    }

    /// `MTH` of the current tree.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        match it.next() {
            None => empty_root(),
            Some((_, last)) => it.fold(*last, |acc, (_, h)| node_hash(h, &acc)),
        }
    }
}

/// An in-memory tree of stored hashes, for tests and small trees.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    stored: Vec<Hash>,
    frontier: Frontier,
}

impl MemoryTree {
    /// Empty tree.
    pub fn new() -> Self {
        Self::default()
    }
    /// Append leaf data (hashed with [`leaf_hash`]).
    pub fn push(&mut self, data: &[u8]) {
        self.push_hash(leaf_hash(data));
    }
    /// Append an already computed leaf hash.
    pub fn push_hash(&mut self, leaf: Hash) {
        self.frontier.push(leaf, &mut self.stored);
    }
    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.frontier.size()
    }
    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }
    /// All stored hashes, in stored-hash order.
    pub fn stored(&self) -> &[Hash] {
        &self.stored
    }
}

impl HashSource for MemoryTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        let i = stored_hash_index(level, index);
        self.stored
            .get(i as usize)
            .copied()
            .ok_or_else(|| Error::InvalidArgument(format!("no stored hash ({level}, {index})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_mth(leaves: &[Vec<u8>]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = split(n as u64) as usize;
                node_hash(&reference_mth(&leaves[..k]), &reference_mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn stored_index_matches_sumdb() {
        // Values from golang.org/x/mod/sumdb/tlog tests.
        assert_eq!(stored_hash_index(0, 0), 0);
        assert_eq!(stored_hash_index(0, 1), 1);
        assert_eq!(stored_hash_index(1, 0), 2);
        assert_eq!(stored_hash_index(0, 2), 3);
        assert_eq!(stored_hash_index(0, 3), 4);
        assert_eq!(stored_hash_index(1, 1), 5);
        assert_eq!(stored_hash_index(2, 0), 6);
        assert_eq!(stored_hash_count(0), 0);
        assert_eq!(stored_hash_count(1), 1);
        assert_eq!(stored_hash_count(2), 3);
        assert_eq!(stored_hash_count(3), 4);
        assert_eq!(stored_hash_count(4), 7);
    }

    #[test]
    fn frontier_matches_reference_and_layout() {
        let mut t = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..70u32 {
            let d = i.to_be_bytes().to_vec();
            t.push(&d);
            leaves.push(d);
            assert_eq!(t.root(), reference_mth(&leaves));
            assert_eq!(t.stored().len() as u64, stored_hash_count(t.len()));
            assert_eq!(root(&t, t.len()).unwrap(), t.root());
            let f = Frontier::from_source(&t, t.len()).unwrap();
            assert_eq!(f.root(), t.root());
        }
    }
}
