import { describe, expect, it } from 'vitest';
import { alertMachine } from '../../src/actors/alert.ts';
import { harness, rule } from './alert.fixtures.ts';

const T0 = 1_000_000;

describe('alert machine', () => {
  it('fires at once on a breach when for_seconds is 0, and resolves on a value past the threshold', () => {
    const h = harness(rule(), T0);
    h.reading(80);
    expect(h.state()).toBe('ok');
    h.advance(1_000);
    h.reading(85.2);
    expect(h.state()).toBe('firing');
    h.reading(90);
    h.advance(1_000);
    h.reading(25);
    expect(h.state()).toBe('ok');
    expect(h.written).toEqual([
      { kind: 'fire', value: 85.2, at: T0 + 1_000 },
      { kind: 'resolve', value: 25, at: T0 + 2_000 },
    ]);
  });

  it('treats the threshold itself by the operator: > 82 does not fire at 82, >= 82 does', () => {
    const strict = harness(rule(), T0);
    strict.reading(82);
    expect(strict.state()).toBe('ok');
    const inclusive = harness(rule({ operator: '>=' }), T0);
    inclusive.reading(82);
    expect(inclusive.state()).toBe('firing');
  });

  it('holds a breach in pending for for_seconds, and forgets it when the value falls back first', () => {
    const h = harness(rule({ for_seconds: 10 }), T0);
    h.reading(90);
    expect(h.state()).toBe('pending');
    h.advance(9_000);
    h.reading(70);
    expect(h.state()).toBe('ok');
    h.advance(5_000);
    expect(h.written).toEqual([]);
    h.reading(91);
    h.advance(5_000);
    h.reading(92);
    h.advance(5_000);
    expect(h.state()).toBe('firing');
    expect(h.written).toEqual([{ kind: 'fire', value: 92, at: T0 + 24_000 }]);
  });

  it('resolves only past the clear threshold (hysteresis)', () => {
    const h = harness(rule({ clear_threshold: 78 }), T0);
    h.reading(85);
    h.reading(80);
    h.reading(78.5);
    expect(h.state()).toBe('firing');
    h.reading(78);
    expect(h.state()).toBe('ok');
    expect(h.written.map((w) => [w.kind, w.value])).toEqual([['fire', 85], ['resolve', 78]]);
  });

  it('keeps firing for keep_firing_for_seconds after clearing; a new breach meanwhile starts over', () => {
    const h = harness(rule({ keep_firing_for_seconds: 5 }), T0);
    h.reading(90);
    h.reading(50);
    expect(h.state()).toBe('clearing');
    h.advance(4_000);
    h.reading(95);
    expect(h.state()).toBe('firing');
    h.reading(60);
    h.advance(3_000);
    h.reading(61);
    h.advance(2_000);
    expect(h.state()).toBe('ok');
    expect(h.written).toEqual([
      { kind: 'fire', value: 90, at: T0 },
      { kind: 'resolve', value: 61, at: T0 + 9_000 },
    ]);
  });

  it('goes to nodata after nodata_seconds without a reading, and back on the next reading', () => {
    const h = harness(rule({ nodata_seconds: 30 }), T0);
    h.reading(50);
    h.advance(20_000);
    h.reading(51);
    h.advance(29_000);
    expect(h.state()).toBe('ok');
    h.advance(1_000);
    expect(h.state()).toBe('nodata');
    h.evaluate();
    expect(h.state()).toBe('nodata');
    h.reading(90);
    expect(h.state()).toBe('firing');
  });

  it('interval mode: a rule that hears nothing goes to nodata once and stays there, cycle after cycle', () => {
    const h = harness(rule({ nodata_seconds: 10 }), T0, { timers: false });
    const states: string[] = [];
    for (let cycle = 0; cycle < 12; cycle++) {
      h.evaluate();
      states.push(h.state());
      h.advance(5_000);
    }
    // Evaluations at 0, 5 s: still ok; from 10 s on, nodata every cycle (it used to flip back to ok).
    expect(states).toEqual(['ok', 'ok', ...Array(10).fill('nodata')]);
  });

  it('interval mode: silence after a reading is nodata until a fresh reading arrives', () => {
    const h = harness(rule({ nodata_seconds: 10 }), T0, { timers: false });
    h.reading(50);
    const states: string[] = [];
    for (let cycle = 0; cycle < 8; cycle++) {
      h.advance(5_000);
      h.evaluate();
      states.push(h.state());
    }
    expect(states).toEqual(['ok', ...Array(7).fill('nodata')]);
    h.reading(51);
    expect(h.state()).toBe('ok');
  });

  it('a firing rule stays firing without data: losing the sensor is not a recovery', () => {
    const h = harness(rule({ nodata_seconds: 5 }), T0);
    h.reading(90);
    h.advance(60_000);
    expect(h.state()).toBe('firing');
    expect(h.written).toHaveLength(1);
  });

  it('an edited rule keeps its state and judges the next value by the new threshold', () => {
    const h = harness(rule(), T0);
    h.reading(85);
    h.actor.send({ type: 'RULE_UPDATED', rule: rule({ threshold: 90 }), now: T0 });
    expect(h.state()).toBe('firing');
    h.reading(88);
    expect(h.state()).toBe('ok');
    h.reading(89);
    expect(h.state()).toBe('ok');
  });

  it('draws as data: named states, delays, guards and actions in its JSON definition', () => {
    const json = JSON.stringify(alertMachine.toJSON());
    for (const name of ['"ok"', '"pending"', '"firing"', '"clearing"', '"nodata"', 'DEADLINE', 'arm', 'breachesAtOnce', 'breachHeld', 'keepOver', 'silent', 'fireAlert', 'resolveAlert']) {
      expect(json).toContain(name);
    }
  });
});

