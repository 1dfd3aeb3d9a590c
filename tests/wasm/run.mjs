// Runs a wasm32-wasi (preview1) command module under Node's node:wasi and exits with its exit code.
// Usage: node run.mjs MODULE.wasm [ARGS...]
// The module gets ARGS as argv[1..], the caller's stdin/stdout/stderr, no environment and no
// preopened directories (the core needs none).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { WASI } from 'node:wasi';

const [modulePath, ...args] = process.argv.slice(2);
if (!modulePath) {
  console.error('usage: node run.mjs MODULE.wasm [ARGS...]');
  process.exit(2);
}

const wasi = new WASI({
  version: 'preview1',
  args: [basename(modulePath), ...args],
  env: {},
  preopens: {},
  returnOnExit: true,
});
const module = await WebAssembly.compile(await readFile(modulePath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  // A trap (unreachable from abort(), out-of-bounds access, stack overflow) lands here.
  console.error(`${modulePath}: trapped: ${e && e.stack ? e.stack : e}`);
  code = 134;
}
process.exitCode = code;
