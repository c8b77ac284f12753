import type { NodeChild } from './lib/children';
import type { BenchEnvironment } from './lib/environment';

export interface Settings {
  /** Paired rounds per case, after one warm-up pass. */
  rounds: number;
  /** Seconds of one measured wrk run, and of a warm-up run. */
  seconds: number;
  warmupSeconds: number;
  /** wrk connections for the throughput cases. */
  connections: number;
  /** Mails delivered per pipeline round, and jobs per B-jobs round. */
  pipelineMails: number;
  baselineJobs: number;
  /** Contacts and messages of the large user of the scale case (the small one has 1% of them). */
  scaleContacts: number;
  scaleMessages: number;
  /** CPU lists: servers under test, and the load generator. */
  serverCpus: string;
  loadCpus: string;
  /** Only these cases (keys as in bench/cases/*), all when empty. */
  only: string[];
  /** Cases during which the web process is CPU-profiled (bench/results/profiles/<case>.cpuprofile). */
  profile: string[];
}

/** What the cases share: the settings, the run's environment and the processes under test. */
export interface BenchContext {
  settings: Settings;
  env: BenchEnvironment;
  /** The product's web process (with the sandbox) and its URL. */
  web: NodeChild;
  webUrl: string;
  /** The baseline HTTP server (bench/baselines/server.ts) and its URL. */
  baseline: NodeChild;
  baselineUrl: string;
  /** Path of the compiled entry of a .ts file (bench/lib/build.ts). */
  compiled(entry: string): string;
  /** Environment of the product's processes. */
  productEnv: NodeJS.ProcessEnv;
  log(line: string): void;
}
