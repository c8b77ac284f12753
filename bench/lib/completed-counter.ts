import { QueueEvents } from 'bullmq';

/** Counts the 'completed' events of some queues (BullMQ's event stream, read by QueueEvents). */
export class CompletedCounter {
  readonly counts = new Map<string, number>();
  private readonly events: QueueEvents[];
  private waiters: Array<() => void> = [];

  constructor(names: string[], prefix: string, connection: { host: string; port: number }) {
    this.events = names.map((name) => {
      const events = new QueueEvents(name, { connection, prefix });
      events.on('completed', () => {
        this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
        for (const wake of this.waiters) wake();
      });
      return events;
    });
  }

  async ready(): Promise<void> {
    await Promise.all(this.events.map((e) => e.waitUntilReady()));
  }

  total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  /** Resolves once `name` has completed `count` jobs in all. */
  async until(name: string, count: number, timeoutMs: number, what: () => Promise<string>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.counts.get(name) ?? 0) < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} completed ${name} jobs (${this.counts.get(name) ?? 0}): ${await what()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
      this.waiters = [];
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.events.map((e) => e.close()));
  }
}
