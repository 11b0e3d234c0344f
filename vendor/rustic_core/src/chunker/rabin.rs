use std::io::Read;

use rand::{RngExt, rng};
use rustic_cdc::{Polynom, Polynom64, Rabin64};

use crate::error::{ErrorKind, RusticError, RusticResult};

pub(super) mod constants {
    /// The size of a kilobyte.
    pub(super) const KB: usize = 1024;
    /// Random polynomial maximum tries.
    pub(super) const RAND_POLY_MAX_TRIES: i32 = 1_000_000;
}

pub(crate) fn check_rabin_params(
    chunk_size: usize,
    chunk_min_size: usize,
    chunk_max_size: usize,
) -> RusticResult<()> {
    if (chunk_size & (chunk_size - 1)) != 0 {
        return Err(RusticError::new(
            ErrorKind::Unsupported,
            "Chunk size must be a power of 2 for the rabin chunker. chunk size = {chunk_size}.",
        )
        .attach_context("chunk_size", chunk_size.to_string()));
    }
    if chunk_min_size > chunk_size {
        return Err(RusticError::new(
            ErrorKind::Unsupported,
            "Chunk min size must be smaller or equal than the chunk size.",
        ));
    }
    if chunk_max_size < chunk_size {
        return Err(RusticError::new(
            ErrorKind::Unsupported,
            "Chunk max size must be larger or equal than the chunk size.",
        ));
    }
    Ok(())
}

/// `ChunkIter` is an iterator that chunks data.
///
/// Patched in kubectl-kubestash (`PATCHED.md`): the boundary search reads ahead in blocks
/// and slides several hashes over a block at once (`search`). The chunk boundaries are
/// restic's; rustic_core 0.13.0's differed from them within 64 bytes past the minimum size.
pub(crate) struct ChunkIter<R: Read + Send> {
    /// Bytes read past the last chunk's end: the start of the next chunk.
    leftover: Vec<u8>,

    /// The reader.
    reader: R,

    /// The split mask used to determine if a chunk is a chunk boundary.
    split_mask: u64,

    /// The rolling hash's tables, for the search (patched in kubectl-kubestash: the
    /// `Rabin64` itself is no longer kept).
    tables: search::Tables,

    /// The size hint is used to optimize memory allocation; this should be an upper bound on the size.
    size_hint: usize,

    /// The minimum size of a chunk.
    min_size: usize,

    /// The maximum size of a chunk.
    max_size: usize,

    /// If the iterator is finished.
    finished: bool,

    /// If the reader has ended (returned `Ok(0)`): it is not read again.
    eof: bool,
}

impl<R: Read + Send> ChunkIter<R> {
    /// Creates a new `ChunkIter`.
    ///
    /// # Arguments
    ///
    /// * `reader` - The reader to read from.
    /// * `size_hint` - The size hint is used to optimize memory allocation; this should be an upper bound on the size.
    /// * `rabin` - The rolling hash.
    pub(crate) fn new(
        rabin: Rabin64,
        chunk_size: usize,
        chunk_min_size: usize,
        chunk_max_size: usize,
        reader: R,
        size_hint: usize,
    ) -> RusticResult<Self> {
        check_rabin_params(chunk_size, chunk_min_size, chunk_max_size)?;
        let chunk_size: u64 = chunk_size.try_into().unwrap();
        let split_mask: u64 = chunk_size - 1;
        let (out, modulo, shift) = rabin.tables();
        let tables = search::Tables {
            out: *out,
            modulo: *modulo,
            shift: shift as u32,
        };
        Ok(Self {
            leftover: Vec::new(),
            reader,
            split_mask,
            tables,
            size_hint, // size hint is used to optimize memory allocation; this should be an upper bound on the size
            min_size: chunk_min_size,
            max_size: chunk_max_size,
            finished: false,
            eof: false,
        })
    }

    /// Reads until `vec` holds `upto` bytes or the reader ends. Once it has ended, it is not
    /// read again, as in rustic_core 0.13.0 (a file appended to meanwhile ends there).
    fn fill(&mut self, vec: &mut Vec<u8>, upto: usize) -> RusticResult<()> {
        let wanted = upto.saturating_sub(vec.len());
        if wanted == 0 || self.eof {
            return Ok(());
        }
        let read = (&mut self.reader)
            .take(wanted as u64)
            .read_to_end(vec)
            .map_err(|err| {
                RusticError::with_source(
                    ErrorKind::InputOutput,
                    "Failed to read from reader in iterator",
                    err,
                )
            })?;
        self.eof = read < wanted;
        Ok(())
    }

