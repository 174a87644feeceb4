//! Force-directed layout: multilevel ForceAtlas2 with Barnes-Hut, deterministic for a seed.
//!
//! The graph is coarsened until it is small (see `coarsen.rs`), the coarsest level is laid
//! out from seeded random positions, and each finer level starts from its parent's position
//! (plus a small seeded offset) and is refined with fewer iterations. A last pass turns on
//! overlap prevention so node discs do not cover each other. Memory is linear in nodes and
//! edges at every level.

mod coarsen;
mod fa2;
mod overlap;
mod pack;
mod quadtree;

use crate::model::Graph;
use fa2::{Level, Params};

/// Barnes-Hut opening angle: cells smaller than THETA times their distance act as one body.
const THETA: f64 = 1.5;

/// Layout settings.
#[derive(Clone, Copy, Debug)]
pub struct LayoutOptions {
    /// Seed for the initial positions; the same seed gives the same layout.
    pub seed: u64,
    /// Iterations on the coarsest level (finer levels use fewer).
    pub max_iter: usize,
    /// Keep node discs apart in a final pass.
    pub prevent_overlap: bool,
    /// Asked every iteration: `true` ends the layout where it is (a job out of time; the
    /// portal passes its budget check). The positions are then rough but valid.
    pub stop: Option<fn() -> bool>,
}

impl Default for LayoutOptions {
    fn default() -> Self {
        LayoutOptions {
            seed: 1,
            max_iter: 400,
            prevent_overlap: true,
            stop: None,
        }
    }
}

/// What the layout did, for progress reports and benchmarks.
#[derive(Clone, Debug, Default)]
pub struct LayoutReport {
    /// Nodes per level, finest first.
    pub levels: Vec<usize>,
    /// Iterations per level, finest first.
    pub iterations: Vec<usize>,
    /// Wall seconds per phase, in order: building the hierarchy, each level refined
    /// (coarsest first), overlap removal, packing the components. For benchmarks.
    pub seconds: Vec<(String, f64)>,
}

/// Lays out `graph`; positions are in points, indexed like `graph.nodes`.
pub fn layout(graph: &Graph, opts: &LayoutOptions) -> Vec<[f64; 2]> {
    let edges: Vec<(u32, u32, f32)> = graph
        .edges
        .iter()
        .map(|e| (e.from as u32, e.to as u32, edge_weight(e.count)))
        .collect();
    let radius = (0..graph.nodes.len())
        .map(|i| graph.node_radius(i))
        .collect();
    layout_edges(graph.nodes.len(), &edges, radius, opts, &mut |_, _| {}).0
}

/// Many lines between the same pair pull a little harder, but only logarithmically, so one
/// chatty pair does not collapse.
fn edge_weight(count: u64) -> f32 {
    1.0 + (count as f32).ln()
}

