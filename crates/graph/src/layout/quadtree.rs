//! The Barnes-Hut quadtree: built once per iteration (so its shape depends only on the
//! positions), then read by every node's force computation in parallel. A cell far enough
//! away (size / distance < theta) acts as one body at its centre of mass.
//!
//! Built from the bodies sorted by their Morton code (the bits of x and y interleaved): each
//! cell's bodies are then a contiguous run of that order, split into its four quadrants by
//! three binary searches, and a run of at most [`LEAF`] bodies is a leaf, whose bodies are
//! read one by one when it is near. Cells are laid out depth first, and forces are computed
//! in the same order, so neighbouring nodes walk the same cells while they are in the cache.
//! Inserting the bodies one by one into a tree of one body per leaf took 210 ms per
//! iteration on 454,518 nodes, and the forces 280 ms; this tree takes about 40 and 120 ms
//! (2 cores; the figures are in BENCHMARKS.md's graph rows).

use rayon::prelude::*;

/// A node of the tree.
#[derive(Clone, Copy, Debug)]
struct Cell {
    /// Centre of mass and total mass.
    x: f64,
    y: f64,
    mass: f64,
    /// Half the side of the cell's square.
    half: f64,
    /// First child index (children are 4 consecutive cells), 0 if leaf.
    child: u32,
    /// A leaf's bodies: `bodies[start..start + count]`.
    start: u32,
    count: u32,
}

/// A body, copied in Morton order so that a leaf's bodies are read from one place.
#[derive(Clone, Copy, Debug)]
struct Body {
    x: f64,
    y: f64,
    mass: f64,
    index: u32,
}

/// The tree over all bodies.
pub(crate) struct QuadTree {
    cells: Vec<Cell>,
    bodies: Vec<Body>,
    /// Body indices in Morton order.
    order: Vec<u32>,
}

/// Bodies a leaf holds at most (more only where they cannot be told apart, see [`BITS`]).
const LEAF: usize = 8;
/// Bits per axis of the Morton code: cells stop splitting at 1/2^31 of the root's side, where
/// bodies are treated as coincident (prevents unbounded depth).
const BITS: u32 = 31;
/// Runs of at least this many bodies split into subtrees built in parallel.
const PARALLEL_RUN: usize = 20_000;

const EMPTY: Cell = Cell {
    x: 0.0,
    y: 0.0,
    mass: 0.0,
    half: 0.0,
    child: 0,
    start: 0,
    count: 0,
};

/// Spreads the low 32 bits of `v` to the even bits of the result.
fn spread(v: u64) -> u64 {
    let mut v = v & 0xFFFF_FFFF;
    v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
    v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333;
    (v | (v << 1)) & 0x5555_5555_5555_5555
}

/// The cells of the subtree over `run` (Morton codes of `bodies[offset..]`, all inside one
/// cell at `depth` of half side `half`), its root first. Big runs build their four
/// quadrants in parallel and append them in quadrant order, so the cells are the same with
/// any number of threads.
fn subtree(run: &[u64], offset: usize, depth: u32, half: f64, bodies: &[Body]) -> Vec<Cell> {
    let mut cells = vec![Cell { half, ..EMPTY }];
    if run.len() < PARALLEL_RUN || depth == BITS {
        fill(&mut cells, 0, run, offset, depth, bodies);
        return cells;
    }
    let parts = quadrants(run, depth);
    let subs: Vec<Vec<Cell>> = (0..4)
        .into_par_iter()
        .map(|q| {
            let (from, to) = parts[q];
            subtree(&run[from..to], offset + from, depth + 1, half / 2.0, bodies)
        })
        .collect();
    // The children's roots go to the four cells after the root; the rest of each subtree
    // follows, its child indices moved by where it lands.
    cells.extend(subs.iter().map(|sub| sub[0]));
    cells[0].child = 1;
    for (q, sub) in subs.iter().enumerate() {
        // A subtree's cell k (k >= 1) lands at `at + k - 1`.
        let at = cells.len() as u32;
        cells[1 + q] = moved(sub[0], at);
        cells.extend(sub[1..].iter().map(|c| moved(*c, at)));
    }
    centre_of_mass(&mut cells, 0);
    cells
}

