//! Multilevel coarsening: merge nodes into a smaller graph whose layout is a good start for
//! the finer one. Leaves hanging off the same node are merged together first (security
//! graphs are full of stars: scanners, beacons, DNS servers), then a heavy-edge matching
//! pairs the remaining nodes. Both passes visit nodes in a fixed order, so the hierarchy
//! depends only on the graph.

use super::fa2::Level;

/// Leaves of one hub merged per coarse node at most, so a huge star still coarsens in
/// steps and its leaves spread around the hub.
const LEAF_GROUP: usize = 16;

/// A coarser level and, for each fine node, its coarse node.
#[allow(clippy::needless_range_loop)] // `i` indexes the level's arrays and `parent` alike
pub(crate) fn coarsen(fine: &Level) -> (Level, Vec<u32>) {
    let n = fine.len();
    const UNSET: u32 = u32::MAX;
    let mut parent = vec![UNSET; n];
    let mut next = 0u32;
    // Pass 1: group leaves by their one neighbour.
    let mut group_of_hub: std::collections::HashMap<u32, (u32, usize)> = Default::default();
    for i in 0..n {
        let nb = fine.neighbours(i);
        if nb.len() == 1 && fine.neighbours(nb[0].0 as usize).len() > 1 {
            let hub = nb[0].0;
            let entry = group_of_hub.entry(hub).or_insert((UNSET, 0));
            if entry.0 == UNSET || entry.1 >= LEAF_GROUP {
                *entry = (next, 0);
                next += 1;
            }
            parent[i] = entry.0;
            entry.1 += 1;
        }
    }
    // Pass 2: heavy-edge matching of the rest, lightest nodes first.
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|i| parent[*i as usize] == UNSET)
        .collect();
    order.sort_by_key(|i| (fine.neighbours(*i as usize).len(), *i));
    for &u in &order {
        if parent[u as usize] != UNSET {
            continue;
        }
        let mu = fine.mass[u as usize];
        let mut best: Option<(f64, u32)> = None;
        for &(v, w) in fine.neighbours(u as usize) {
            if parent[v as usize] != UNSET || v == u {
                continue;
            }
            // Normalised by mass so hubs are not swallowed first.
            let score = f64::from(w) / (mu * fine.mass[v as usize]);
            if best.is_none_or(|(s, b)| score > s || (score == s && v < b)) {
                best = Some((score, v));
            }
        }
        parent[u as usize] = next;
        if let Some((_, v)) = best {
            parent[v as usize] = next;
        }
        next += 1;
    }
    let cn = next as usize;
    let mut edges: Vec<(u32, u32, f32)> = Vec::with_capacity(fine.adj.len() / 2);
    for i in 0..n {
        let pi = parent[i];
        for &(j, w) in fine.neighbours(i) {
            if (i as u32) < j {
                let pj = parent[j as usize];
                if pi != pj {
                    edges.push((pi.min(pj), pi.max(pj), w));
                }
            }
        }
    }
    // Coarse radius: the area of the merged discs.
    let mut area = vec![0.0f64; cn];
    for i in 0..n {
        area[parent[i] as usize] += fine.radius[i] * fine.radius[i];
    }
    let radius = area.into_iter().map(f64::sqrt).collect();
    let mut coarse = Level::from_edges(cn, &edges, radius);
    // Mass is the merged nodes' mass, so repulsion keeps its scale across levels.
    let mut mass = vec![0.0f64; cn];
    for i in 0..n {
        mass[parent[i] as usize] += fine.mass[i];
    }
    coarse.mass = mass;
    (coarse, parent)
}
