// Just enough of a TURN client (RFC 8656, over UDP) to ask coturn the questions the tests ask:
// will you allocate a relay with this credential (long-term credential mechanism, RFC 8489
// §9.2), and will you relay to this peer address (CreatePermission, Send indication)? Written
// for the tests from the RFCs; not used by Parley itself, whose browsers speak TURN natively.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

const MAGIC = 0x2112a442;
const METHOD = { allocate: 0x003, refresh: 0x004, createPermission: 0x008, send: 0x006 } as const;
const CLASS = { request: 0x000, indication: 0x010, success: 0x100, error: 0x110 } as const;
const ATTR = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  realm: 0x0014,
  nonce: 0x0015,
  xorPeerAddress: 0x0012,
  data: 0x0013,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
} as const;

interface Message {
  type: number;
  txid: Buffer;
  attrs: Map<number, Buffer>;
}

export type TurnOutcome = { ok: true; relayed?: string } | { ok: false; code: number; reason: string };

function encode(type: number, txid: Buffer, attrs: Array<[number, Buffer]>, integrityKey?: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const [t, v] of attrs) {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(t, 0);
    head.writeUInt16BE(v.length, 2);
    parts.push(head, v, Buffer.alloc((4 - (v.length % 4)) % 4));
  }
  let body = Buffer.concat(parts);
  const header = (length: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC, 4);
    txid.copy(h, 8);
    return h;
  };
  if (integrityKey) {
    // RFC 8489 §14.5: HMAC-SHA1 over the message so far, its length already counting the MI attribute.
    const mac = createHmac('sha1', integrityKey).update(Buffer.concat([header(body.length + 24), body])).digest();
    const head = Buffer.alloc(4);
    head.writeUInt16BE(ATTR.messageIntegrity, 0);
    head.writeUInt16BE(20, 2);
    body = Buffer.concat([body, head, mac]);
  }
  return Buffer.concat([header(body.length), body]);
}

function decode(buf: Buffer): Message | undefined {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC) return undefined;
  const attrs = new Map<number, Buffer>();
  let off = 20;
  const end = 20 + buf.readUInt16BE(2);
  while (off + 4 <= end && off + 4 <= buf.length) {
    const t = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    attrs.set(t, buf.subarray(off + 4, off + 4 + len));
    off += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), txid: buf.subarray(8, 20), attrs };
}

/** XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS for IPv4 (RFC 8489 §14.2). */
function xorAddress(ip: string, port: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(0x01, 1);
  b.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const n = ip.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
  b.writeUInt32BE((n ^ MAGIC) >>> 0, 4);
  return b;
}

function readXorAddress(b: Buffer | undefined): string | undefined {
  if (!b || b.length < 8 || b.readUInt8(1) !== 0x01) return undefined;
  const port = b.readUInt16BE(2) ^ (MAGIC >>> 16);
  const n = (b.readUInt32BE(4) ^ MAGIC) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}:${port}`;
}

function errorOf(m: Message): { code: number; reason: string } {
  const e = m.attrs.get(ATTR.errorCode);
  if (!e || e.length < 4) return { code: 0, reason: 'no ERROR-CODE' };
  return { code: (e.readUInt8(2) & 7) * 100 + e.readUInt8(3), reason: e.subarray(4).toString('utf8') };
}

export class TurnClient {
  private readonly socket: Socket;
  private realm: Buffer | undefined;
  private nonce: Buffer | undefined;
  private key: Buffer | undefined;
  private readonly pending = new Map<string, (m: Message) => void>();

  constructor(
    private readonly server: { host: string; port: number },
    private readonly username: string,
    private readonly password: string,
  ) {
    this.socket = createSocket('udp4');
    this.socket.on('message', (buf) => {
      const m = decode(buf);
      if (!m) return;
      const done = this.pending.get(m.txid.toString('hex'));
      if (done) {
        this.pending.delete(m.txid.toString('hex'));
        done(m);
      }
    });
  }

  /** Allocate (RFC 8656 §7): first unauthenticated to learn realm and nonce, then with the credential. */
  async allocate(): Promise<TurnOutcome> {
    const transport: [number, Buffer] = [ATTR.requestedTransport, Buffer.from([17, 0, 0, 0])];
    const first = await this.request(METHOD.allocate, [transport], false);
    if (first.type === (METHOD.allocate | CLASS.success)) return { ok: true, relayed: readXorAddress(first.attrs.get(ATTR.xorRelayedAddress)) };
    const err = errorOf(first);
    if (err.code !== 401) return { ok: false, ...err };
    this.realm = first.attrs.get(ATTR.realm);
    this.nonce = first.attrs.get(ATTR.nonce);
    if (!this.realm || !this.nonce) return { ok: false, code: 0, reason: 'no realm or nonce in the challenge' };
    // RFC 8489 §9.2.2: key = MD5(username ":" realm ":" password).
    this.key = createHash('md5').update(`${this.username}:${this.realm.toString('utf8')}:${this.password}`).digest();
    const second = await this.request(METHOD.allocate, [transport], true);
    if (second.type === (METHOD.allocate | CLASS.success)) return { ok: true, relayed: readXorAddress(second.attrs.get(ATTR.xorRelayedAddress)) };
    return { ok: false, ...errorOf(second) };
  }

  /** CreatePermission (RFC 8656 §9): may the relay exchange packets with this peer? */
  async permit(ip: string): Promise<TurnOutcome> {
    const m = await this.request(METHOD.createPermission, [[ATTR.xorPeerAddress, xorAddress(ip, 0)]], true);
    if (m.type === (METHOD.createPermission | CLASS.success)) return { ok: true };
    return { ok: false, ...errorOf(m) };
  }

  /** Refresh with lifetime 0 (RFC 8656 §8): gives the allocation back, so it does not outlive the test. */
  async release(): Promise<void> {
    await this.request(METHOD.refresh, [[ATTR.lifetime, Buffer.alloc(4)]], true).catch(() => undefined);
  }

  /** A Send indication (RFC 8656 §11): fire and forget, as the relay would forward it. */
  send(ip: string, port: number, data: Buffer): void {
    const msg = encode(METHOD.send | CLASS.indication, randomBytes(12), [
      [ATTR.xorPeerAddress, xorAddress(ip, port)],
      [ATTR.data, data],
    ]);
    this.socket.send(msg, this.server.port, this.server.host);
  }

  close(): void {
    this.socket.close();
  }

  private request(method: number, attrs: Array<[number, Buffer]>, authenticated: boolean): Promise<Message> {
    const txid = randomBytes(12);
    const all: Array<[number, Buffer]> = authenticated ? [...attrs, [ATTR.username, Buffer.from(this.username)], [ATTR.realm, this.realm!], [ATTR.nonce, this.nonce!]] : attrs;
    const msg = encode(method | CLASS.request, txid, all, authenticated ? this.key : undefined);
    return new Promise((resolve, reject) => {
      let tries = 0;
      const timer = setInterval(() => {
        if (++tries > 6) {
          clearInterval(timer);
          this.pending.delete(txid.toString('hex'));
          reject(new Error(`no answer from ${this.server.host}:${this.server.port}`));
          return;
        }
        this.socket.send(msg, this.server.port, this.server.host);
      }, 400);
      this.pending.set(txid.toString('hex'), (m) => {
        clearInterval(timer);
        resolve(m);
      });
      this.socket.send(msg, this.server.port, this.server.host);
    });
  }
}
