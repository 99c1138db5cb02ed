//! Designs of the unit cube: where in the uncertainty an exploration runs.
//!
//! - **Sobol (Saltelli scheme).** `n` points of an Owen-scrambled Sobol sequence in `2k`
//!   dimensions (crate `sobol_burley`, Burley 2020) give two independent base matrices A
//!   (the first `k` columns) and B (the last `k`). Each base point `j` contributes `k + 2`
//!   sets: A_j, B_j, and AB_j^i, which is A_j with column `i` taken from B_j (Saltelli et
//!   al. 2010). The sensitivity estimators in [`super::sensitivity`] need exactly these.
//! - **Latin hypercube.** `n` sets; each column is a random permutation of the `n` strata
//!   of [0, 1) with a uniform jitter inside each stratum (McKay, Beckman & Conover 1979).
//!
//! Both are pure functions of (kind, n, k, seed), so a merge rebuilds the design instead of
//! storing it.

use rand::seq::SliceRandom;

use crate::rng::{stream, stream_rng, uniform};

/// The most base points a Sobol design may have (the crate's sequence length, 2^16).
pub const MAX_SOBOL_POINTS: usize = 1 << 16;
/// The most inputs a Sobol design may vary (the crate's 256 dimensions, two per input).
pub const MAX_SOBOL_INPUTS: usize = 128;

/// Which design an exploration draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DesignKind {
    Sobol,
    Lhs,
}

impl DesignKind {
    pub const ALL: &[(&str, DesignKind)] = &[("sobol", DesignKind::Sobol), ("lhs", DesignKind::Lhs)];

    pub fn name(self) -> &'static str {
        match self {
            DesignKind::Sobol => "sobol",
            DesignKind::Lhs => "lhs",
        }
    }
}

/// The role of a set in the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// Base matrix A of base point `j`.
    A,
    /// Base matrix B.
    B,
    /// A with column `i` from B.
    AB(usize),
    /// A row of a Latin hypercube.
    Lhs,
}

impl Block {
    pub fn label(self) -> &'static str {
        match self {
            Block::A => "A",
            Block::B => "B",
            Block::AB(_) => "AB",
            Block::Lhs => "LHS",
        }
    }
}

/// A design: `rows[s]` is set `s`'s point of the unit cube, one coordinate per input.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub kind: DesignKind,
    /// Base points (Sobol) or sets (Latin hypercube).
    pub n: usize,
    /// Inputs.
    pub k: usize,
    pub rows: Vec<Vec<f64>>,
    /// Per set: its base point and its block.
    pub roles: Vec<(usize, Block)>,
}

impl Design {
    pub fn new(kind: DesignKind, n: usize, k: usize, seed: u64) -> Design {
        match kind {
            DesignKind::Sobol => saltelli(n, k, seed),
            DesignKind::Lhs => latin_hypercube(n, k, seed),
        }
    }

    /// Sets per base point: k + 2 for Sobol, 1 for a Latin hypercube.
    pub fn group(&self) -> usize {
        match self.kind {
            DesignKind::Sobol => self.k + 2,
            DesignKind::Lhs => 1,
        }
    }

    /// The sets that are independent draws of the uncertainty (A and B, or every row),
    /// for probabilities over the uncertainty.
    pub fn draws(&self) -> Vec<usize> {
        (self.roles.iter().enumerate())
            .filter(|(_, (_, b))| matches!(b, Block::A | Block::B | Block::Lhs))
            .map(|(s, _)| s)
            .collect()
    }
}

fn saltelli(n: usize, k: usize, seed: u64) -> Design {
    let scramble = (rand::Rng::next_u64(&mut stream_rng(seed, 0, stream::DESIGN)) >> 32) as u32;
    let at = |j: usize, d: usize| f64::from(sobol_burley::sample(j as u32, d as u32, scramble));
    let mut rows = Vec::with_capacity(n * (k + 2));
    let mut roles = Vec::with_capacity(n * (k + 2));
    for j in 0..n {
        let a: Vec<f64> = (0..k).map(|d| at(j, d)).collect();
        let b: Vec<f64> = (0..k).map(|d| at(j, k + d)).collect();
        rows.push(a.clone());
        roles.push((j, Block::A));
        rows.push(b.clone());
        roles.push((j, Block::B));
        for i in 0..k {
            let mut ab = a.clone();
            ab[i] = b[i];
            rows.push(ab);
            roles.push((j, Block::AB(i)));
        }
    }
    Design {
        kind: DesignKind::Sobol,
        n,
        k,
        rows,
        roles,
    }
}

fn latin_hypercube(n: usize, k: usize, seed: u64) -> Design {
    let mut rng = stream_rng(seed, 0, stream::DESIGN);
    let mut rows = vec![vec![0.0; k]; n];
    let mut strata: Vec<usize> = (0..n).collect();
    for d in 0..k {
        strata.shuffle(&mut rng);
        for (row, &s) in rows.iter_mut().zip(&strata) {
            row[d] = (s as f64 + uniform(&mut rng)) / n as f64;
        }
    }
    Design {
        kind: DesignKind::Lhs,
        n,
        k,
        rows,
        roles: (0..n).map(|j| (j, Block::Lhs)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saltelli_blocks_share_columns_as_the_scheme_requires() {
        let d = Design::new(DesignKind::Sobol, 8, 3, 1);
        assert_eq!(d.rows.len(), 8 * 5);
        for j in 0..8 {
            let g = &d.rows[j * 5..(j + 1) * 5];
            let (a, b) = (&g[0], &g[1]);
            for i in 0..3 {
                let ab = &g[2 + i];
                for c in 0..3 {
                    assert_eq!(ab[c], if c == i { b[c] } else { a[c] });
                }
            }
        }
        // The first 8 points of a (scrambled) Sobol sequence put one point in each eighth of
        // every axis.
        for c in 0..3 {
            let mut cells: Vec<usize> = (0..8).map(|j| (d.rows[j * 5][c] * 8.0) as usize).collect();
            cells.sort_unstable();
            assert_eq!(cells, (0..8).collect::<Vec<_>>());
        }
        assert_eq!(d.draws().len(), 16);
        assert_eq!(d, Design::new(DesignKind::Sobol, 8, 3, 1));
        assert_ne!(d, Design::new(DesignKind::Sobol, 8, 3, 2));
    }

    #[test]
    fn latin_hypercube_has_one_point_per_stratum_per_axis() {
        let d = Design::new(DesignKind::Lhs, 10, 4, 7);
        for c in 0..4 {
            let mut cells: Vec<usize> = d.rows.iter().map(|r| (r[c] * 10.0) as usize).collect();
            cells.sort_unstable();
            assert_eq!(cells, (0..10).collect::<Vec<_>>());
        }
        assert_eq!(d.draws().len(), 10);
    }
}
