//! Multilevel coarsening: merge nodes into a smaller graph whose layout is a good start for
//! the finer one. Leaves hanging off the same node are merged together first (security
//! graphs are full of stars: scanners, beacons, DNS servers; and of twins: bots talking to the
//! same servers), then a heavy-edge matching
//! pairs the remaining nodes. Both passes visit nodes in a fixed order, so the hierarchy
//! depends only on the graph.

use super::fa2::Level;

/// Leaves of one hub merged per coarse node at most, so a huge star still coarsens in
/// steps and its leaves spread around the hub.
const LEAF_GROUP: usize = 16;
/// Nodes with at most this many neighbours are grouped with their twins.
const TWIN_MAX_DEGREE: usize = 3;
/// Nodes with at most this many neighbours may join the group of their busiest neighbour.
const HUB_MAX_DEGREE: usize = 8;

/// A coarser level and, for each fine node, its coarse node.
#[allow(clippy::needless_range_loop)] // `i` indexes the level's arrays and `parent` alike
pub(crate) fn coarsen(fine: &Level) -> (Level, Vec<u32>) {
    let n = fine.len();
    const UNSET: u32 = u32::MAX;
    let mut parent = vec![UNSET; n];
    let mut next = 0u32;
    // Pass 1: group structural twins (nodes of small degree with the same neighbours: the
    // leaves of one hub, the bots talking to the same two servers).
    let mut groups: std::collections::HashMap<Vec<u32>, (u32, usize)> = Default::default();
    for i in 0..n {
        let nb = fine.neighbours(i);
        if nb.is_empty() || nb.len() > TWIN_MAX_DEGREE {
            continue;
        }
        if nb.len() == 1 && fine.neighbours(nb[0].0 as usize).len() == 1 {
            continue; // an isolated pair: the matching below handles it
        }
        let key: Vec<u32> = nb.iter().map(|e| e.0).collect();
        let entry = groups.entry(key).or_insert((UNSET, 0));
        if entry.0 == UNSET || entry.1 >= LEAF_GROUP {
            *entry = (next, 0);
            next += 1;
        }
        parent[i] = entry.0;
        entry.1 += 1;
    }
    // Pass 1b: the remaining small-degree nodes join the others hanging off their busiest
    // neighbour (firewall graphs: clients of the same server port).
    let mut by_hub: std::collections::HashMap<u32, (u32, usize)> = Default::default();
    for i in 0..n {
        let nb = fine.neighbours(i);
        if parent[i] != UNSET || nb.is_empty() || nb.len() > HUB_MAX_DEGREE {
            continue;
        }
        let hub = nb
            .iter()
            .map(|e| e.0)
            .max_by_key(|j| (fine.neighbours(*j as usize).len(), std::cmp::Reverse(*j)))
            .expect("non-empty");
        if fine.neighbours(hub as usize).len() <= nb.len() {
            continue; // not a hub: leave it to the matching
        }
        let entry = by_hub.entry(hub).or_insert((UNSET, 0));
        if entry.0 == UNSET || entry.1 >= LEAF_GROUP {
            *entry = (next, 0);
            next += 1;
        }
        parent[i] = entry.0;
        entry.1 += 1;
    }
    // A group of one is no merge: give such nodes back to the matching.
    let mut size = vec![0u32; next as usize];
    for p in parent.iter().filter(|p| **p != UNSET) {
        size[*p as usize] += 1;
    }
    let mut renumber = vec![UNSET; next as usize];
    next = 0;
    for p in parent.iter_mut() {
        if *p == UNSET {
            continue;
        }
        if size[*p as usize] < 2 {
            *p = UNSET;
            continue;
        }
        if renumber[*p as usize] == UNSET {
            renumber[*p as usize] = next;
            next += 1;
        }
        *p = renumber[*p as usize];
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
    let coarse = Level::from_edges(cn, &edges, radius);
    (coarse, parent)
}
