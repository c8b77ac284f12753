import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { OUTPUT_DIR, REPO_ROOT } from './children';

const BUILD_DIR = path.join(OUTPUT_DIR, 'build');

/** What the last build compiled: the commit, and whether the working tree differed from it. */
export let builtFrom = '';

/**
 * Compiles the product and the bench's servers (bench/tsconfig.build.json) into
 * bench/results/build, so that they run as production runs them (plain node on compiled
 * JavaScript, no loader) without touching the shared dist/. Returns the path of a compiled entry.
 */
export function buildServers(): (entry: string) => string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const changed = git('status', '--porcelain', '--', 'src', 'migrations').split('\n').filter(Boolean).length;
  builtFrom = `commit ${git('rev-parse', '--short', 'HEAD')}${changed ? ` + ${changed} uncommitted file(s) in src/ and migrations/` : ''}`;
  rmSync(BUILD_DIR, { recursive: true, force: true });
  execFileSync(path.join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', path.join(REPO_ROOT, 'bench/tsconfig.build.json')], { cwd: REPO_ROOT, stdio: 'inherit' });
  return (entry) => path.join(BUILD_DIR, entry.replace(/\.ts$/, '.js'));
}
