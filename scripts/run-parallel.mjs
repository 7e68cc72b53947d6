// Runs npm scripts side by side and fails when any of them fails: the test command's
// first stage (formatting, lint, types, unit tests and the production build), whose
// parts are each mostly one core's work, so two cores finish them in about half the
// time one after another took. Each script's output is printed whole when it ends (not
// interleaved), under a line naming it, its result and its time.
//
//   node scripts/run-parallel.mjs <script> [<script> …]
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: node scripts/run-parallel.mjs <npm script> [<npm script> …]');
  process.exit(2);
}

/** One npm script: resolves with its exit code once its output has been printed. */
function run(script) {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' },
    });
    const chunks = [];
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    const finish = (code, error) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const result = code === 0 ? 'ok' : `FAILED (${error ?? `exit ${code}`})`;
      process.stdout.write(`\n── ${script}: ${result} in ${seconds} s\n`);
      process.stdout.write(Buffer.concat(chunks));
      resolve(code);
    };
    child.on('error', (error) => finish(1, error.message));
    child.on('close', (code, signal) => finish(code ?? 1, signal ?? undefined));
  });
}

const codes = await Promise.all(scripts.map(run));
const failed = scripts.filter((_, index) => codes[index] !== 0);
if (failed.length) {
  console.error(`\nrun-parallel: ${failed.join(', ')} failed`);
  process.exit(1);
}
