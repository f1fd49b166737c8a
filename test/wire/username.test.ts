import { describe, expect, it } from 'vitest';
import { normalizeUsername } from '../../src/wire/username.ts';

const ok = (raw: string) => {
  const r = normalizeUsername(raw);
  return r.ok ? r.username : undefined;
};

describe('usernames', () => {
  it('folds case and compatibility forms onto one account name', () => {
    expect(ok('Alice')).toBe('alice');
    expect(ok('ALICE')).toBe('alice');
    expect(ok('ａｌｉｃｅ')).toBe('alice'); // fullwidth letters (NFKC)
    expect(ok('  alice ')).toBe('alice');
    expect(ok('a.b-c_1')).toBe('a.b-c_1');
  });

  it('refuses look-alikes from other scripts instead of making a second "alice"', () => {
    expect(ok('аlice')).toBeUndefined(); // Cyrillic а
    expect(ok('alıce')).toBeUndefined(); // dotless ı
    expect(ok('al ice')).toBeUndefined();
    expect(ok('alice\u200b')).toBeUndefined(); // zero-width space
  });

  it('enforces 3 to 32 characters with a message a person can act on', () => {
    const short = normalizeUsername('ab');
    expect(short.ok).toBe(false);
    expect(!short.ok && short.message).toMatch(/at least 3/);
    expect(ok('abc')).toBe('abc');
    expect(ok('a'.repeat(32))).toBe('a'.repeat(32));
    const long = normalizeUsername('a'.repeat(33));
    expect(!long.ok && long.message).toMatch(/at most 32/);
    expect(normalizeUsername('x'.repeat(10_000)).ok).toBe(false);
    expect(normalizeUsername('').ok).toBe(false);
  });
});
