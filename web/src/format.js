// Number and time formatting shared by the views, and small DOM helpers. Text from logs only
// ever reaches the page through textContent or d3's .text(), never innerHTML.
import { format } from 'd3';

export const fmtInt = format(',d');
export const fmtShort = format('~s');

export function fmtTime(us) {
  if (us === null || us === undefined) return '';
  return new Date(us / 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function label(v) {
  return v === null || v === undefined ? '(none)' : String(v);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

export function download(name, blob) {
  const a = el('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

// Serialises a chart's SVG element (with its computed colours inlined) for export.
export function svgBlob(svg) {
  const clone = svg.cloneNode(true);
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  const style = getComputedStyle(svg);
  clone.style.setProperty('background', style.getPropertyValue('--sv-bg') || '#fff');
  clone.style.setProperty('font-family', 'sans-serif');
  const src = svg.querySelectorAll('*');
  clone.querySelectorAll('*').forEach((n, i) => {
    const cs = getComputedStyle(src[i]);
    for (const p of ['fill', 'stroke', 'stroke-width', 'opacity', 'font-size']) n.style.setProperty(p, cs.getPropertyValue(p));
  });
  return new Blob([new XMLSerializer().serializeToString(clone)], { type: 'image/svg+xml' });
}

export async function svgToPngBlob(svg, scale = 2) {
  const { width, height } = svg.getBoundingClientRect();
  const url = URL.createObjectURL(svgBlob(svg));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * scale);
    canvas.height = Math.ceil(height * scale);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = getComputedStyle(svg).getPropertyValue('--sv-bg') || '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise((r) => canvas.toBlob(r, 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}