/// A subtree's cell, its child index moved for a subtree whose cell 1 lands at `at`.
fn moved(c: Cell, at: u32) -> Cell {
    Cell {
        child: if c.child == 0 { 0 } else { c.child + at - 1 },
        ..c
    }
}

/// The four quadrants of a run of Morton codes at `depth`: (from, to) within the run.
fn quadrants(run: &[u64], depth: u32) -> [(usize, usize); 4] {
    let shift = 2 * (BITS - 1 - depth);
    let mut from = 0;
    std::array::from_fn(|q| {
        let to = from + run[from..].partition_point(|c| (c >> shift) & 3 <= q as u64);
        let part = (from, to);
        from = to;
        part
    })
}

/// Sets an internal cell's mass and centre from its four children, in order.
fn centre_of_mass(cells: &mut [Cell], ci: usize) {
    let first = cells[ci].child as usize;
    let (mut m, mut x, mut y) = (0.0, 0.0, 0.0);
    for c in &cells[first..first + 4] {
        if c.mass > 0.0 {
            m += c.mass;
            x += c.mass * c.x;
            y += c.mass * c.y;
        }
    }
    let c = &mut cells[ci];
    (c.mass, c.x, c.y) = (m, x / m, y / m);
}

/// Fills cell `ci` (at `depth`) with the bodies of `run` (codes of `bodies[offset..]`),
/// depth first.
fn fill(cells: &mut Vec<Cell>, ci: usize, run: &[u64], offset: usize, depth: u32, bodies: &[Body]) {
    if run.len() <= LEAF || depth == BITS {
        let (mut m, mut x, mut y) = (0.0, 0.0, 0.0);
        for b in &bodies[offset..offset + run.len()] {
            m += b.mass;
            x += b.mass * b.x;
            y += b.mass * b.y;
        }
        let c = &mut cells[ci];
        (c.mass, c.start, c.count) = (m, offset as u32, run.len() as u32);
        if m > 0.0 {
            (c.x, c.y) = (x / m, y / m);
        }
        return;
    }
    let first = cells.len();
    let half = cells[ci].half / 2.0;
    cells.extend([Cell { half, ..EMPTY }; 4]);
    cells[ci].child = first as u32;
    for (q, (from, to)) in quadrants(run, depth).into_iter().enumerate() {
        if to > from {
            fill(
                cells,
                first + q,
                &run[from..to],
                offset + from,
                depth + 1,
                bodies,
            );
        }
    }
    centre_of_mass(cells, ci);
}

