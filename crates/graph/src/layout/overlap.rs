//! Final overlap removal: ForceAtlas2's overlap prevention leaves a few discs touching in
//! dense spots, so a short pass pushes every overlapping pair apart by half the overlap each,
//! using a uniform grid to find close pairs. Each round reads the previous positions only
//! (computed per node in parallel, applied together), so it is deterministic.

use std::collections::HashMap;

use rayon::prelude::*;

/// Space kept between discs, in points.
const GAP: f64 = 1.0;

/// Pushes overlapping discs apart; returns the rounds run.
pub(crate) fn remove_overlaps(pos: &mut [[f64; 2]], radius: &[f64], max_rounds: usize) -> usize {
    let n = pos.len();
    if n < 2 {
        return 0;
    }
    let max_r = radius.iter().copied().fold(0.0f64, f64::max);
    let cell = (2.0 * max_r + GAP).max(1.0);
    for round in 0..max_rounds {
        let mut grid: HashMap<(i64, i64), Vec<u32>> = HashMap::with_capacity(n);
        let key = |p: [f64; 2]| ((p[0] / cell).floor() as i64, (p[1] / cell).floor() as i64);
        for (i, p) in pos.iter().enumerate() {
            grid.entry(key(*p)).or_default().push(i as u32);
        }
        let snapshot: &[[f64; 2]] = pos;
        let moves: Vec<[f64; 2]> = (0..n)
            .into_par_iter()
            .map(|i| {
                let p = snapshot[i];
                let (cx, cy) = key(p);
                let mut m = [0.0, 0.0];
                for gx in cx - 1..=cx + 1 {
                    for gy in cy - 1..=cy + 1 {
                        let Some(list) = grid.get(&(gx, gy)) else {
                            continue;
                        };
                        for &j in list {
                            let j = j as usize;
                            if j == i {
                                continue;
                            }
                            let q = snapshot[j];
                            let (dx, dy) = (p[0] - q[0], p[1] - q[1]);
                            let d = dx.hypot(dy);
                            let need = radius[i] + radius[j] + GAP;
                            if d >= need {
                                continue;
                            }
                            let (ux, uy) = if d > 1e-9 {
                                (dx / d, dy / d)
                            } else {
                                // Coincident: split along a direction fixed by the indices.
                                let a = if i < j { 0.0 } else { std::f64::consts::PI };
                                let t = (i.min(j) as f64) * 2.399_963;
                                ((t + a).cos(), (t + a).sin())
                            };
                            let push = (need - d) / 2.0;
                            m[0] += ux * push;
                            m[1] += uy * push;
                        }
                    }
                }
                m
            })
            .collect();
        let mut largest = 0.0f64;
        for (p, m) in pos.iter_mut().zip(&moves) {
            largest = largest.max(m[0].hypot(m[1]));
            p[0] += m[0];
            p[1] += m[1];
        }
        // Sub-point pushes are invisible at any drawing scale.
        if largest < 0.25 {
            return round + 1;
        }
    }
    max_rounds
}
