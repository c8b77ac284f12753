import { DelayedError, type Job } from 'bullmq';

/** Puts the job back until `at` without spending one of its attempts. */
export async function delayJob(job: Job, token: string | undefined, at: Date): Promise<never> {
  await job.moveToDelayed(Math.max(at.getTime(), Date.now() + 100), token);
  throw new DelayedError();
}
