//! Label placement: each label tries four spots around its node (right, left, above, below)
//! and takes the first that overlaps neither a placed label nor a node disc. Labels of busier
//! nodes are placed first; the busiest few may move to a free spot further out, on a leader
//! line; a label that fits nowhere is left out rather than drawn over another. A uniform grid
//! keeps the overlap checks near-constant time per label.

use std::collections::HashMap;

/// An axis-aligned rectangle `[x0, y0, x1, y1]`.
pub(crate) type Rect = [f64; 4];

struct Grid {
    cell: f64,
    cells: HashMap<(i64, i64), Vec<Rect>>,
}

impl Grid {
    fn new(cell: f64) -> Self {
        Grid {
            cell: cell.max(1.0),
            cells: HashMap::new(),
        }
    }

    fn span(&self, r: &Rect) -> (i64, i64, i64, i64) {
        (
            (r[0] / self.cell).floor() as i64,
            (r[1] / self.cell).floor() as i64,
            (r[2] / self.cell).floor() as i64,
            (r[3] / self.cell).floor() as i64,
        )
    }

    fn hits(&self, r: &Rect) -> bool {
        let (x0, y0, x1, y1) = self.span(r);
        for gx in x0..=x1 {
            for gy in y0..=y1 {
                if let Some(v) = self.cells.get(&(gx, gy))
                    && v.iter().any(|o| overlaps(o, r))
                {
                    return true;
                }
            }
        }
        false
    }

    fn add(&mut self, r: Rect) {
        let (x0, y0, x1, y1) = self.span(&r);
        for gx in x0..=x1 {
            for gy in y0..=y1 {
                self.cells.entry((gx, gy)).or_default().push(r);
            }
        }
    }
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// One label to place: node centre and radius, text size, and its priority.
pub(crate) struct LabelReq {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub w: f64,
    pub h: f64,
    pub priority: u64,
    /// A hub's label: if no spot beside the node is free, it moves further out, and as a
    /// last resort is drawn over other nodes (never over another label) rather than left out.
    pub must: bool,
}

/// Where a placed label's text starts (baseline-left) and its anchor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Placed {
    pub x: f64,
    pub y: f64,
    /// `start`, `end` or `middle`.
    pub anchor: &'static str,
    /// The box the label was given: the drawing grows to hold it.
    pub rect: Rect,
    /// Placed away from its node: a leader line joins the node's rim to the label.
    pub leader: Option<[f64; 4]>,
}

/// Places labels; returns one entry per request (`None` when it did not fit).
pub(crate) fn place(reqs: &[LabelReq]) -> Vec<Option<Placed>> {
    let typical = reqs.iter().map(|r| r.h).fold(10.0f64, f64::max) * 4.0;
    let mut grid = Grid::new(typical);
    for r in reqs {
        grid.add([r.x - r.r, r.y - r.r, r.x + r.r, r.y + r.r]);
    }
    let mut order: Vec<usize> = (0..reqs.len()).collect();
    order.sort_by(|a, b| reqs[*b].priority.cmp(&reqs[*a].priority).then(a.cmp(b)));
    let mut out = vec![None; reqs.len()];
    // Rectangles of placed labels (the grid also holds node discs).
    let mut labels: Vec<Rect> = Vec::new();
    for (rank, i) in order.into_iter().enumerate() {
        let q = &reqs[i];
        let gap = 2.0;
        let candidates = [
            // right
            (
                [
                    q.x + q.r + gap,
                    q.y - q.h / 2.0,
                    q.x + q.r + gap + q.w,
                    q.y + q.h / 2.0,
                ],
                Placed {
                    x: q.x + q.r + gap,
                    y: q.y + q.h * 0.35,
                    anchor: "start",
                    rect: [0.0; 4],
                    leader: None,
                },
            ),
            // left
            (
                [
                    q.x - q.r - gap - q.w,
                    q.y - q.h / 2.0,
                    q.x - q.r - gap,
                    q.y + q.h / 2.0,
                ],
                Placed {
                    x: q.x - q.r - gap,
                    y: q.y + q.h * 0.35,
                    anchor: "end",
                    rect: [0.0; 4],
                    leader: None,
                },
            ),
            // above
            (
                [
                    q.x - q.w / 2.0,
                    q.y - q.r - gap - q.h,
                    q.x + q.w / 2.0,
                    q.y - q.r - gap,
                ],
                Placed {
                    x: q.x,
                    y: q.y - q.r - gap - q.h * 0.15,
                    anchor: "middle",
                    rect: [0.0; 4],
                    leader: None,
                },
            ),
            // below
            (
                [
                    q.x - q.w / 2.0,
                    q.y + q.r + gap,
                    q.x + q.w / 2.0,
                    q.y + q.r + gap + q.h,
                ],
                Placed {
                    x: q.x,
                    y: q.y + q.r + gap + q.h * 0.85,
                    anchor: "middle",
                    rect: [0.0; 4],
                    leader: None,
                },
            ),
        ];
        // Our own disc is in the grid too; shrink candidates by a hair so touching is fine.
        for (rect, mut placed) in candidates {
            placed.rect = rect;
            let probe = [
                rect[0] + 0.01,
                rect[1] + 0.01,
                rect[2] - 0.01,
                rect[3] - 0.01,
            ];
            if !grid.hits(&probe) {
                grid.add(rect);
                out[i] = Some(placed);
                break;
            }
        }
        if out[i].is_none() && q.must {
            let spot = further_out(q, &grid, &labels);
            grid.add(spot.rect);
            out[i] = Some(spot);
        } else if out[i].is_none() && rank < BUSIEST_MOVE_OUT && q.w > 0.0 {
            // One of the busiest nodes, crowded in (the accounts every guesser tries sit
            // in the middle of their clients): its label may move out on a leader line,
            // but only to a free spot; it is never drawn over anything.
            if let Some(spot) = free_ring_spot(q, &grid) {
                grid.add(spot.rect);
                out[i] = Some(spot);
            }
        }
        if let Some(p) = out[i] {
            labels.push(p.rect);
        }
    }
    out
}

