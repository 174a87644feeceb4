//! Packing the connected components of a layout side by side. ForceAtlas2's gravity pulls
//! every component towards the centre, so a small component (the ordinary clients and the
//! web sites they visit) would land on top of the big one (the botnet) and hide in it.
//! Components are laid out on shelves, largest first, each kept as the layout drew it.

/// Moves each connected component of the graph (`n` nodes, `edges`) so that no two
/// overlap: shelves of components, largest (most nodes) first, ties by first node.
pub fn pack_components(pos: &mut [[f64; 2]], edges: &[(u32, u32, f32)], radius: &[f64]) {
    let n = pos.len();
    if n < 2 {
        return;
    }
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    for &(a, b, _) in edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            // The smaller index is the root, so components are named deterministically.
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[hi as usize] = lo;
        }
    }
    // Component of each node, numbered by first node.
    let mut comp_of = vec![usize::MAX; n];
    let mut roots: Vec<u32> = Vec::new();
    let mut index_of_root = std::collections::HashMap::new();
    for (i, slot) in comp_of.iter_mut().enumerate() {
        let r = find(&mut parent, i as u32);
        *slot = *index_of_root.entry(r).or_insert_with(|| {
            roots.push(r);
            roots.len() - 1
        });
    }
    let k = roots.len();
    if k < 2 {
        return;
    }
    // Bounding boxes and sizes.
    let mut bbox = vec![[f64::MAX, f64::MAX, f64::MIN, f64::MIN]; k];
    let mut size = vec![0usize; k];
    for i in 0..n {
        let c = comp_of[i];
        let r = radius.get(i).copied().unwrap_or(1.0);
        let b = &mut bbox[c];
        b[0] = b[0].min(pos[i][0] - r);
        b[1] = b[1].min(pos[i][1] - r);
        b[2] = b[2].max(pos[i][0] + r);
        b[3] = b[3].max(pos[i][1] + r);
        size[c] += 1;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|a, b| size[*b].cmp(&size[*a]).then(a.cmp(b)));
    let widest = bbox.iter().map(|b| b[2] - b[0]).fold(0.0f64, f64::max);
    let area: f64 = bbox.iter().map(|b| (b[2] - b[0]) * (b[3] - b[1])).sum();
    let gap = radius.iter().copied().fold(1.0f64, f64::max) * 4.0 + 20.0;
    let row_width = widest.max(area.sqrt() * 1.3);
    // Offset of each component's box corner.
    let mut offset = vec![[0.0f64; 2]; k];
    let (mut x, mut y, mut row_h) = (0.0f64, 0.0f64, 0.0f64);
    for &c in &order {
        let (w, h) = (bbox[c][2] - bbox[c][0], bbox[c][3] - bbox[c][1]);
        if x > 0.0 && x + w > row_width {
            x = 0.0;
            y += row_h + gap;
            row_h = 0.0;
        }
        offset[c] = [x - bbox[c][0], y - bbox[c][1]];
        x += w + gap;
        row_h = row_h.max(h);
    }
    for i in 0..n {
        let o = offset[comp_of[i]];
        pos[i] = [pos[i][0] + o[0], pos[i][1] + o[1]];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_never_overlap() {
        // Two triangles and a lone node, all drawn at the same place.
        let mut pos = vec![
            [0.0, 0.0],
            [10.0, 0.0],
            [5.0, 8.0],
            [1.0, 1.0],
            [9.0, 1.0],
            [5.0, 7.0],
            [5.0, 5.0],
        ];
        let edges = [
            (0, 1, 1.0),
            (1, 2, 1.0),
            (2, 0, 1.0),
            (3, 4, 1.0),
            (4, 5, 1.0),
            (5, 3, 1.0),
        ];
        let radius = vec![2.0; 7];
        pack_components(&mut pos, &edges, &radius);
        let boxes: Vec<[f64; 4]> = [[0usize, 1, 2].as_slice(), &[3, 4, 5], &[6]]
            .iter()
            .map(|c| {
                let xs = c.iter().map(|&i| pos[i][0]);
                let ys = c.iter().map(|&i| pos[i][1]);
                [
                    xs.clone().fold(f64::MAX, f64::min) - 2.0,
                    ys.clone().fold(f64::MAX, f64::min) - 2.0,
                    xs.fold(f64::MIN, f64::max) + 2.0,
                    ys.fold(f64::MIN, f64::max) + 2.0,
                ]
            })
            .collect();
        for a in 0..3 {
            for b in a + 1..3 {
                let (p, q) = (boxes[a], boxes[b]);
                let apart = p[2] <= q[0] || q[2] <= p[0] || p[3] <= q[1] || q[3] <= p[1];
                assert!(apart, "{p:?} {q:?}");
            }
        }
        // Shapes are kept: the first triangle's sides are as long as before.
        let d = |a: usize, b: usize| (pos[a][0] - pos[b][0]).hypot(pos[a][1] - pos[b][1]);
        assert!((d(0, 1) - 10.0).abs() < 1e-9);
    }
}
