//! ForceAtlas2 on one level of the hierarchy (Jacomy et al., 2014): degree-weighted
//! repulsion approximated with Barnes-Hut, linear attraction along edges, gravity towards
//! the centre, and the adaptive global speed with per-node swinging control.
//!
//! Determinism with any number of threads: every node's force is computed by one thread,
//! sequentially, from a tree built sequentially; per-node terms are summed in index order.
//! So the same seed gives the same bytes with 1 or N threads.

use rayon::prelude::*;

use super::quadtree::QuadTree;

/// A graph level: adjacency in CSR form with edge weights, masses and radii.
pub(crate) struct Level {
    pub offsets: Vec<u32>,
    pub adj: Vec<(u32, f32)>,
    pub mass: Vec<f64>,
    pub radius: Vec<f64>,
}

impl Level {
    pub fn len(&self) -> usize {
        self.mass.len()
    }

    pub fn neighbours(&self, i: usize) -> &[(u32, f32)] {
        &self.adj[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Builds a level from undirected weighted edges (duplicates merged, loops dropped).
    pub fn from_edges(n: usize, edges: &[(u32, u32, f32)], radius: Vec<f64>) -> Level {
        let mut deg = vec![0u32; n + 1];
        for &(a, b, _) in edges {
            if a != b {
                deg[a as usize] += 1;
                deg[b as usize] += 1;
            }
        }
        let mut offsets = vec![0u32; n + 1];
        for i in 0..n {
            offsets[i + 1] = offsets[i] + deg[i];
        }
        let mut fill = offsets.clone();
        let mut adj = vec![(0u32, 0f32); offsets[n] as usize];
        for &(a, b, w) in edges {
            if a == b {
                continue;
            }
            adj[fill[a as usize] as usize] = (b, w);
            fill[a as usize] += 1;
            adj[fill[b as usize] as usize] = (a, w);
            fill[b as usize] += 1;
        }
        // Sort and merge parallel edges so the level is canonical.
        let mut merged_offsets = vec![0u32; n + 1];
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(adj.len());
        for i in 0..n {
            let s = &mut adj[offsets[i] as usize..offsets[i + 1] as usize];
            s.sort_by_key(|e| e.0);
            for &(j, w) in s.iter() {
                let has_own = merged.len() > merged_offsets[i] as usize;
                match merged.last_mut() {
                    Some(last) if has_own && last.0 == j => last.1 += w,
                    _ => merged.push((j, w)),
                }
            }
            merged_offsets[i + 1] = merged.len() as u32;
        }
        let mass = (0..n)
            .map(|i| 1.0 + f64::from(merged_offsets[i + 1] - merged_offsets[i]))
            .collect();
        Level {
            offsets: merged_offsets,
            adj: merged,
            mass,
            radius,
        }
    }
}

/// ForceAtlas2 settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    pub scaling: f64,
    pub gravity: f64,
    pub theta: f64,
    pub prevent_overlap: bool,
    /// Iterations before convergence is checked (the adaptive speed starts slow).
    pub min_iter: usize,
    pub max_iter: usize,
    /// Ends the run early when it answers `true` (see `LayoutOptions::stop`).
    pub stop: Option<fn() -> bool>,
}

/// Runs ForceAtlas2 on `pos` until it converges or `max_iter`; returns the iterations run.
pub(crate) fn run(level: &Level, pos: &mut [[f64; 2]], p: Params) -> usize {
    let n = level.len();
    if n < 2 {
        return 0;
    }
    let mut old = vec![[0.0f64; 2]; n];
    let mut speed = 1.0f64;
    let mut efficiency = 1.0f64;
    let mut calm = 0;
    let theta2 = p.theta * p.theta;
    for it in 0..p.max_iter {
        if p.stop.is_some_and(|stop| stop()) {
            return it;
        }
        let tree = QuadTree::build(pos, &level.mass);
        // In the tree's order (see `QuadTree::order`), then back to node order.
        let in_order: Vec<[f64; 2]> = tree
            .order()
            .par_iter()
            .map(|&i| force(level, pos, &tree, i as usize, p, theta2))
            .collect();
        let mut forces = vec![[0.0f64; 2]; n];
        for (&i, f) in tree.order().iter().zip(in_order) {
            forces[i as usize] = f;
        }
        // Swinging and traction per node, and their totals.
        let mut swing = vec![0.0f64; n];
        let (swing_total, traction_total) =
            in_chunks(swing.par_chunks_mut(CHUNK).enumerate().map(|(c, sw)| {
                let (mut st, mut tt) = (0.0, 0.0);
                for (k, s) in sw.iter_mut().enumerate() {
                    let i = c * CHUNK + k;
                    let (f, o, m) = (forces[i], old[i], level.mass[i]);
                    *s = m * (norm(f[0] - o[0], f[1] - o[1]));
                    st += *s;
                    tt += m * (norm(f[0] + o[0], f[1] + o[1])) / 2.0;
                }
                (st, tt)
            }));
        adapt_speed(n, swing_total, traction_total, &mut speed, &mut efficiency);
        // No node may jump further than a tenth of the layout's spread in one step: near-
        // coincident pairs (after prolongation) would otherwise fling nodes far away.
        let squares: f64 = pos.iter().map(|q| q[0] * q[0] + q[1] * q[1]).sum();
        let spread = (squares / n as f64).sqrt();
        let max_step = 0.1 * spread + 10.0;
        let parts: Vec<(f64, f64)> = pos
            .par_chunks_mut(CHUNK)
            .zip(old.par_chunks_mut(CHUNK))
            .enumerate()
            .map(|(c, (ps, olds))| {
                let (mut moved, mut extent) = (0.0, 0.0f64);
                for (k, (q, o)) in ps.iter_mut().zip(olds.iter_mut()).enumerate() {
                    let i = c * CHUNK + k;
                    let f = forces[i];
                    let mut factor = speed / (1.0 + (speed * swing[i]).sqrt());
                    if p.prevent_overlap {
                        factor *= 0.1;
                        let len = norm(f[0], f[1]) * factor;
                        if len > 10.0 {
                            factor *= 10.0 / len;
                        }
                    }
                    // Guard against numeric blow-ups on degenerate inputs.
                    if !factor.is_finite() {
                        factor = 0.0;
                    }
                    let step = norm(f[0], f[1]) * factor;
                    if step > max_step {
                        factor *= max_step / step;
                    }
                    let (dx, dy) = (f[0] * factor, f[1] * factor);
                    q[0] += dx;
                    q[1] += dy;
                    moved += norm(dx, dy);
                    extent = extent.max(q[0].abs()).max(q[1].abs());
                    *o = f;
                }
                (moved, extent)
            })
            .collect();
        let moved: f64 = parts.iter().map(|x| x.0).sum();
        let extent = parts.iter().map(|x| x.1).fold(0.0f64, f64::max);
        // Converged when nodes move less than 0.1% of the layout's extent on average.
        let mean = moved / n as f64;
        if it + 1 >= p.min_iter && mean < 1e-3 * extent.max(1.0) {
            calm += 1;
            if calm >= 5 {
                return it + 1;
            }
        } else {
            calm = 0;
        }
    }
    p.max_iter
}

/// Nodes per chunk of the per-node passes. Fixed, not per thread: sums are taken per chunk
/// and the chunks' sums added in order, so the totals (and the layout) are the same bits
/// with any number of threads.
const CHUNK: usize = 8192;

/// Adds up per-chunk pairs of sums in chunk order.
fn in_chunks(parts: impl IndexedParallelIterator<Item = (f64, f64)>) -> (f64, f64) {
    let parts: Vec<(f64, f64)> = parts.collect();
    parts
        .iter()
        .fold((0.0, 0.0), |acc, x| (acc.0 + x.0, acc.1 + x.1))
}

/// The length of (x, y). `f64::hypot` guards against overflow and underflow, which layout
/// coordinates never come near, at several times the cost: it was 7% of a 1 M-edge layout.
#[inline]
pub(crate) fn norm(x: f64, y: f64) -> f64 {
    (x * x + y * y).sqrt()
}

fn force(
    level: &Level,
    pos: &[[f64; 2]],
    tree: &QuadTree,
    i: usize,
    p: Params,
    theta2: f64,
) -> [f64; 2] {
    let pi = pos[i];
    let m = level.mass[i];
    let r = level.radius[i];
    let mut f = tree.repulsion(
        i as u32,
        pi,
        m,
        r,
        &level.radius,
        p.scaling,
        theta2,
        p.prevent_overlap,
    );
    for &(j, w) in level.neighbours(i) {
        let pj = pos[j as usize];
        let dx = pj[0] - pi[0];
        let dy = pj[1] - pi[1];
        let w = f64::from(w);
        if p.prevent_overlap {
            let d = norm(dx, dy);
            let gap = d - r - level.radius[j as usize];
            if gap > 0.0 && d > 0.0 {
                f[0] += w * dx * gap / d;
                f[1] += w * dy * gap / d;
            }
        } else {
            f[0] += w * dx;
            f[1] += w * dy;
        }
    }
    let d = norm(pi[0], pi[1]);
    if d > 0.0 {
        f[0] -= p.gravity * m * pi[0] / d;
        f[1] -= p.gravity * m * pi[1] / d;
    }
    f
}

/// ForceAtlas2's adaptive global speed: fast while nodes move coherently, slower when they
/// oscillate (swinging large against traction).
fn adapt_speed(n: usize, swing: f64, traction: f64, speed: &mut f64, efficiency: &mut f64) {
    if swing <= 0.0 || traction <= 0.0 {
        return;
    }
    let nf = n as f64;
    let estimated = 0.05 * nf.sqrt();
    let min_jt = estimated.sqrt();
    let jt = min_jt.max(10f64.min(estimated * traction / (nf * nf)));
    let min_efficiency = 0.05;
    if swing / traction > 2.0 && *efficiency > min_efficiency {
        *efficiency *= 0.5;
    }
    let target = jt * *efficiency * traction / swing;
    if swing > jt * traction {
        if *efficiency > min_efficiency {
            *efficiency *= 0.7;
        }
    } else if *speed < 1000.0 {
        *efficiency *= 1.3;
    }
    let max_rise = 0.5;
    *speed += (target - *speed).min(max_rise * *speed);
}
