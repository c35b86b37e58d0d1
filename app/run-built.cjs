// Runs a built entry point (`node app/run-built.cjs dist/app/main.js [args...]`), compiling first
// only when a source file changed since the last build: `npm start`, `npm run sign` and the other
// scripts start at once when nothing changed (a check of file times, no compiler), and are never
// run from a stale build. Plain JavaScript, so it runs before anything is compiled.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stamp = path.join(root, 'dist', '.built-at');
// What tsconfig.build.json compiles, and what decides how.
const SOURCES = ['app', 'config', 'emulator', 'migrations', 'bench', 'knexfile.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestChange(entry) {
  let stat;
  try {
    stat = fs.statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its directory
  for (const name of fs.readdirSync(entry)) newest = Math.max(newest, newestChange(path.join(entry, name)));
  return newest;
}

function builtAt() {
  try {
    return fs.statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

const [target, ...args] = process.argv.slice(2);
if (!target) {
  process.stderr.write('usage: node app/run-built.cjs <dist/entry.js> [args...]\n');
  process.exit(2);
}
const changed = Math.max(...SOURCES.map((s) => newestChange(path.join(root, s))));
if (changed > builtAt()) {
  const startedAt = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // The compiler's messages go to stderr: stdout is the program's (DATA=$(npm run -s sign ...)).
  const build = spawnSync(npm, ['run', '-s', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) process.exit(build.status ?? 1);
  fs.writeFileSync(stamp, '');
  // Sources edited during the build are newer than the stamp: the next run builds again.
  fs.utimesSync(stamp, new Date(startedAt), new Date(startedAt));
}
process.argv = [process.argv[0], path.resolve(root, target), ...args];
require(path.resolve(root, target));
