import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { OUTPUT_DIR, REPO_ROOT } from './children';

const BUILD_DIR = path.join(OUTPUT_DIR, 'build');

/**
 * Compiles the product and the bench's servers (bench/tsconfig.build.json) into
 * bench/results/build, so that they run as production runs them (plain node on compiled
 * JavaScript, no loader) without touching the shared dist/. Returns the path of a compiled entry.
 */
export function buildServers(): (entry: string) => string {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  execFileSync(path.join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(REPO_ROOT, 'bench/tsconfig.build.json')], { cwd: REPO_ROOT, stdio: 'inherit' });
  return (entry) => path.join(BUILD_DIR, entry.replace(/\.ts$/, '.js'));
}
