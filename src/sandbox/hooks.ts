import type { GmailMethod } from './quota';

/**
 * Observation points for fault tests: a test registers a hook to run its own code at a precise
 * moment of the sandbox's protocol (typically: kill the worker there) and waits for it. Nothing
 * changes while no hook is registered; the sandbox checks `active(point)` before doing any work.
 *
 *   gmail.answered  a Gmail API call was answered (any status), after the response was written
 *   llm.answered    a chat completion was answered, after the response was written
 *   send.received   a messages.send request arrived, before anything is stored; a hook that
 *                   returns 'drop' makes the sandbox store nothing and cut the connection without
 *                   an answer (a client that died just before its request reached Gmail)
 *   send.stored     a messages.send is stored (it is in the mailbox and in `sent`) but not yet
 *                   answered; the answer waits for the hooks to finish (kill the client there and
 *                   the answer never arrives)
 */

export interface HookEvents {
  'gmail.answered': { mailbox: string; method: GmailMethod; status: number; body: unknown };
  'llm.answered': { model: string; messages: Array<{ role: string; content: string }>; content: string };
  'send.received': { mailbox: string; raw: Buffer; threadId: string | undefined };
  'send.stored': { mailbox: string; messageId: string; threadId: string; raw: Buffer };
}

export type HookPoint = keyof HookEvents;

/** What a hook may answer; only 'send.received' acts on 'drop'. */
export type HookVerdict = 'drop' | undefined;

export interface HookSpec<P extends HookPoint> {
  /** Which events count (all of them when omitted). */
  when?: (event: HookEvents[P]) => boolean;
  /** Runs at the event; awaited before the sandbox goes on where the point is a blocking one. */
  run?: (event: HookEvents[P]) => HookVerdict | void | Promise<HookVerdict | void>;
}

type Listener = (event: unknown) => Promise<HookVerdict | void>;

export class SandboxHooks {
  private readonly listeners = new Map<HookPoint, Set<Listener>>();

  active(point: HookPoint): boolean {
    return (this.listeners.get(point)?.size ?? 0) > 0;
  }

  /**
   * Runs `spec.run` at the first event at `point` that `spec.when` accepts, once. Resolves with
   * that event after `run` finished (rejects if it threw).
   */
  once<P extends HookPoint>(point: P, spec: HookSpec<P> = {}): Promise<HookEvents[P]> {
    return new Promise((resolve, reject) => {
      const listener: Listener = async (raw) => {
        const event = raw as HookEvents[P];
        if (spec.when && !spec.when(event)) return undefined;
        this.remove(point, listener);
        try {
          const verdict = await spec.run?.(event);
          resolve(event);
          return verdict;
        } catch (err) {
          reject(err as Error);
          return undefined;
        }
      };
      this.add(point, listener);
    });
  }

  /** Calls `fn` at every event at `point` until the returned function is called. */
  on<P extends HookPoint>(point: P, fn: (event: HookEvents[P]) => HookVerdict | void | Promise<HookVerdict | void>): () => void {
    const listener: Listener = async (raw) => fn(raw as HookEvents[P]);
    this.add(point, listener);
    return () => this.remove(point, listener);
  }

  clear(): void {
    this.listeners.clear();
  }

  /** Called by the sandbox at a point; resolves to 'drop' when a hook asked for it. */
  async fire<P extends HookPoint>(point: P, event: HookEvents[P]): Promise<HookVerdict> {
    let verdict: HookVerdict;
    for (const listener of [...(this.listeners.get(point) ?? [])]) {
      try {
        if ((await listener(event)) === 'drop') verdict = 'drop';
      } catch {
        // A failing `on` hook is the test's problem, never the protocol's.
      }
    }
    return verdict;
  }

  private add(point: HookPoint, listener: Listener): void {
    const set = this.listeners.get(point) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(point, set);
  }

  private remove(point: HookPoint, listener: Listener): void {
    this.listeners.get(point)?.delete(listener);
  }
}
