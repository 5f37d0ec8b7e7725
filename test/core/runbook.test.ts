import { describe, expect, it } from 'vitest';
import { answerProblem, appendLog, rootMessage, type LogEntry, type PendingQuestion } from '../../src/core/runbook.js';

const question: PendingQuestion = {
  id: 'stuck-2',
  text: 'no progress for 30m',
  options: { keepWaiting: 'go on', abort: 'stop' },
  askedAt: '2026-01-01T00:00:00.000Z',
  onDeadline: 'abort',
};

describe('answerProblem', () => {
  it.each<[string, PendingQuestion | undefined, unknown, string | undefined]>([
    ['an offered option', question, { option: 'keepWaiting' }, undefined],
    ['an offered option for the pending question', question, { option: 'abort', questionId: 'stuck-2', by: 'ci', note: 'x' }, undefined],
    ['no question pending', undefined, { option: 'keepWaiting' }, 'no question is pending'],
    ['not an object', question, 'keepWaiting', 'expected {"option": one of keepWaiting, abort}'],
    ['null', question, null, 'expected {"option": one of keepWaiting, abort}'],
    ['an option not offered', question, { option: 'retry' }, '"retry" is not an answer to stuck-2; choose one of keepWaiting, abort'],
    ['no option', question, {}, '"undefined" is not an answer to stuck-2; choose one of keepWaiting, abort'],
    ['an inherited name is not an option', question, { option: 'toString' }, '"toString" is not an answer to stuck-2; choose one of keepWaiting, abort'],
    ['an earlier question', question, { option: 'keepWaiting', questionId: 'stuck-1' }, 'question stuck-1 is no longer pending (pending: stuck-2)'],
  ])('%s', (_name, q, answer, problem) => {
    expect(answerProblem(q, answer)).toBe(problem);
  });
});

describe('rootMessage', () => {
  it.each<[string, unknown, string]>([
    ['a plain error', new Error('boom'), 'boom'],
    ['the innermost cause', Object.assign(new Error('activity failed'), { cause: Object.assign(new Error('wrapped'), { cause: new Error('node n1 not found') }) }), 'node n1 not found'],
    ['a string', 'just text', 'just text'],
  ])('%s', (_name, e, message) => {
    expect(rootMessage(e)).toBe(message);
  });
});

describe('appendLog', () => {
  it('keeps the newest entries up to the limit', () => {
    const log: LogEntry[] = [];
    for (let i = 1; i <= 5; i++) appendLog(log, { at: `t${i}`, message: `m${i}` }, 3);
    expect(log.map((e) => e.message)).toEqual(['m3', 'm4', 'm5']);
  });
});
