//! The Barnes-Hut quadtree: built once per iteration (sequentially, so its shape depends only
//! on the positions), then read by every node's force computation in parallel. A cell far
//! enough away (size / distance < theta) acts as one body at its centre of mass.

/// A node of the tree. Leaves hold at most one body (or several at the same point, merged).
#[derive(Clone, Copy, Debug)]
struct Cell {
    /// Centre of mass and total mass.
    x: f64,
    y: f64,
    mass: f64,
    /// Square bounds: centre and half side.
    cx: f64,
    cy: f64,
    half: f64,
    /// First child index (children are 4 consecutive cells), 0 if leaf.
    child: u32,
    /// Body index for a leaf holding one body, u32::MAX if empty or internal.
    body: u32,
}

/// The tree over all bodies.
pub(crate) struct QuadTree {
    cells: Vec<Cell>,
}

const NONE: u32 = u32::MAX;
/// Below this half-size, bodies are treated as coincident (prevents unbounded depth).
const MIN_HALF: f64 = 1e-6;

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
        let root = Cell {
            x: 0.0,
            y: 0.0,
            mass: 0.0,
            cx: (minx + maxx) / 2.0,
            cy: (miny + maxy) / 2.0,
            half,
            child: 0,
            body: NONE,
        };
        let mut t = QuadTree {
            cells: Vec::with_capacity(pos.len() * 2 + 1),
        };
        t.cells.push(root);
        for (i, p) in pos.iter().enumerate() {
            t.insert(i as u32, *p, mass[i], pos);
        }
        t
    }

    fn quadrant(c: &Cell, p: [f64; 2]) -> u32 {
        (u32::from(p[0] >= c.cx)) | (u32::from(p[1] >= c.cy) << 1)
    }

    fn split(&mut self, ci: usize) {
        let c = self.cells[ci];
        let h = c.half / 2.0;
        let first = self.cells.len() as u32;
        for q in 0..4u32 {
            let cx = if q & 1 == 1 { c.cx + h } else { c.cx - h };
            let cy = if q & 2 == 2 { c.cy + h } else { c.cy - h };
            self.cells.push(Cell {
                x: 0.0,
                y: 0.0,
                mass: 0.0,
                cx,
                cy,
                half: h,
                child: 0,
                body: NONE,
            });
        }
        self.cells[ci].child = first;
    }

    fn insert(&mut self, body: u32, p: [f64; 2], m: f64, pos: &[[f64; 2]]) {
        let mut ci = 0usize;
        loop {
            // Update the centre of mass on the way down.
            {
                let c = &mut self.cells[ci];
                let total = c.mass + m;
                c.x = (c.x * c.mass + p[0] * m) / total;
                c.y = (c.y * c.mass + p[1] * m) / total;
                c.mass = total;
            }
            let c = self.cells[ci];
            if c.child != 0 {
                ci = (c.child + Self::quadrant(&c, p)) as usize;
                continue;
            }
            if c.body == NONE && c.mass == m {
                // Empty leaf (its mass is just ours now).
                self.cells[ci].body = body;
                return;
            }
            if c.half < MIN_HALF {
                // Coincident bodies: keep them merged in this leaf.
                self.cells[ci].body = NONE;
                return;
            }
            // Occupied leaf: push its body down, then continue with ours.
            let other = c.body;
            self.split(ci);
            self.cells[ci].body = NONE;
            if other != NONE {
                let op = pos[other as usize];
                let om = c.mass - m;
                let q = (self.cells[ci].child + Self::quadrant(&self.cells[ci], op)) as usize;
                let leaf = &mut self.cells[q];
                leaf.x = op[0];
                leaf.y = op[1];
                leaf.mass = om;
                leaf.body = other;
            }
            // Descend into our quadrant without counting our mass twice at this cell.
            ci = (self.cells[ci].child + Self::quadrant(&self.cells[ci], p)) as usize;
        }
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
        // Depth is bounded (MIN_HALF), so a fixed stack suffices: 3 siblings wait per level.
        let mut stack = [0u32; 512];
        let mut top = 1usize;
        while top > 0 {
            top -= 1;
            let ci = stack[top];
            let c = &self.cells[ci as usize];
            if c.mass == 0.0 || c.body == i && c.child == 0 {
                continue;
            }
            let dx = p[0] - c.x;
            let dy = p[1] - c.y;
            let d2 = dx * dx + dy * dy;
            let size = 2.0 * c.half;
            if c.child == 0 || size * size < theta2 * d2 {
                if c.child == 0 && c.body != NONE && overlap {
                    let d = d2.sqrt();
                    let gap = d - r - radius[c.body as usize];
                    let (ux, uy) = if d > 0.0 {
                        (dx / d, dy / d)
                    } else {
                        deterministic_dir(i, c.body)
                    };
                    let fm = if gap > 0.0 {
                        k * m * c.mass / gap
                    } else {
                        100.0 * k * m * c.mass
                    };
                    f[0] += ux * fm;
                    f[1] += uy * fm;
                } else if d2 > 0.0 {
                    let fm = k * m * c.mass / d2; // (k m M / d) * (unit = d_vec / d)
                    f[0] += dx * fm;
                    f[1] += dy * fm;
                } else {
                    let (ux, uy) = deterministic_dir(i, c.body);
                    f[0] += ux * k * m * c.mass;
                    f[1] += uy * k * m * c.mass;
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

/// A fixed direction to separate coincident bodies, so results never depend on chance.
fn deterministic_dir(a: u32, b: u32) -> (f64, f64) {
    let h = (u64::from(a) << 32 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let angle = (h >> 11) as f64 / (1u64 << 53) as f64 * std::f64::consts::TAU;
    (angle.cos(), angle.sin())
}
