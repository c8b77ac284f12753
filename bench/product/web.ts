import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { configOrExit, closeOnSignals, processLogger } from '../../src/main/run';
import { startSystem } from '../../src/main/system';

/**
 * The product's web process for the bench: what src/main/web.ts does (same config, same
 * startSystem), plus IPC requests: Pub/Sub push tokens signed with the sandbox's Google key, which
 * exists only in this process (src/sandbox/signing-keys.ts), a CPU profile of a chosen window
 * (what `node --cpu-prof` records, without start-up and set-up in it), and its heap figures.
 */
async function main() {
  const config = configOrExit();
  const logger = processLogger(config, 'web');
  const system = await startSystem({ config, logger, web: true, worker: false });
  closeOnSignals(logger, () => system.close());

  const inspector = new Session();
  inspector.connect();
  process.on('message', (msg: { type?: string; count?: number; file?: string }) => {
    if (msg.type === 'profile-start') {
      void inspector.post('Profiler.enable').then(() => inspector.post('Profiler.start')).then(() => process.send?.({ type: 'profile-start:reply' }));
      return;
    }
    if (msg.type === 'profile-stop') {
      void inspector.post('Profiler.stop').then(({ profile }) => {
        writeFileSync(msg.file!, JSON.stringify(profile));
        process.send?.({ type: 'profile-stop:reply' });
      });
      return;
    }
    if (msg.type === 'memory-usage') {
      // Heap figures now and after a full collection (what is live vs what V8 keeps for later).
      const before = process.memoryUsage();
      v8.setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
      process.send?.({ type: 'memory-usage:reply', before, afterGc: process.memoryUsage() });
      return;
    }
    if (msg.type !== 'sign-push-tokens' || !system.sandbox) return;
    const iat = Math.floor(Date.now() / 1000);
    // The claims Pub/Sub puts in a push token (as the sandbox's own pushes and test/api/webhooks.test.ts).
    const tokens = Array.from({ length: msg.count ?? 1 }, (_, i) =>
      system.sandbox!.signToken({
        iss: 'https://accounts.google.com',
        aud: config.google.pushAudience,
        azp: '112233445566778899001',
        sub: '112233445566778899001',
        email: config.google.pushServiceAccount,
        email_verified: true,
        iat: iat - i, // distinct tokens
        exp: iat + 3600,
      }),
    );
    process.send?.({ type: 'sign-push-tokens:reply', tokens });
  });
  process.send?.({ type: 'ready', url: system.url });
}

void main().catch((err: unknown) => {
  process.stderr.write(`web failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
