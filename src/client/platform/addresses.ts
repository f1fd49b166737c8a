// A session's address (issue #17): the username for a person's browser "1", so every v1 session
// keeps the key it was stored under, and `name#device` for another of their browsers. Usernames
// cannot contain "#" (wire/username.ts), so the two never collide.
export function addressOf(peer: string, device: string): string {
  return device === '1' ? peer : `${peer}#${device}`;
}

export function parseAddress(address: string): { peer: string; device: string } {
  const at = address.indexOf('#');
  return at < 0 ? { peer: address, device: '1' } : { peer: address.slice(0, at), device: address.slice(at + 1) };
}
