// The link graph's nodes and edges as two sigma custom layer programs (sigma's public
// `addCustomLayerProgram`), drawn with plain (never instanced) indexed draw calls.
//
// Why not sigma's own node and edge programs: sigma 4 generates them from its primitives and
// always draws them instanced (one instance per node or edge; nodes a second time for the
// picking buffer), with no option for a plain draw. SwiftShader, Chromium's software WebGL
// on machines without a GPU, runs each instance as its own internal draw, about 20 µs each
// whatever its size on screen: 2.7 s per frame at 50,000 nodes and 200,000 edges. Here all
// nodes are one draw of points and the edges one draw of lines plus one of quads, so a frame
// costs the primitives and pixels it draws. The corners of an edge's quad come from
// gl_VertexID, so the buffers hold only positions, sizes and colours.
//
// The buffers are built once from the view's typed arrays; a style change (filters,
// selection, focus) rewrites only the colours, the sizes of edges and the index buffers, whose
// order is the drawing order (dimmed items first, so highlighted ones are drawn over them) and
// which leave out hidden items.

// Nodes are points (one vertex each): SwiftShader's cost per primitive dominates small items,
// and a point is one primitive where a quad is two triangles (15-50% less per frame).
const NODE_VS = `#version 300 es
precision highp float;
in vec2 a_pos;
in float a_size;
in vec4 a_color;
uniform mat3 u_matrix;
uniform float u_pxPerSize;
uniform float u_maxPointSize;
out vec4 v_color;
out float v_radius;
out float v_half;
void main() {
  float r = a_size * u_pxPerSize;
  // One pixel more than the radius, for the anti-aliased rim; the point size is capped by the
  // implementation (255 px or more), which only very close zooms reach.
  float size = min(2.0 * (r + 1.0), u_maxPointSize);
  gl_Position = vec4((u_matrix * vec3(a_pos, 1.0)).xy, 0.0, 1.0);
  gl_PointSize = size;
  v_color = a_color;
  v_half = size * 0.5;
  v_radius = min(r, v_half - 1.0);
}`;

const NODE_FS = `#version 300 es
precision mediump float;
in vec4 v_color;
in float v_radius;
in float v_half;
out vec4 fragColor;
void main() {
  vec2 offset = (gl_PointCoord * 2.0 - 1.0) * v_half;
  float a = clamp(v_radius + 0.5 - length(offset), 0.0, 1.0);
  if (a <= 0.0) discard;
  fragColor = vec4(v_color.rgb * v_color.a * a, v_color.a * a);
}`;

const EDGE_VS = `#version 300 es
precision highp float;
in vec2 a_source;
in vec2 a_target;
in float a_size;
in vec4 a_color;
uniform mat3 u_matrix;
uniform vec2 u_resolution;
uniform float u_pxPerSize;
uniform float u_pixelRatio;
uniform float u_lines;
out vec4 v_color;
out vec2 v_local;
out float v_ring;
out float v_half;
void main() {
  int k = gl_VertexID & 3;
  float side = float(k & 1) * 2.0 - 1.0;
  vec2 s = (u_matrix * vec3(a_source, 1.0)).xy;
  vec2 t = (u_matrix * vec3(a_target, 1.0)).xy;
  // Thinner than a pixel: drawn one pixel wide and fainter instead.
  float w = a_size * u_pxPerSize;
  float minW = u_pixelRatio;
  float alpha = w < minW ? w / minW : 1.0;
  w = max(w, minW);
  v_color = vec4(a_color.rgb, a_color.a * alpha);
  v_half = w * 0.5;
  if (a_source == a_target) {
    // A self-loop: a ring above the node, its quad around the ring's centre.
    float ring = max(5.0 * u_pixelRatio, 3.0 * w);
    float half_ = ring + w * 0.5 + 1.0;
    vec2 corner = vec2(side, float(k >> 1) * 2.0 - 1.0);
    vec2 centre = s + vec2(0.0, ring) * 2.0 / u_resolution;
    gl_Position = vec4(centre + corner * half_ * 2.0 / u_resolution, 0.0, 1.0);
    v_local = corner * half_;
    v_ring = ring;
    return;
  }
  vec2 px = (t - s) * u_resolution * 0.5;
  float len = length(px);
  vec2 n = len > 0.0 ? vec2(-px.y, px.x) / len : vec2(0.0, 1.0);
  // Lines: no offset, the rasteriser draws one pixel across.
  float half_ = u_lines > 0.5 ? 0.0 : w * 0.5 + 0.5;
  vec2 p = (k >> 1) == 0 ? s : t;
  gl_Position = vec4(p + n * side * half_ * 2.0 / u_resolution, 0.0, 1.0);
  v_local = vec2(side * half_, 0.0);
  v_ring = 0.0;
}`;

