#!/usr/bin/env node
// The console's browser test drives a real Chromium through playwright-core, which never downloads
// a browser of its own: the test uses Debian's `chromium` package. This makes sure it is there
// before `npm test` builds anything, installing it when the machine lets us (Debian/Ubuntu, root),
// and otherwise stops with the command to run, rather than letting the spec fail later with a
// launch error. `.ci/run` calls it too, before `npm ci`, so CI installs it outside the test run.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const DEFAULT_PATH = '/usr/bin/chromium';
const configured = process.env.CHROMIUM_PATH;
const executable = configured || DEFAULT_PATH;

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function fail(message) {
  console.error(`ensure-chromium: ${message}`);
  process.exit(1);
}

if (isExecutable(executable)) process.exit(0);

// A path the user chose is theirs to fix: installing Debian's package would not put a browser there.
if (configured)
  fail(
    `CHROMIUM_PATH=${configured} is not an executable file. Point it at a Chromium or Chrome binary, or unset it to use ${DEFAULT_PATH}.`,
  );

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!onPath('apt-get') || !isRoot) {
  fail(
    `Chromium is needed by the console's browser test (test/console) and was not found at ${DEFAULT_PATH}.\n` +
      `  On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium\n` +
      `  Elsewhere: install Chromium or Chrome and set CHROMIUM_PATH to its binary.\n` +
      `  (npm test installs it itself when it runs as root on a machine with apt-get.)`,
  );
}

console.log(`ensure-chromium: ${DEFAULT_PATH} not found; installing Debian's chromium package`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (result.status !== 0) fail(`apt-get ${args.join(' ')} failed (exit ${result.status ?? result.signal}); install chromium by hand.`);
}
if (!isExecutable(DEFAULT_PATH)) fail(`apt-get installed chromium but ${DEFAULT_PATH} is still missing; set CHROMIUM_PATH to its binary.`);
console.log(`ensure-chromium: installed ${DEFAULT_PATH}`);
