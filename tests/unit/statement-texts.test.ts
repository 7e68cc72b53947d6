import { describe, expect, it } from 'vitest';
import { statementTexts } from '@/lib/server/db/direct-query';

describe('statementTexts', () => {
  it('builds each variant once and hands back the very string it kept', () => {
    const text = statementTexts();
    let built = 0;
    const build = (key: string) => () => `select ${key} /* ${++built} */`;
    const first = text('a', build('a'));
    expect(text('a', build('a'))).toBe(first);
    expect(text('b', build('b'))).toBe('select b /* 2 */');
    expect(text('a', build('a'))).toBe(first);
    expect(built).toBe(2);
  });

  it('keeps no more than its limit: past it a text is built each time', () => {
    const text = statementTexts(2);
    let built = 0;
    const build = () => `select ${++built}`;
    text('a', build);
    text('b', build);
    expect(text('c', build)).toBe('select 3');
    expect(text('c', build)).toBe('select 4');
    expect(text('a', build)).toBe('select 1');
  });
});
