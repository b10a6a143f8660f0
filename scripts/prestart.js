// Runs before `npm start`, `npm run migrate` and `npm run keys:rotate`.
// Development: compiles first, so a start always runs the current source.
// Production: the build was made at install time (`npm ci` runs `prepare`), so
// starting never compiles, never writes into the install, and needs no
// development dependency.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
if (process.env.NODE_ENV === 'production') {
  if (!existsSync(path.join(root, 'dist/src/main.js'))) {
    process.stderr.write('No build output in dist/: it is made at install (`npm ci --omit=dev` runs `prepare`). Run `npm run build`, then start again.\n');
    process.exit(1);
  }
  process.exit(0);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