const EDGE_FS = `#version 300 es
precision mediump float;
in vec4 v_color;
in vec2 v_local;
in float v_ring;
in float v_half;
out vec4 fragColor;
void main() {
  // Distance from the centre line (a straight edge) or from the ring (a self-loop), in px.
  float d = abs(length(v_local) - v_ring);
  float a = clamp(v_half + 0.5 - d, 0.0, 1.0) * v_color.a;
  if (a <= 0.0) discard;
  fragColor = vec4(v_color.rgb * a, a);
}`;

function compile(gl, vs, fs) {
  const program = gl.createProgram();
  for (const [type, src] of [
    [gl.VERTEX_SHADER, vs],
    [gl.FRAGMENT_SHADER, fs],
  ]) {
    const sh = gl.createShader(type);
    gl.shaderSource(sh, src);
    gl.compileShader(sh);
    if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) throw new Error(`graph shader: ${gl.getShaderInfoLog(sh)}`);
    gl.attachShader(program, sh);
    gl.deleteShader(sh);
  }
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(`graph program: ${gl.getProgramInfoLog(program)}`);
  return program;
}

// Quads as two triangles over the 4 vertices of each item: (0, 1, 2) and (1, 3, 2).
export function quadIndices(items, out) {
  for (let i = 0; i < items.length; i++) {
    const v = items[i] * 4;
    const o = i * 6;
    out[o] = v;
    out[o + 1] = v + 1;
    out[o + 2] = v + 2;
    out[o + 3] = v + 1;
    out[o + 4] = v + 3;
    out[o + 5] = v + 2;
  }
}

// Lines from the first vertex of each item's source end to the first of its target end.
export function lineIndices(items, out) {
  for (let i = 0; i < items.length; i++) {
    out[i * 2] = items[i] * 4;
    out[i * 2 + 1] = items[i] * 4 + 2;
  }
}

// Device pixels per unit of `size` at the current camera: sigma's own scale (its size ratio
// shrinks items more slowly than the zoom).
export function pxPerSize(params) {
  return params.pixelRatio / params.sizeRatio;
}

// Edges up to this width (device px) are drawn as 1-pixel lines, fainter when thinner: a line
// fills a third to a half of the pixels of the anti-aliased quad.
const LINE_MAX_WIDTH = 1.5;