    /// `vec` as the next chunk. Its buffer grew by doubling, or was sized by a size hint that
    /// can be too large: hand on no more than the chunk needs (glibc shrinks in place), since
    /// many chunks wait in the backup pipeline at once.
    fn hand_on(&mut self, mut vec: Vec<u8>) -> Vec<u8> {
        if vec.capacity() - vec.len() > vec.len() / 8 {
            vec.shrink_to_fit();
        }
        self.size_hint = self.size_hint.saturating_sub(vec.len()); // size_hint can be too small!
        vec
    }

    /// The next chunk: up to the first length from `min_size` on whose last 64 bytes hash to
    /// a boundary, at most `max_size` bytes, or the rest of the input.
    fn next_chunk(&mut self) -> RusticResult<Option<Vec<u8>>> {
        let mut vec = std::mem::take(&mut self.leftover);
        if vec.capacity() == 0 {
            vec.reserve(self.size_hint.min(self.min_size));
        }
        self.fill(&mut vec, self.min_size)?;
        if vec.len() < self.min_size {
            self.finished = true;
            return Ok((!vec.is_empty()).then(|| self.hand_on(vec)));
        }
        if self.min_size < search::WINDOW {
            // rustic_core 0.13.0 panicked here.
            self.finished = true;
            return Err(RusticError::new(
                ErrorKind::Unsupported,
                "Chunk min size must be at least the rolling hash's window (64 bytes).",
            ));
        }

        // As restic does: the hash at every candidate end is that of the 64 bytes before it.
        // rustic_core 0.13.0 started from the 63 bytes before the minimum size's last byte,
        // which never entered the hash, so its ends within 64 bytes of the minimum size were
        // not restic's.
        let mut hash = search::fingerprint(
            &self.tables,
            &vec[self.min_size - search::WINDOW..self.min_size],
        );
        let mut end = self.min_size;
        let cut = loop {
            if end >= self.max_size || hash & self.split_mask == 0 {
                break end;
            }
            if end == vec.len() {
                let upto = (end + search::READ_AHEAD).min(self.max_size);
                if !self.eof {
                    vec.reserve(upto - end);
                }
                self.fill(&mut vec, upto)?;
                if end == vec.len() {
                    self.finished = true;
                    break end;
                }
            }
            let to = vec.len().min(self.max_size);
            match search::first_boundary(&self.tables, &vec, end, to, hash, self.split_mask) {
                Ok(boundary) => break boundary,
                Err(at_end) => {
                    hash = at_end;
                    end = to;
                }
            }
        };
        if cut < vec.len() {
            let mut next = Vec::with_capacity(self.min_size.max(vec.len() - cut));
            next.extend_from_slice(&vec[cut..]);
            vec.truncate(cut);
            self.leftover = next;
        }
        Ok(Some(self.hand_on(vec)))
    }
}

impl<R: Read + Send> Iterator for ChunkIter<R> {
    type Item = RusticResult<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        self.next_chunk().transpose()
    }
}

/// The boundary search over bytes already read (patched in kubectl-kubestash).
///
/// The Rabin fingerprint of a 64-byte window depends on those bytes only, so the hash at any
/// position can be started afresh from the 64 bytes before it. A block is split into
/// `LANES` stretches whose hashes slide in the same loop: each hash waits on a table look-up
/// of its previous value, and independent hashes fill those waits. The first boundary in
/// the first stretch that has one is the chunk's end; the rest of the block's hashing is
/// then wasted, which a block of 128 KiB keeps small next to the 512 KiB every chunk skips.
mod search {
    /// The rolling hash's window, in bytes (rustic_core's `Rabin64::new_with_polynom(6, …)`).
    pub(super) const WINDOW: usize = 64;
    /// Bytes read ahead of the search at a time.
    pub(super) const READ_AHEAD: usize = 128 * super::constants::KB;
    /// Hashes slid at once.
    const LANES: usize = 4;
    /// Below this many bytes a lane's start-up (64 slides) is not worth it.
    const MIN_LANE: usize = 4096;