/// Lays out `n` nodes joined by weighted `edges`, with node radii in points. `progress` is
/// told `(level, levels)` as each level starts.
pub fn layout_edges(
    n: usize,
    edges: &[(u32, u32, f32)],
    radius: Vec<f64>,
    opts: &LayoutOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> (Vec<[f64; 2]>, LayoutReport) {
    let mut report = LayoutReport::default();
    if n == 0 {
        return (Vec::new(), report);
    }
    let clock = std::time::Instant::now();
    let mut lap = {
        let mut last = clock.elapsed();
        move |report: &mut LayoutReport, what: String| {
            let now = clock.elapsed();
            report.seconds.push((what, (now - last).as_secs_f64()));
            last = now;
        }
    };
    let finest = Level::from_edges(n, edges, radius);
    // Build the hierarchy.
    let mut levels = vec![finest];
    let mut parents: Vec<Vec<u32>> = Vec::new();
    while levels.last().expect("non-empty").len() > 200 {
        let last = levels.last().expect("non-empty");
        let (coarse, parent) = coarsen::coarsen(last);
        if coarse.len() as f64 > 0.9 * last.len() as f64 {
            break; // coarsening stalled
        }
        levels.push(coarse);
        parents.push(parent);
    }
    report.levels = levels.iter().map(Level::len).collect();
    lap(&mut report, "hierarchy".into());
    let total = levels.len();
    let mut rng = SplitMix(opts.seed);
    // Coarsest level: random start in a square sized to the mass.
    let coarsest = levels.last().expect("non-empty");
    let side = (coarsest.mass.iter().sum::<f64>()).sqrt() * 20.0;
    let mut pos: Vec<[f64; 2]> = (0..coarsest.len())
        .map(|_| [(rng.next_f64() - 0.5) * side, (rng.next_f64() - 0.5) * side])
        .collect();
    let mut iterations = vec![0usize; total];
    // Size of the last level that was refined; levels barely larger are only prolonged
    // through (slowly shrinking hierarchies would otherwise cost an iteration budget each).
    let mut last_refined = 0usize;
    for li in (0..total).rev() {
        progress(total - li, total);
        if opts.stop.is_some_and(|stop| stop()) {
            break;
        }
        let level = &levels[li];
        if li + 1 < total {
            // Prolong: each node starts at its parent, offset a little.
            let parent = &parents[li];
            let coarse_pos = pos;
            pos = (0..level.len())
                .map(|i| {
                    let p = coarse_pos[parent[i] as usize];
                    let r = level.radius[i].max(1.0);
                    [
                        p[0] + (rng.next_f64() - 0.5) * 4.0 * r,
                        p[1] + (rng.next_f64() - 0.5) * 4.0 * r,
                    ]
                })
                .collect();
        }
        let finest = li == 0;
        if !finest && li + 1 < total && (level.len() as f64) < 1.6 * last_refined as f64 {
            continue;
        }
        last_refined = level.len();
        let (min_iter, max_iter) = if li + 1 == total {
            // A big coarsest level (coarsening stalled) gets fewer, costlier iterations.
            (30, opts.max_iter.min(400_000 / level.len().max(1) + 100))
        } else if finest {
            let m = (opts.max_iter / 8)
                .clamp(20, 50)
                .min(400_000 / level.len().max(1) + 20);
            (m.min(20), m)
        } else {
            // Intermediate levels only untangle what prolongation spread out.
            (
                10,
                (opts.max_iter / 8)
                    .clamp(10, 30)
                    .min(200_000 / level.len().max(1) + 10),
            )
        };
        let params = Params {
            scaling: 10.0,
            gravity: 1.0,
            theta: THETA,
            prevent_overlap: false,
            min_iter: min_iter.min(max_iter),
            max_iter,
            stop: opts.stop,
        };
        iterations[li] = fa2::run(level, &mut pos, params);
        lap(&mut report, format!("level {li} ({} nodes)", level.len()));
    }
    if opts.prevent_overlap {
        let n0 = levels[0].len();
        // ForceAtlas2's own overlap prevention moves nodes coherently; on big graphs the
        // cheaper direct pass alone is used.
        if n0 <= 50_000 {
            let params = Params {
                scaling: 10.0,
                gravity: 1.0,
                theta: THETA,
                prevent_overlap: true,
                min_iter: 10,
                max_iter: (400_000 / n0.max(1)).clamp(15, 40),
                stop: opts.stop,
            };
            iterations[0] += fa2::run(&levels[0], &mut pos, params);
        }
        let rounds = if n0 <= 50_000 { 50 } else { 20 };
        iterations[0] += overlap::remove_overlaps(&mut pos, &levels[0].radius, rounds);
        lap(&mut report, "overlap".into());
    }
    report.iterations = iterations;
    pack::pack_components(&mut pos, edges, &levels[0].radius);
    lap(&mut report, "pack".into());
    (pos, report)
}

/// SplitMix64: a tiny, well-mixed PRNG, so layouts depend only on the seed (not on a
/// library's generator choice across versions).
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