// One layer program: a static buffer (positions, sizes of nodes), a style buffer rewritten on
// restyle (colours; sizes of edges), index buffers (which items, in what order). Nodes have
// one vertex each and are drawn as points; edges four, drawn in size order (dimmed ones first,
// they are the thinnest): the thin ones as lines, the rest as quads.
class Layer {
  constructor(gl, source, kind) {
    this.gl = gl;
    this.source = source;
    this.kind = kind;
    this.program = kind === 'node' ? compile(gl, NODE_VS, NODE_FS) : compile(gl, EDGE_VS, EDGE_FS);
    this.loc = {};
    for (const u of ['u_matrix', 'u_resolution', 'u_pxPerSize', 'u_pixelRatio', 'u_maxPointSize', 'u_lines']) this.loc[u] = gl.getUniformLocation(this.program, u);
    this.maxPointSize = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE)[1];
    this.vao = gl.createVertexArray();
    this.geometry = gl.createBuffer();
    this.style = gl.createBuffer();
    this.sizes = gl.createBuffer();
    this.index = gl.createBuffer();
    this.lineIndex = gl.createBuffer();
    this.uploaded = { geometry: -1, style: -1 };
    this.drawn = 0;
  }

  attrib(name, buffer, size, type, normalized, stride, offset) {
    const gl = this.gl;
    const at = gl.getAttribLocation(this.program, name);
    if (at < 0) return;
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.enableVertexAttribArray(at);
    gl.vertexAttribPointer(at, size, type, normalized, stride, offset);
  }

  upload() {
    const gl = this.gl;
    const d = this.source[this.kind];
    if (!d) return false;
    if (this.uploaded.geometry !== d.geometryVersion) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.geometry);
      gl.bufferData(gl.ARRAY_BUFFER, d.geometry, gl.STATIC_DRAW);
      if (this.kind === 'node') {
        // x, y, size per vertex
        this.attrib('a_pos', this.geometry, 2, gl.FLOAT, false, 12, 0);
        this.attrib('a_size', this.geometry, 1, gl.FLOAT, false, 12, 8);
      } else {
        // source x, y, target x, y per vertex
        this.attrib('a_source', this.geometry, 2, gl.FLOAT, false, 16, 0);
        this.attrib('a_target', this.geometry, 2, gl.FLOAT, false, 16, 8);
        this.attrib('a_size', this.sizes, 1, gl.FLOAT, false, 4, 0);
      }
      this.attrib('a_color', this.style, 4, gl.UNSIGNED_BYTE, true, 4, 0);
      this.uploaded.geometry = d.geometryVersion;
    }
    if (this.uploaded.style !== d.styleVersion) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.style);
      gl.bufferData(gl.ARRAY_BUFFER, d.colors, gl.DYNAMIC_DRAW);
      if (this.kind === 'node') {
        gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.index);
        gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, d.indices.subarray(0, d.drawn), gl.DYNAMIC_DRAW);
      } else {
        gl.bindBuffer(gl.ARRAY_BUFFER, this.sizes);
        gl.bufferData(gl.ARRAY_BUFFER, d.sizes, gl.DYNAMIC_DRAW);
        gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.lineIndex);
        gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, d.lineIndices.subarray(0, d.drawn * 2), gl.DYNAMIC_DRAW);
        gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.index);
        gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, d.indices.subarray(0, d.drawn * 6), gl.DYNAMIC_DRAW);
      }
      this.drawn = d.drawn;
      this.uploaded.style = d.styleVersion;
    }
    gl.bindBuffer(gl.ARRAY_BUFFER, null);
    return true;
  }

  render(params) {
    const gl = this.gl;
    gl.bindVertexArray(this.vao);
    if (!this.upload() || this.drawn === 0) {
      gl.bindVertexArray(null);
      return;
    }
    gl.useProgram(this.program);
    gl.uniformMatrix3fv(this.loc.u_matrix, false, params.matrix);
    gl.uniform2f(this.loc.u_resolution, params.width * params.pixelRatio, params.height * params.pixelRatio);
    gl.uniform1f(this.loc.u_pxPerSize, pxPerSize(params));
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.uniform1f(this.loc.u_maxPointSize, this.maxPointSize);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.index);
    gl.drawElements(gl.POINTS, this.drawn, gl.UNSIGNED_INT, 0);
    gl.bindVertexArray(null);
  }

  kill() {
    const gl = this.gl;
    gl.deleteProgram(this.program);
    gl.deleteVertexArray(this.vao);
    for (const b of [this.geometry, this.style, this.sizes, this.index, this.lineIndex]) gl.deleteBuffer(b);
  }
}


