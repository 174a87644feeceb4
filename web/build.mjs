// Bundles the viewer with esbuild: src/main.js -> viewer.js (one ES module, minified, with the
// npm packages inside) and src/viewer.css -> viewer.css. The output folder comes from
// --outdir=DIR (crates/views/build.rs passes OUT_DIR/web); the default is dist/.
import { build } from 'esbuild';

const arg = process.argv.find((a) => a.startsWith('--outdir='));
const outdir = arg ? arg.slice('--outdir='.length) : 'dist';

await build({
  entryPoints: { viewer: 'src/main.js' },
  bundle: true,
  format: 'esm',
  target: ['es2020'],
  minify: true,
  legalComments: 'eof',
  outdir,
  entryNames: '[name]',
  logLevel: 'warning',
});
