// What the server accepts as a password. bcrypt reads only 72 bytes, so the server pre-hashes
// before bcrypt (see server/auth/password-hasher.ts) and the limit here is about abuse, not bcrypt:
// long passphrases in any script are welcome, megabyte bodies are not.

export const PASSWORD_MIN_CHARS = 8;
export const PASSWORD_MAX_CHARS = 256;

export type PasswordCheck = { ok: true } | { ok: false; message: string };

export function checkNewPassword(password: string): PasswordCheck {
  const chars = [...password].length;
  if (chars < PASSWORD_MIN_CHARS) {
    return { ok: false, message: `Use at least ${PASSWORD_MIN_CHARS} characters for your password.` };
  }
  if (chars > PASSWORD_MAX_CHARS) {
    return { ok: false, message: `A password has at most ${PASSWORD_MAX_CHARS} characters.` };
  }
  return { ok: true };
}