const COMPOSITE_VS = `#version 300 es
precision highp float;
uniform mat3 u_transform;
out vec2 v_uv;
void main() {
  vec2 corner = vec2(float(gl_VertexID & 1) * 2.0 - 1.0, float(gl_VertexID >> 1) * 2.0 - 1.0);
  gl_Position = vec4((u_transform * vec3(corner, 1.0)).xy, 0.0, 1.0);
  v_uv = (corner + 1.0) * 0.5;
}`;

const COMPOSITE_FS = `#version 300 es
precision mediump float;
uniform sampler2D u_texture;
in vec2 v_uv;
out vec4 fragColor;
void main() {
  fragColor = texture(u_texture, v_uv);
}`;

// Column-major 3x3 matrices (as WebGL takes them).
function mul3(a, b) {
  const o = new Float32Array(9);
  for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) o[c * 3 + r] = a[r] * b[c * 3] + a[3 + r] * b[c * 3 + 1] + a[6 + r] * b[c * 3 + 2];
  return o;
}

function inv3(m) {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!det) return null;
  return Float32Array.from([A, -(b * i - c * h), b * f - c * e, B, a * i - c * g, -(a * f - c * d), C, -(a * h - b * g), a * e - b * d], (v) => v / det);
}

const IDENTITY = Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);

// The edges are drawn into a texture of the canvas's size, not onto the canvas: a frame with
// all 200,000 edges of a 50,000-node graph takes 1-3 s of software rendering, which would
// stall every frame after it (a drag starting then waits for it). So a still camera draws
// the edges in chunks, one per frame, sized to keep frames near 100 ms, adding to the
// texture, and every frame composites the texture (one quad). While the camera moves, the
// last texture is drawn moved and scaled with the camera (no edge is redrawn) and filled in
// again when it stops. Restyling starts a new texture.
const CHUNK_FIRST = 20000;
const CHUNK_MIN = 2000;
const FRAME_TARGET_MS = 100;

class EdgeLayer extends Layer {
  constructor(gl, source) {
    super(gl, source, 'edge');
    this.composite = compile(gl, COMPOSITE_VS, COMPOSITE_FS);
    this.compositeLoc = { u_transform: gl.getUniformLocation(this.composite, 'u_transform'), u_texture: gl.getUniformLocation(this.composite, 'u_texture') };
    this.emptyVao = gl.createVertexArray();
    this.texture = null;
    this.fbo = gl.createFramebuffer();
    this.cache = null; // { matrix, scale, style, geometry, done }
    this.chunk = CHUNK_FIRST;
    this.lastChunkAt = 0;
  }

