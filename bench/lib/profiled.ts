import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from '../context';
import { OUTPUT_DIR } from './children';

/** Runs `fn` with the web process CPU-profiled when the case is named in --profile. */
export async function profiled<T>(ctx: BenchContext, key: string, fn: () => Promise<T>): Promise<T> {
  if (!ctx.settings.profile.includes(key)) return fn();
  const dir = path.join(OUTPUT_DIR, 'profiles');
  mkdirSync(dir, { recursive: true });
  await ctx.web.request('profile-start', {});
  const value = await fn();
  const file = path.join(dir, `${key}.cpuprofile`);
  await ctx.web.request('profile-stop', { file });
  ctx.log(`  CPU profile of web: ${path.relative(process.cwd(), file)} (node --import tsx bench/profile-summary.ts ${path.relative(process.cwd(), file)})`);
  return value;
}
