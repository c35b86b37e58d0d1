/** Time is a dependency so tests can move it; production uses the system clock. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);