  ensureTexture(w, h) {
    const gl = this.gl;
    if (this.texture && this.tw === w && this.th === h) return;
    if (this.texture) gl.deleteTexture(this.texture);
    this.texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    for (const [k, v] of [
      [gl.TEXTURE_MIN_FILTER, gl.LINEAR],
      [gl.TEXTURE_MAG_FILTER, gl.LINEAR],
      [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE],
      [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE],
    ])
      gl.texParameteri(gl.TEXTURE_2D, k, v);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.fbo);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, this.texture, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.tw = w;
    this.th = h;
    this.cache = null;
  }

  // Edges [from, to) of the drawing order into the bound framebuffer: the thin ones (the
  // first `split`) as lines, the others as quads.
  drawRange(params, from, to) {
    const gl = this.gl;
    const scale = pxPerSize(params);
    gl.useProgram(this.program);
    gl.uniformMatrix3fv(this.loc.u_matrix, false, params.matrix);
    gl.uniform2f(this.loc.u_resolution, params.width * params.pixelRatio, params.height * params.pixelRatio);
    gl.uniform1f(this.loc.u_pxPerSize, scale);
    gl.uniform1f(this.loc.u_pixelRatio, params.pixelRatio);
    const sorted = this.source.edge.sortedSizes;
    const limit = LINE_MAX_WIDTH / scale;
    let lo = 0;
    let hi = this.drawn;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= limit) lo = mid + 1;
      else hi = mid;
    }
    const split = lo;
    if (from < split) {
      const end = Math.min(to, split);
      gl.uniform1f(this.loc.u_lines, 1);
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.lineIndex);
      gl.drawElements(gl.LINES, (end - from) * 2, gl.UNSIGNED_INT, from * 2 * 4);
    }
    if (to > split) {
      const start = Math.max(from, split);
      gl.uniform1f(this.loc.u_lines, 0);
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.index);
      gl.drawElements(gl.TRIANGLES, (to - start) * 6, gl.UNSIGNED_INT, start * 6 * 4);
    }
  }

  render(params) {
    const gl = this.gl;
    const d = this.source.edge;
    const w = Math.round(params.width * params.pixelRatio);
    const h = Math.round(params.height * params.pixelRatio);
    gl.bindVertexArray(this.vao);
    const ok = this.upload();
    gl.bindVertexArray(null);
    if (!ok || !w || !h) return;
    this.ensureTexture(w, h);
    const scale = pxPerSize(params);
    let cache = this.cache;
    if (cache && (cache.style !== d.styleVersion || cache.geometry !== d.geometryVersion)) cache = this.cache = null;
    const full = this.source.fullFrame;
    if (this.source.moving() && !full) {
      // Moving: the last texture, moved with the camera.
      if (cache && cache.done > 0) {
        const back = inv3(cache.matrix);
        if (back) this.blit(mul3(params.matrix, back));
      }
      return;
    }
    const same = cache && cache.scale === scale && cache.matrix.every((v, i) => v === params.matrix[i]);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.fbo);
    gl.viewport(0, 0, w, h);
    if (!same) {
      const clear = gl.getParameter(gl.COLOR_CLEAR_VALUE);
      gl.clearColor(0, 0, 0, 0);
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.clearColor(clear[0], clear[1], clear[2], clear[3]);
      cache = this.cache = { matrix: Float32Array.from(params.matrix), scale, style: d.styleVersion, geometry: d.geometryVersion, done: 0 };
    }
    if (cache.done < this.drawn) {
      const now = performance.now();
      // The time since the previous chunk is the frame time it caused (frames wait for the
      // software renderer): aim the next chunk at FRAME_TARGET_MS.
      if (cache.done > 0 && this.lastChunkAt) {
        const took = now - this.lastChunkAt;
        this.chunk = Math.max(CHUNK_MIN, Math.round(this.chunk * Math.min(2, Math.max(0.5, FRAME_TARGET_MS / Math.max(1, took)))));
      }
      this.lastChunkAt = now;
      const to = full ? this.drawn : Math.min(this.drawn, cache.done + this.chunk);
      gl.bindVertexArray(this.vao);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      this.drawRange(params, cache.done, to);
      gl.bindVertexArray(null);
      cache.done = to;
      if (to < this.drawn) this.source.requestFrame();
    }
    d.progress = this.drawn ? cache.done / this.drawn : 1;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, w, h);
    this.blit(IDENTITY);
  }

  // The texture onto the canvas, its corners through `transform` (clip space to clip space).
  blit(transform) {
    const gl = this.gl;
    gl.useProgram(this.composite);
    gl.bindVertexArray(this.emptyVao);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.uniform1i(this.compositeLoc.u_texture, 0);
    gl.uniformMatrix3fv(this.compositeLoc.u_transform, false, transform);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
    gl.bindTexture(gl.TEXTURE_2D, null);
  }

  kill() {
    super.kill();
    const gl = this.gl;
    gl.deleteProgram(this.composite);
    gl.deleteVertexArray(this.emptyVao);
    gl.deleteFramebuffer(this.fbo);
    if (this.texture) gl.deleteTexture(this.texture);
  }
}

// `source` holds the CPU-side arrays and the view's hooks: { node, edge, moving(),
// requestFrame(), fullFrame } (see GraphView). The
// factories are called again by sigma after a lost WebGL context is restored; the new
// programs upload everything again from `source`.
export function nodeLayer(source) {
  return (gl) => new Layer(gl, source, 'node');
}

export function edgeLayer(source) {
  return (gl) => new EdgeLayer(gl, source);
}