    /// `Rabin64`'s tables.
    pub(super) struct Tables {
        pub(super) out: [u64; 256],
        pub(super) modulo: [u64; 256],
        pub(super) shift: u32,
    }

    /// `Rabin64::slide` on a hash whose window's oldest byte is `out`.
    #[inline(always)]
    fn slide(tables: &Tables, hash: u64, out: u8, byte: u8) -> u64 {
        let hash = hash ^ tables.out[usize::from(out)];
        let index = ((hash >> tables.shift) & 255) as usize;
        ((hash << 8) | u64::from(byte)) ^ tables.modulo[index]
    }

    /// The hash of a window holding `bytes` (64 of them).
    pub(super) fn fingerprint(tables: &Tables, bytes: &[u8]) -> u64 {
        bytes
            .iter()
            .fold(0, |hash, &byte| slide(tables, hash, 0, byte))
    }

    /// The first chunk end in `from + 1..=to`: a length whose last 64 bytes of `data` hash
    /// to zero under `mask`. `hash` is the hash at `from`, of `data[from - 64..from]`.
    /// Without one, the hash at `to`.
    pub(super) fn first_boundary(
        tables: &Tables,
        data: &[u8],
        from: usize,
        to: usize,
        hash: u64,
        mask: u64,
    ) -> Result<usize, u64> {
        let lane = (to - from) / LANES;
        if lane < MIN_LANE {
            return sequential(tables, data, from, to, hash, mask);
        }
        let starts: [usize; LANES] = std::array::from_fn(|index| from + index * lane);
        let mut hashes: [u64; LANES] = std::array::from_fn(|index| match index {
            0 => hash,
            _ => fingerprint(tables, &data[starts[index] - WINDOW..starts[index]]),
        });
        let ins: [&[u8]; LANES] = std::array::from_fn(|index| &data[starts[index]..][..lane]);
        let outs: [&[u8]; LANES] =
            std::array::from_fn(|index| &data[starts[index] - WINDOW..][..lane]);
        let mut found = [usize::MAX; LANES];
        for offset in 0..lane {
            for index in 0..LANES {
                hashes[index] = slide(
                    tables,
                    hashes[index],
                    outs[index][offset],
                    ins[index][offset],
                );
                if hashes[index] & mask == 0 && found[index] == usize::MAX {
                    found[index] = starts[index] + offset + 1;
                }
            }
            if found[0] != usize::MAX {
                return Ok(found[0]);
            }
        }
        if let Some(&end) = found.iter().find(|&&end| end != usize::MAX) {
            return Ok(end);
        }
        sequential(
            tables,
            data,
            from + LANES * lane,
            to,
            hashes[LANES - 1],
            mask,
        )
    }

    /// `first_boundary` one byte at a time.
    fn sequential(
        tables: &Tables,
        data: &[u8],
        from: usize,
        to: usize,
        mut hash: u64,
        mask: u64,
    ) -> Result<usize, u64> {
        for end in from..to {
            hash = slide(tables, hash, data[end - WINDOW], data[end]);
            if hash & mask == 0 {
                return Ok(end + 1);
            }
        }
        Err(hash)
    }
}

/// [`random_poly`] returns an random irreducible polynomial of degree 53
/// (largest prime number below 64-8)
/// There are (2^53-2/53) irreducible polynomials of degree 53 in
/// `F_2[X]`, c.f. Michael O. Rabin (1981): "Fingerprinting by Random
/// Polynomials", page 4.
///
/// # Errors
///
/// * If no polynomial could be found in one million tries.
pub fn random_poly() -> RusticResult<u64> {
    for _ in 0..constants::RAND_POLY_MAX_TRIES {
        let mut poly: u64 = rng().random();

        // mask away bits above bit 53
        poly &= (1 << 54) - 1;

        // set highest and lowest bit so that the degree is 53 and the
        // polynomial is not trivially reducible
        poly |= (1 << 53) | 1;

        if poly.irreducible() {
            return Ok(poly);
        }
    }

    Err(RusticError::new(
        ErrorKind::Internal,
        "No suitable polynomial found, this should essentially never happen. Please try again.",
    )
    .ask_report())
}

/// A trait for extending polynomials.
pub(crate) trait PolynomExtend {
    /// Returns true IFF x is irreducible over `F_2`.
    fn irreducible(&self) -> bool;

    /// Returns the degree of the polynomial.
    fn gcd(self, other: Self) -> Self;

