// Copies the built files of the npm packages the app uses into the app's static folder and
// writes vendor/MANIFEST.json (package, version from package-lock.json, licence, sha256 of
// each file), so the robot serves them with no npm and no internet, and a test can tell a
// hand-edited or stale copy. Run: `npm ci --ignore-scripts && node build.mjs` (make web).
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, '..', 'src', 'mower_app', 'mower_app', 'static', 'vendor');
const lock = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8'));

// package -> the files of its published build that the app loads
const PACKAGES = {
  leaflet: ['dist/leaflet.js', 'dist/leaflet.css', 'dist/images', 'LICENSE'],
  // drawing and editing shapes on the map (its build bundles its turf, lodash and polyclip-ts
  // parts, all MIT)
  '@geoman-io/leaflet-geoman-free': [
    'dist/leaflet-geoman.min.js',
    'dist/leaflet-geoman.css',
    'LICENSE',
  ],
};

function files(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => files(join(path, name)));
}

rmSync(vendor, { recursive: true, force: true });
const manifest = {};
for (const [name, wanted] of Object.entries(PACKAGES)) {
  const root = join(here, 'node_modules', name);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const locked = lock.packages[`node_modules/${name}`];
  if (!locked || locked.version !== pkg.version) {
    throw new Error(`${name}: node_modules has ${pkg.version}, the lockfile ${locked?.version}: run npm ci`);
  }
  const out = join(vendor, name);
  const hashes = {};
  for (const item of wanted) {
    const src = join(root, item);
    const dst = join(out, item.replace(/^dist\//, ''));
    mkdirSync(dirname(dst), { recursive: true });
    cpSync(src, dst, { recursive: true });
    for (const f of files(dst)) {
      hashes[relative(vendor, f)] = createHash('sha256').update(readFileSync(f)).digest('hex');
    }
  }
  manifest[name] = { version: pkg.version, license: pkg.license, integrity: locked.integrity, files: hashes };
}
writeFileSync(join(vendor, 'MANIFEST.json'), JSON.stringify(manifest, null, 1) + '\n');
console.log(`vendored ${Object.keys(manifest).join(', ')} into ${relative(process.cwd(), vendor)}`);
