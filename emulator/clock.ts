/** Emulator time: real time plus an offset that tests move forward with advanceClock. */
export interface EmulatorClock {
  /** Unix seconds. */
  now(): number;
  advance(seconds: number): void;
  /** Seconds the clock has been moved forward in all (what a state file keeps). */
  offset(): number;
  /** Restores an offset saved earlier (persistence.ts). */
  setOffset(seconds: number): void;
}

export function createClock(): EmulatorClock {
  let offset = 0;
  return {
    now: () => Math.floor(Date.now() / 1000) + offset,
    advance: (seconds: number) => {
      if (!Number.isFinite(seconds)) throw new TypeError('advanceClock: seconds must be a finite number');
      offset += Math.trunc(seconds);
    },
    offset: () => offset,
    setOffset: (seconds: number) => {
      if (!Number.isInteger(seconds)) throw new TypeError('clock offset must be an integer number of seconds');
      offset = seconds;
    },
  };
}
