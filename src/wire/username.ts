// Usernames as people type them and as the server compares them. NFKC folds compatibility
// forms (fullwidth "Ａ", ligatures) onto their plain letters, lower-casing folds case, and the
// ASCII allow-list then refuses every other script, so "Alice", "alice", "ａｌｉｃｅ" and a Cyrillic
// "аlice" can never be two different accounts that look the same.

export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;
const USERNAME_PATTERN = /^[a-z0-9_.-]+$/;
/** Raw input longer than this is refused before normalisation does any work on it. */
const RAW_MAX = 128;

export type Username = string & { readonly __brand: 'Username' };

export type UsernameCheck = { ok: true; username: Username } | { ok: false; message: string };

/**
 * True if `raw` is already a username in its normal form, as normalizeUsername would return it:
 * then it has nothing to fold (plain lower-case ASCII, no spaces), and the relay skips the work.
 */
export function isNormalUsername(raw: string): raw is Username {
  return raw.length >= USERNAME_MIN && raw.length <= USERNAME_MAX && USERNAME_PATTERN.test(raw);
}

export function normalizeUsername(raw: string): UsernameCheck {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, message: 'Choose a username.' };
  if (raw.length > RAW_MAX) return { ok: false, message: `A username has at most ${USERNAME_MAX} characters.` };
  const folded = raw.trim().normalize('NFKC').toLowerCase();
  if (folded.length < USERNAME_MIN) {
    return { ok: false, message: `A username has at least ${USERNAME_MIN} characters.` };
  }
  if (folded.length > USERNAME_MAX) {
    return { ok: false, message: `A username has at most ${USERNAME_MAX} characters.` };
  }
  if (!USERNAME_PATTERN.test(folded)) {
    return {
      ok: false,
      message: 'A username may use only the letters a–z, digits, and . _ -',
    };
  }
  return { ok: true, username: folded as Username };
}
