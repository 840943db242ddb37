// Preloaded into a process under test (NODE_OPTIONS="--import <this file>") to run its wall clock
// VIGIL_TEST_CLOCK_AHEAD_MS ahead of the machine's: the fault of a host whose clock is off, which no
// real peer on one machine can produce. Date.now() and `new Date()` move; timers and
// performance.now() (durations) do not.
const ahead = Number(process.env.VIGIL_TEST_CLOCK_AHEAD_MS ?? 0);
if (Number.isFinite(ahead) && ahead !== 0) {
  const RealDate = globalThis.Date;
  const realNow = RealDate.now;
  class AheadDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + ahead);
      else super(...args);
    }
    static now() {
      return realNow() + ahead;
    }
  }
  globalThis.Date = AheadDate;
}