impl QuadTree {
    /// Builds the tree over `pos` with masses `mass`.
    pub fn build(pos: &[[f64; 2]], mass: &[f64]) -> QuadTree {
        let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in pos {
            minx = minx.min(p[0]);
            miny = miny.min(p[1]);
            maxx = maxx.max(p[0]);
            maxy = maxy.max(p[1]);
        }
        let half = ((maxx - minx).max(maxy - miny) / 2.0).max(1.0) * 1.0001;
        let (ox, oy) = ((minx + maxx) / 2.0 - half, (miny + maxy) / 2.0 - half);
        let scale = f64::from(1u32 << BITS) / (2.0 * half);
        let top = u64::from((1u32 << BITS) - 1);
        let quantize = |v: f64| ((v * scale) as u64).min(top);
        // Quadrant bits: x in the even bits, y in the odd ones, so that the two bits of a
        // level are (y >= centre) << 1 | (x >= centre), the children's order.
        let mut sorted: Vec<(u64, u32)> = pos
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                let code = spread(quantize(p[0] - ox)) | spread(quantize(p[1] - oy)) << 1;
                (code, i as u32)
            })
            .collect();
        sorted.par_sort_unstable();
        let bodies: Vec<Body> = sorted
            .par_iter()
            .map(|&(_, i)| {
                let p = pos[i as usize];
                Body {
                    x: p[0],
                    y: p[1],
                    mass: mass[i as usize],
                    index: i,
                }
            })
            .collect();
        let codes: Vec<u64> = sorted.par_iter().map(|e| e.0).collect();
        let cells = subtree(&codes, 0, 0, half, &bodies);
        QuadTree {
            cells,
            order: sorted.iter().map(|e| e.1).collect(),
            bodies,
        }
    }

    /// The bodies in the tree's (Morton) order: computing forces in this order keeps the
    /// cells that neighbouring bodies walk in the cache.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Repulsive force on body `i` at `p` with mass `m`, radius `r`: `k * m * M / d` per
    /// body or far cell. With `overlap`, exact pairs use the gap between the discs and push
    /// hard when they overlap.
    #[allow(clippy::too_many_arguments)]
    pub fn repulsion(
        &self,
        i: u32,
        p: [f64; 2],
        m: f64,
        r: f64,
        radius: &[f64],
        k: f64,
        theta2: f64,
        overlap: bool,
    ) -> [f64; 2] {
        let mut f = [0.0, 0.0];
        // Depth is bounded (BITS), so a fixed stack suffices: 3 siblings wait per level.
        let mut stack = [0u32; 512];
        let mut top = 1usize;
        while top > 0 {
            top -= 1;
            let c = &self.cells[stack[top] as usize];
            if c.mass == 0.0 {
                continue;
            }
            let dx = p[0] - c.x;
            let dy = p[1] - c.y;
            let d2 = dx * dx + dy * dy;
            let size = 2.0 * c.half;
            // A leaf is always read body by body: it holds at most a few, and a sparse leaf
            // can be large enough to count as far from one of its own bodies, which would
            // then be pushed by its own mass and its neighbours' as one point.
            if c.child != 0 && size * size < theta2 * d2 {
                // Far: the cell acts as one body.
                let fm = k * m * c.mass / d2; // (k m M / d) * (unit = d_vec / d)
                f[0] += dx * fm;
                f[1] += dy * fm;
                continue;
            }
            if c.child == 0 {
                // A near leaf: its bodies one by one.
                let start = c.start as usize;
                for b in &self.bodies[start..start + c.count as usize] {
                    if b.index != i {
                        let q = pair(i, p, m, r, b, radius, k, overlap);
                        f[0] += q[0];
                        f[1] += q[1];
                    }
                }
                continue;
            }
            if top + 4 > stack.len() {
                continue; // pathological depth: treat the rest as far away
            }
            for q in 0..4 {
                stack[top] = c.child + q;
                top += 1;
            }
        }
        f
    }
}

/// The repulsion between body `i` (at `p`, mass `m`, radius `r`) and one other body.
#[allow(clippy::too_many_arguments)]
#[inline]
fn pair(
    i: u32,
    p: [f64; 2],
    m: f64,
    r: f64,
    b: &Body,
    radius: &[f64],
    k: f64,
    overlap: bool,
) -> [f64; 2] {
    let dx = p[0] - b.x;
    let dy = p[1] - b.y;
    let d2 = dx * dx + dy * dy;
    if overlap {
        let d = d2.sqrt();
        let gap = d - r - radius[b.index as usize];
        let (ux, uy) = if d > 0.0 {
            (dx / d, dy / d)
        } else {
            deterministic_dir(i, b.index)
        };
        let fm = if gap > 0.0 {
            k * m * b.mass / gap
        } else {
            100.0 * k * m * b.mass
        };
        [ux * fm, uy * fm]
    } else if d2 > 0.0 {
        let fm = k * m * b.mass / d2;
        [dx * fm, dy * fm]
    } else {
        let (ux, uy) = deterministic_dir(i, b.index);
        [ux * k * m * b.mass, uy * k * m * b.mass]
    }
}

/// A fixed direction to separate coincident bodies, so results never depend on chance.
fn deterministic_dir(a: u32, b: u32) -> (f64, f64) {
    let h = (u64::from(a) << 32 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let angle = (h >> 11) as f64 / (1u64 << 53) as f64 * std::f64::consts::TAU;
    (angle.cos(), angle.sin())
}
