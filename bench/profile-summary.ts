import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or what `npm run bench -- --profile=<case>`
 * writes into bench/results/profiles): CPU time charged to the package or product folder that
 * caused it, self time by package, and the hottest functions.
 * Usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Package or product folder of a frame; null for Node.js internals and native code. */
function packageOf(url: string): string | null {
  if (!url || url.startsWith('node:')) return null;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src\/[^/]+|bench\/(?!results)[^/]+)/.exec(url);
  return own ? own[1]! : url;
}

function owner(url: string): string {
  if (!url) return '(native / idle / gc)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src\/[^/]+|bench\/(?!results)[^/]+)/.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

function main() {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: bench/profile-summary.ts <file.cpuprofile> [top]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native code and Node.js internals are charged to the nearest package or product frame above
  // them (a socket write to the library that wrote), so that each package shows what it costs.
  const causeOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const found = packageOf(byId.get(at)!.callFrame.url);
      if (found) return found;
    }
    const name = byId.get(id)!.callFrame.functionName;
    return name === '(garbage collector)' ? '(garbage collector)' : '(Node.js, no package above)';
  };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  const byOwner = new Map<string, number>();
  const byCause = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
    total += us;
    byOwner.set(owner(frame.url), (byOwner.get(owner(frame.url)) ?? 0) + us);
    byCause.set(causeOf(id), (byCause.get(causeOf(id)) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/(src|bench\/(?!results))/, '$1')}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const top = Number(topArg ?? 25);
  const show = (title: string, m: Map<string, number>, n: number) => {
    process.stdout.write(`\n${title} (share of ${Math.round(total / 1000)} ms busy CPU)\n`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}\n`);
  };
  show('CPU time charged to the nearest package / folder (natives and Node.js internals to their caller)', byCause, 25);
  show('self time by package / folder', byOwner, 20);
  show('hottest functions (self time)', byFunction, top);
}

main();