describe('alert machine restored after a restart', () => {
  /** The same readings and times, once straight through and once with a restart at `restartAfterMs`. */
  function twins(r: ReturnType<typeof rule>, script: (h: ReturnType<typeof harness>, restart: () => void) => void) {
    const straight = harness(r, T0);
    script(straight, () => {});
    const restarted = harness(r, T0);
    script(restarted, () => restarted.restart());
    return { straight, restarted };
  }

  it('mid-pending: resumes with the time left and fires once, when it would have', () => {
    const { straight, restarted } = twins(rule({ for_seconds: 10 }), (h, restart) => {
      h.reading(90);
      h.advance(4_000);
      restart();
      expect(h.state()).toBe('pending');
      h.advance(5_999);
      expect(h.written).toEqual([]);
      h.advance(1);
      h.advance(20_000);
    });
    expect(restarted.written).toEqual([{ kind: 'fire', value: 90, at: T0 + 10_000 }]);
    expect(restarted.written).toEqual(straight.written);
  });

  it('mid-pending across a downtime longer than the wait: fires once on resume, stamped at the deadline it evaluates', () => {
    const h = harness(rule({ for_seconds: 10 }), T0);
    h.reading(90);
    h.advance(2_000);
    h.restart(60_000);
    h.advance(0);
    expect(h.state()).toBe('firing');
    h.advance(10_000);
    expect(h.written).toEqual([{ kind: 'fire', value: 90, at: T0 + 10_000 }]);
  });

  it('mid-firing: no second event, and it resolves once like the twin that never stopped', () => {
    const { straight, restarted } = twins(rule(), (h, restart) => {
      h.reading(85.2);
      h.advance(1_000);
      restart();
      expect(h.state()).toBe('firing');
      h.reading(86);
      h.advance(1_000);
      h.reading(25);
    });
    expect(restarted.written).toEqual([
      { kind: 'fire', value: 85.2, at: T0 },
      { kind: 'resolve', value: 25, at: T0 + 2_000 },
    ]);
    expect(restarted.written).toEqual(straight.written);
  });

  it('mid-clearing: keeps the keep-firing deadline across the restart', () => {
    const { straight, restarted } = twins(rule({ keep_firing_for_seconds: 5 }), (h, restart) => {
      h.reading(90);
      h.reading(10);
      h.advance(3_000);
      restart();
      expect(h.state()).toBe('clearing');
      h.advance(2_000);
    });
    expect(restarted.written).toEqual([
      { kind: 'fire', value: 90, at: T0 },
      { kind: 'resolve', value: 10, at: T0 + 5_000 },
    ]);
    expect(restarted.written).toEqual(straight.written);
  });

  it('nodata: the silence measured before the restart still counts', () => {
    const h = harness(rule({ nodata_seconds: 10 }), T0);
    h.reading(50);
    h.advance(6_000);
    h.restart();
    h.advance(3_999);
    expect(h.state()).toBe('ok');
    h.advance(1);
    expect(h.state()).toBe('nodata');
  });
});
