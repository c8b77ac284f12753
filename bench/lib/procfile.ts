import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './children';

/**
 * The Node.js flags that the Procfile gives a process (`web: node <flags> dist/...`), so that the
 * bench runs the product with the same flags as production.
 */
export function procfileNodeFlags(name: 'web' | 'worker'): string[] {
  const procfile = readFileSync(path.join(REPO_ROOT, 'Procfile'), 'utf8');
  const line = new RegExp(`^${name}: node ((?:--\\S+\\s+)*)dist/`, 'm').exec(procfile);
  if (!line) throw new Error(`Procfile has no "${name}: node ... dist/..." line`);
  return line[1]!.split(/\s+/).filter(Boolean);
}