/// A spot for a hub's label away from its node: rings of growing distance in eight
/// directions, the first free one; else the right-hand spot beyond the furthest ring that
/// overlaps no label (a label drawn over nodes keeps its halo, so it stays legible).
fn further_out(q: &LabelReq, grid: &Grid, labels: &[Rect]) -> Placed {
    if let Some(p) = free_ring_spot(q, grid) {
        return p;
    }
    let mut y = q.y;
    loop {
        let p = leader_spot(q, q.x + q.r + 2.0 + q.w / 2.0, y);
        if !labels.iter().any(|l| overlaps(l, &p.rect)) {
            return p;
        }
        y += q.h;
    }
}

/// Labels of this many of the busiest nodes (by priority) may move away from their node
/// to a free spot when none beside it is free.
const BUSIEST_MOVE_OUT: usize = 12;

/// A label box centred at (cx, cy), with a leader line from the node's rim towards the
/// nearest point of the box.
fn leader_spot(q: &LabelReq, cx: f64, cy: f64) -> Placed {
    let rect = [
        cx - q.w / 2.0,
        cy - q.h / 2.0,
        cx + q.w / 2.0,
        cy + q.h / 2.0,
    ];
    let tx = q.x.clamp(rect[0], rect[2]);
    let ty = q.y.clamp(rect[1], rect[3]);
    let (dx, dy) = (tx - q.x, ty - q.y);
    let d = dx.hypot(dy).max(1e-9);
    Placed {
        x: cx - q.w / 2.0,
        y: cy + q.h * 0.35,
        anchor: "start",
        rect,
        leader: Some([q.x + dx / d * q.r, q.y + dy / d * q.r, tx, ty]),
    }
}

/// The first free spot on rings of growing distance around the node, in eight directions.
fn free_ring_spot(q: &LabelReq, grid: &Grid) -> Option<Placed> {
    for ring in 1..=6 {
        let d = q.r + ring as f64 * q.h + q.w / 2.0;
        for k in 0..8 {
            let a = k as f64 * std::f64::consts::FRAC_PI_4;
            let p = leader_spot(q, q.x + d * a.cos(), q.y + d * a.sin() * 0.6);
            // A label away from its node keeps a margin: text widths are estimates, and a
            // moved label has no node beside it to say whose it is if it touches another.
            let m = 0.1 * q.h;
            let probe = [
                p.rect[0] - 4.0 * m,
                p.rect[1] - m,
                p.rect[2] + 4.0 * m,
                p.rect[3] + m,
            ];
            if !grid.hits(&probe) {
                return Some(p);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crowded_labels_do_not_overlap() {
        let reqs: Vec<LabelReq> = (0..50)
            .map(|i| LabelReq {
                x: (i % 5) as f64 * 12.0,
                y: (i / 5) as f64 * 12.0,
                r: 3.0,
                w: 40.0,
                h: 10.0,
                priority: i as u64,
                must: false,
            })
            .collect();
        let placed = place(&reqs);
        assert!(placed.iter().any(Option::is_some));
        assert!(
            placed.iter().any(Option::is_none),
            "some labels must be dropped"
        );
        // Highest priority is always placed.
        assert!(placed[49].is_some());
    }
}
