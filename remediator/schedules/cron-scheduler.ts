import cron from 'node-cron';

/** Starts a job on a cron expression in a zone; returns its stop function. Tests substitute a fake-clock driver. */
export type CronScheduler = (expression: string, timezone: string, name: string, run: () => Promise<void>) => () => void;

/** node-cron: no overlapping runs of the same job; missed runs (process asleep) are not caught up. */
export const nodeCronScheduler: CronScheduler = (expression, timezone, name, run) => {
  const task = cron.schedule(expression, () => run(), { timezone, name: `schedule-${name}`, noOverlap: true, unref: true });
  return () => void task.destroy();
};