    /// Adds two polynomials.
    fn add(self, other: Self) -> Self;

    /// Multiplies two polynomials modulo another polynomial.
    fn mulmod(self, other: Self, modulo: Self) -> Self;
}

// implementation goes along the lines of
// https://github.com/restic/chunker/blob/master/polynomials.go
impl PolynomExtend for Polynom64 {
    // Irreducible returns true IFF x is irreducible over F_2. This function
    // uses Ben Or's reducibility test.
    //
    // For details see "Tests and Constructions of Irreducible Polynomials over
    // Finite Fields".
    fn irreducible(&self) -> bool {
        for i in 1..=self.degree() / 2 {
            if self.gcd(qp(i, *self)) != 1 {
                return false;
            }
        }
        true
    }

    fn gcd(self, other: Self) -> Self {
        if other == 0 {
            return self;
        }

        if self == 0 {
            return other;
        }

        if self.degree() < other.degree() {
            self.gcd(other.modulo(&self))
        } else {
            other.gcd(self.modulo(&other))
        }
    }

    fn add(self, other: Self) -> Self {
        self ^ other
    }

    fn mulmod(self, other: Self, modulo: Self) -> Self {
        if self == 0 || other == 0 {
            return 0;
        }

        let mut res: Self = 0;
        let mut a = self;
        let mut b = other;

        if b & 1 > 0 {
            res = res.add(a).modulo(&modulo);
        }

        while b != 0 {
            a = (a << 1).modulo(&modulo);
            b >>= 1;
            if b & 1 > 0 {
                res = res.add(a).modulo(&modulo);
            }
        }

        res
    }
}

// qp computes the polynomial (x^(2^p)-x) mod g. This is needed for the
// reducibility test.
fn qp(p: i32, g: Polynom64) -> Polynom64 {
    // start with x
    let mut res: Polynom64 = 2;

    for _ in 0..p {
        // repeatedly square res
        res = res.mulmod(res, g);
    }

    // add x
    res.add(2).modulo(&g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::hasher::hash;
    use insta::assert_ron_snapshot;
    use rand::prelude::*;
    use std::io::{Cursor, repeat};

    /// The Splitmask is used to determine if a chunk is a chunk boundary.
    const SIZE: usize = 1 << 20;
    /// The size of a megabyte.
    const MB: usize = 1024 * constants::KB;
    /// The minimum size of a chunk.
    const MIN_SIZE: usize = 512 * constants::KB;
    /// The maximum size of a chunk.
    const MAX_SIZE: usize = 8 * MB;

    fn chunker<R: Read + Send>(reader: R, size_hint: usize) -> ChunkIter<R> {
        let poly = 0x003D_A335_8B4D_C173;
        let rabin = Rabin64::new_with_polynom(6, &poly);
        ChunkIter::new(rabin, SIZE, MIN_SIZE, MAX_SIZE, reader, size_hint).unwrap()
    }

    #[test]
    fn chunk_random() {
        const RANDOM_DATA_SIZE: usize = 32 * 1024 * 1024;
        const SEED: u64 = 23;
        let mut rng = StdRng::seed_from_u64(SEED);
        let mut data = vec![0u8; RANDOM_DATA_SIZE];
        rng.fill_bytes(&mut data);
        let mut reader = Cursor::new(data);
        let chunker = chunker(&mut reader, 0);
        let chunks: Vec<_> = chunker
            .map(|chunk| {
                let chunk = chunk.unwrap();
                (chunk.len(), hash(&chunk))
            })
            .collect();

        assert_ron_snapshot!(chunks);
    }

    #[test]
    fn chunk_empty() {
        let empty: Vec<u8> = vec![];
        let mut reader = Cursor::new(empty);
        let chunker = chunker(&mut reader, 0);

        assert_eq!(0, chunker.into_iter().count());
    }

    #[test]
    fn chunk_empty_wrong_hint() {
        let empty: Vec<u8> = vec![];
        let mut reader = Cursor::new(empty);
        let chunker = chunker(&mut reader, 100);

        assert_eq!(0, chunker.into_iter().count());
    }

    #[test]
    fn chunk_zeros() {
        let mut reader = repeat(0u8);
        let mut chunker = chunker(&mut reader, usize::MAX);

        let chunk = chunker.next().unwrap().unwrap();
        assert_eq!(MIN_SIZE, chunk.len());
    }
}
