// Files over the direct channel (issue #8): offered inside the ratchet with a per-file key,
// then streamed in 64 KiB chunks sealed under that key (protocol/file-chunks.ts), paced by the
// channel's buffer so nothing piles up in memory, written on arrival to the origin-private file
// system at their offsets, and checked at the end against a root hash that also came inside the
// ratchet. A transfer survives a dropped channel: the receiver checkpoints what it has, and when
// the sender offers the same file again on the next call, it asks for the rest.
// Reading, hashing, sealing, opening and writing happen in a worker (platform/file-worker.ts,
// issue #19); this page keeps the order, the records and the channel.
import { decodeBase64url, encodeBase64url, type CancelReason, type Payload } from '../../wire/index.ts';
import { concatBytes, toHex } from '../../crypto/bytes.ts';
import { importAesKey } from '../../crypto/aead.ts';
import { webRandom } from '../../crypto/random.ts';
import { FILE_CHUNK_BYTES, FILE_KEY_BYTES, chunkCount, chunkHash, peekChunk, rootHash } from '../../protocol/file-chunks.ts';
import { isFinished, type FileStatus, type HistoryStore, type MessageRecord, type TransferRecord } from '../platform/history-store.ts';
import { freeSpace, readFile, removeFile } from '../platform/file-store.ts';
import { FileWorker, type FileSink, type SealedWindow } from '../platform/file-worker-client.ts';
import { newId } from './ids.ts';
import { makeThumbnail } from './thumbnail.ts';

/** The direct channel as transfers need it. */
export interface FileChannel {
  send(bytes: Uint8Array): boolean;
  /** Sends when the channel's buffer has room; false if the channel closed meanwhile. */
  sendPaced(bytes: Uint8Array): Promise<boolean>;
}

export interface FileEvents {
  /** Progress or status of a file message changed. */
  changed(peer: string, id: string, bytes: number, status: FileStatus): void;
}

/** Seals a payload for the peer (through the ratchet) and sends it on the channel. */
export type SendPayload = (peer: string, payload: Payload, channel: FileChannel) => Promise<boolean>;

const CHECKPOINT_EVERY = 256; // chunks: 16 MiB between commits to disk
const PROGRESS_EVERY_MS = 200;
/** Chunks read and sealed at a time (1 MiB); the next window is sealed while this one is sent. */
const SEAL_WINDOW = 16;

/** How a failed write reads: the browser out of room for this origin, or anything else. */
const storageFailure = (e: unknown): CancelReason =>
  typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'QuotaExceededError' ? 'no-space' : 'not-saved';

/** The cancel a receiver sends for a transfer it ended with `status`, with the reason when it has one. */
function cancelFor(id: string, status: FileStatus): Payload {
  return status === 'no-space' || status === 'not-saved' ? { type: 'file-cancel', id, reason: status } : { type: 'file-cancel', id };
}

/** A transfer of `file` to `peer` about to start, under the file's key. */
function outgoingRecord(id: string, peer: string, file: File, key: Uint8Array): TransferRecord {
  return { id, peer, direction: 'out', name: file.name || 'file', size: file.size, mime: file.type, chunks: chunkCount(file.size), key, next: 0, hashes: new Uint8Array(0), status: 'sending' };
}

interface Outgoing {
  record: TransferRecord;
  file: Blob;
  key: CryptoKey;
  hashes: Uint8Array[];
  pumping: boolean;
  /** A file to a group: the group, and its message's count and time (for offers made again). */
  group?: string;
  seq?: number;
  sentAt?: number;
}

interface Incoming {
  record: TransferRecord;
  /** Open in the worker while receiving. */
  sink: FileSink | undefined;
  /** Each chunk's hash by index; `record.next` counts those present from the start. */
  hashes: Array<Uint8Array | undefined>;
  /** The index the next chunk frame must have to be handed to the worker. */
  dispatched: number;
  /** The channel the last chunk came on, to answer on if one fails. */
  channel: FileChannel | undefined;
  lastEvent: number;
}

export class FileTransfers {
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly incoming = new Map<string, Incoming>();
  /** Checkpoints, ends and pauses of received files run one after another, in arrival order. */
  private writeQueue: Promise<void> = Promise.resolve();
  private readonly worker = new FileWorker();

  constructor(
    private readonly history: HistoryStore,
    private readonly sendPayload: SendPayload,
    private readonly events: FileEvents,
    private readonly now: () => number = Date.now,
  ) {}

  /** Offers `file` to `peer` on the open channel; the message is stored first. */
  async send(peer: string, file: File, channel: FileChannel): Promise<MessageRecord> {
    const id = newId();
    const keyRaw = webRandom(FILE_KEY_BYTES);
    const record = outgoingRecord(id, peer, file, keyRaw);
    const thumbnail = await makeThumbnail(file);
    const message = await this.history.addOutgoingFile(peer, record, thumbnail, this.now());
    this.outgoing.set(id, { record, file, key: await importAesKey(keyRaw), hashes: [], pumping: false });
    await this.offer(peer, id, channel, message.seq, message.at, thumbnail);
    return message;
  }

  /**
   * Sends `file` to a group's members (issue #18): one message in the group's conversation, one
   * key for the file, and a transfer to each member over its own direct channel. A member whose
   * channel is not open now gets the offer when it opens (channelOpened), as after a drop.
   */
  async sendToGroup(group: string, conversation: string, members: readonly string[], file: File, channels: (peer: string) => FileChannel | undefined): Promise<MessageRecord> {
    const messageId = newId();
    const keyRaw = webRandom(FILE_KEY_BYTES);
    const key = await importAesKey(keyRaw);
    const records: TransferRecord[] = members.map((peer) => ({ ...outgoingRecord(newId(), peer, file, keyRaw), conversation, messageId }));
    const thumbnail = await makeThumbnail(file);
    const message = await this.history.addOutgoingGroupFile(conversation, messageId, records, thumbnail, this.now());
    for (const record of records) {
      this.outgoing.set(record.id, { record, file, key, hashes: [], pumping: false, group, seq: message.seq, sentAt: message.at });
      const channel = channels(record.peer);
      if (channel) await this.offer(record.peer, record.id, channel, message.seq, message.at, thumbnail);
    }
    return message;
  }

  private async offer(peer: string, id: string, channel: FileChannel, seq: number, sentAt: number, thumbnail?: string): Promise<void> {
    const o = this.outgoing.get(id);
    if (!o) return;
    await this.sendPayload(
      peer,
      {
        type: 'file-offer',
        id,
        name: o.record.name,
        size: o.record.size,
        mime: o.record.mime,
        chunks: o.record.chunks,
        key: encodeBase64url(o.record.key),
        sentAt,
        seq,
        ...(thumbnail ? { thumbnail } : {}),
        ...(o.group ? { group: o.group } : {}),
      },
      channel,
    );
  }

  /** A channel to `peer` opened: offer again whatever was interrupted, to resume it. */
  async channelOpened(peer: string, channel: FileChannel): Promise<void> {
    for (const [id, o] of this.outgoing) {
      if (o.record.peer !== peer || isFinished(o.record.status)) continue;
      if (o.group) {
        await this.offer(peer, id, channel, o.seq ?? 0, o.sentAt ?? this.now());
        continue;
      }
      const message = (await this.history.messages(peer)).find((m) => m.id === id);
      await this.offer(peer, id, channel, message?.seq ?? 0, message?.at ?? this.now(), message?.file?.thumbnail);
    }
  }

  /** The channel to `peer` closed: pause, keeping what arrived. */
  async channelClosed(peer: string): Promise<void> {
    for (const o of this.outgoing.values()) {
      if (o.record.peer === peer && o.record.status === 'sending') {
        o.record = { ...o.record, status: 'paused' };
        await this.history.saveTransfer(o.record, o.record.next * FILE_CHUNK_BYTES);
        this.events.changed(peer, o.record.id, Math.min(o.record.size, o.record.next * FILE_CHUNK_BYTES), 'paused');
      }
    }
    for (const [id, inc] of this.incoming) {
      if (inc.record.peer !== peer) continue;
      await this.enqueueWrite(async () => {
        await inc.sink?.settled();
        if (!(await this.checkpointOrStop(peer, inc, undefined))) return;
        inc.record = { ...inc.record, status: 'paused' };
        await this.history.saveTransfer(inc.record, this.received(inc.record));
        this.events.changed(peer, id, this.received(inc.record), 'paused');
      }).catch(() => undefined);
      this.incoming.delete(id);
    }
  }

  /** The receiver's side of an offer (new, or repeated to resume): ask for what is missing. */
  async offered(peer: string, record: TransferRecord, channel: FileChannel): Promise<void> {
    if (this.incoming.has(record.id)) return; // already receiving it
    if (isFinished(record.status)) {
      await this.sendPayload(
        peer,
        record.status === 'done' ? { type: 'file-done', id: record.id, ok: true } : cancelFor(record.id, record.status),
        channel,
      );
      return;
    }
    // Refused at once when the rest cannot fit, rather than failing a write halfway through a
    // large file: a private window keeps files in memory under a small quota, and disks fill.
    const room = await freeSpace();
    if (room !== undefined && room < record.size - this.received(record)) {
      const refused: TransferRecord = { ...record, status: 'no-space' };
      await this.history.saveTransfer(refused, this.received(record));
      this.events.changed(peer, record.id, this.received(record), 'no-space');
      await removeFile(record.id);
      await this.sendPayload(peer, cancelFor(record.id, 'no-space'), channel);
      return;
    }
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < record.hashes.length; i += 32) hashes.push(record.hashes.slice(i, i + 32));
    const inc: Incoming = { record: { ...record, status: 'receiving' }, sink: undefined, hashes, dispatched: record.next, channel, lastEvent: 0 };
    this.incoming.set(record.id, inc);
    try {
      inc.sink = await this.worker.receive(record.id, await importAesKey(record.key), decodeBase64url(record.id)!, record.chunks, {
        written: (index, hash) => this.written(peer, inc, index, hash),
        failed: (_index, kind, failure) => void this.stop(peer, inc, kind === 'decrypt' ? 'failed' : storageFailure(failure), inc.channel),
      });
    } catch (e) {
      // No place to write it (the file is held elsewhere, storage refused): said on both sides.
      return this.stop(peer, inc, storageFailure(e), channel);
    }
    this.events.changed(peer, record.id, this.received(inc.record), 'receiving');
    await this.sendPayload(peer, { type: 'file-resume', id: record.id, next: record.next }, channel);
  }

  /** The worker wrote chunk `index`: count what is complete from the start, checkpoint, report. */
  private written(peer: string, inc: Incoming, index: number, hash: Uint8Array): void {
    if (this.incoming.get(inc.record.id) !== inc || inc.record.status !== 'receiving') return;
    inc.hashes[index] = hash;
    const before = inc.record.next;
    let next = before;
    while (inc.hashes[next]) next++;
    if (next === before) return;
    inc.record = { ...inc.record, next };
    if (Math.floor(next / CHECKPOINT_EVERY) > Math.floor(before / CHECKPOINT_EVERY)) {
      void this.enqueueWrite(() => this.checkpointOrStop(peer, inc, inc.channel, true).then(() => undefined));
    }
    const t = this.now();
    if (t - inc.lastEvent >= PROGRESS_EVERY_MS || next === inc.record.chunks) {
      inc.lastEvent = t;
      this.events.changed(peer, inc.record.id, this.received(inc.record), 'receiving');
    }
  }

  /**
   * A chunk frame from `peer`'s channel (`channel`, to answer on if it fails). Handed to the
   * worker in order; one that is altered or not of this file (it fails to open there) ends the
   * transfer, since the file cannot be what was sent.
   */
  onChunk(peer: string, frame: Uint8Array, channel?: FileChannel): void {
    const head = peekChunk(frame);
    if (!head) return;
    const inc = this.incoming.get(encodeBase64url(head.fileId));
    if (!inc || inc.record.peer !== peer || inc.record.status !== 'receiving' || !inc.sink) return;
    if (head.index !== inc.dispatched) return; // a repeat from before a resume
    inc.dispatched++;
    inc.channel = channel ?? inc.channel;
    inc.sink.push(head.index, frame);
  }

  // A chunk that cannot be opened or written ends the transfer at once on both sides, rather
  // than letting the sender stream the rest into a receiver that can no longer keep it and learn
  // of it only from the failed check at the end. The refusal before the first chunk catches most
  // full disks; this is for space that runs out during the transfer (another download, another
  // tab), including in the last write, made when the file is closed. The transfer is marked
  // stopped before anything is awaited, so no job queued behind it touches it again.
  private async stop(peer: string, inc: Incoming, status: 'failed' | CancelReason, channel: FileChannel | undefined): Promise<void> {
    const id = inc.record.id;
    if (this.incoming.get(id) !== inc || inc.record.status !== 'receiving') return;
    this.incoming.delete(id);
    inc.record = { ...inc.record, status };
    const sink = inc.sink;
    inc.sink = undefined;
    await this.history.saveTransfer(inc.record, 0).catch(() => undefined);
    this.events.changed(peer, id, 0, status);
    // Aborted, not closed: the worker lets go of the file and removes it.
    await sink?.abort().catch(() => undefined);
    await removeFile(id).catch(() => undefined);
    if (!channel) return;
    const tell: Payload = status === 'failed' ? { type: 'file-done', id, ok: false } : cancelFor(id, status);
    await this.sendPayload(peer, tell, channel).catch(() => false);
  }

  /**
   * Writes what is batched and commits it, as a pause or the end needs. False when the transfer
   * had stopped meanwhile or stops now because the write failed (both sides then told by stop()).
   */
  private async checkpointOrStop(peer: string, inc: Incoming, channel: FileChannel | undefined, keepOpen = false): Promise<boolean> {
    if (inc.record.status !== 'receiving') return false;
    try {
      await this.checkpoint(inc, keepOpen);
      return true;
    } catch (e) {
      await this.stop(peer, inc, storageFailure(e), channel);
      return false;
    }
  }

  /** Control payloads about files, from `peer`. */
  async onControl(peer: string, p: Payload, channel: FileChannel | undefined): Promise<void> {
    switch (p.type) {
      case 'file-resume': {
        const o = this.outgoing.get(p.id);
        if (o && o.record.peer === peer && channel && p.next <= o.record.chunks) void this.pump(o, p.next, channel);
        return;
      }
      case 'file-end': {
        const inc = this.incoming.get(p.id);
        if (!inc || inc.record.peer !== peer) return;
        await this.enqueueWrite(async () => {
          await inc.sink?.settled();
          if (!(await this.checkpointOrStop(peer, inc, channel))) return;
          const root = toHex(await rootHash(concatBytes(...inc.hashes.slice(0, inc.record.next).map((h) => h!))));
          const ok = inc.record.next === inc.record.chunks && root === p.root;
          inc.record = { ...inc.record, status: ok ? 'done' : 'failed' };
          await this.history.saveTransfer(inc.record, ok ? inc.record.size : this.received(inc.record));
          this.incoming.delete(p.id);
          this.events.changed(peer, p.id, ok ? inc.record.size : this.received(inc.record), inc.record.status);
          if (channel) await this.sendPayload(peer, { type: 'file-done', id: p.id, ok }, channel);
          if (!ok) await removeFile(p.id);
        });
        return;
      }
      case 'file-done': {
        const o = this.outgoing.get(p.id);
        if (!o || o.record.peer !== peer) return;
        o.record = { ...o.record, status: p.ok ? 'done' : 'failed' };
        await this.history.saveTransfer(o.record, p.ok ? o.record.size : 0);
        this.events.changed(peer, p.id, p.ok ? o.record.size : 0, o.record.status);
        this.outgoing.delete(p.id);
        return;
      }
      case 'file-cancel':
        await this.markCancelled(peer, p.id, p.reason ?? 'cancelled');
        return;
      default:
        return;
    }
  }

  /** The user cancels a transfer (either side). */
  async cancel(peer: string, id: string, channel: FileChannel | undefined): Promise<void> {
    await this.markCancelled(peer, id);
    if (channel) await this.sendPayload(peer, { type: 'file-cancel', id }, channel);
  }

  /** A received file, backed by disk. */
  async file(id: string): Promise<File | undefined> {
    const record = await this.history.transfer(id);
    if (!record || record.status !== 'done') return undefined;
    return readFile(id, record.name, record.mime);
  }

  /** How many bytes of an active transfer have moved (for live progress). */
  liveBytes(id: string): number | undefined {
    const o = this.outgoing.get(id);
    if (o) return Math.min(o.record.size, o.record.next * FILE_CHUNK_BYTES);
    const inc = this.incoming.get(id);
    return inc ? this.received(inc.record) : undefined;
  }

  private received(r: TransferRecord): number {
    return Math.min(r.size, r.next * FILE_CHUNK_BYTES);
  }

  /** Stops a transfer; a reason only when the receiver gave one (sender's side). */
  private async markCancelled(peer: string, id: string, status: 'cancelled' | CancelReason = 'cancelled'): Promise<void> {
    const o = this.outgoing.get(id);
    let shown: FileStatus = 'cancelled';
    let active = false;
    if (o && o.record.peer === peer) {
      active = true;
      shown = status;
      o.record = { ...o.record, status };
      await this.history.saveTransfer(o.record, 0);
      this.outgoing.delete(id);
    }
    const inc = this.incoming.get(id);
    if (inc && inc.record.peer === peer) {
      active = true;
      await this.enqueueWrite(async () => {
        inc.record = { ...inc.record, status: 'cancelled' };
        const sink = inc.sink;
        inc.sink = undefined;
        await sink?.abort().catch(() => undefined);
        await this.history.saveTransfer(inc.record, 0);
      });
      this.incoming.delete(id);
      await removeFile(id);
    } else {
      const stored = await this.history.transfer(id);
      // A transfer that already ended keeps how it ended (done, failed, no room…).
      if (stored && stored.peer === peer && !isFinished(stored.status)) {
        if (stored.direction === 'out') shown = status;
        await this.history.saveTransfer({ ...stored, status: shown }, 0);
      } else if (!active) {
        return;
      }
    }
    this.events.changed(peer, id, 0, shown);
  }

  /** Streams chunks from `next` on, then the root hash; stops when the channel goes away. */
  private async pump(o: Outgoing, next: number, channel: FileChannel): Promise<void> {
    if (o.pumping) return;
    o.pumping = true;
    const peer = o.record.peer;
    o.record = { ...o.record, status: 'sending', next };
    const fileId = decodeBase64url(o.record.id)!;
    const total = o.record.chunks;
    const sealFrom = (from: number): Promise<SealedWindow> | undefined => {
      if (from >= total) return undefined;
      const sealing = this.worker.seal(o.file, o.key, fileId, total, from, Math.min(SEAL_WINDOW, total - from));
      sealing.catch(() => undefined); // awaited in its turn, or left when the transfer stops
      return sealing;
    };
    let lastEvent = 0;
    try {
      let ahead = sealFrom(next);
      for (let from = next; from < total; from += SEAL_WINDOW) {
        const sealed = await ahead!;
        ahead = sealFrom(from + SEAL_WINDOW);
        for (let j = 0; j < sealed.frames.length; j++) {
          const i = from + j;
          if (o.record.status !== 'sending') return;
          o.hashes[i] = sealed.hashes[j]!;
          if (!(await channel.sendPaced(sealed.frames[j]!))) return;
          o.record = { ...o.record, next: i + 1 };
          const t = this.now();
          if (t - lastEvent >= PROGRESS_EVERY_MS) {
            lastEvent = t;
            this.events.changed(peer, o.record.id, Math.min(o.record.size, (i + 1) * FILE_CHUNK_BYTES), 'sending');
          }
        }
      }
      // Chunks sent before a resume were hashed by an earlier pump, or must be read again.
      for (let i = 0; i < o.record.chunks; i++) {
        o.hashes[i] ??= await chunkHash(new Uint8Array(await o.file.slice(i * FILE_CHUNK_BYTES, (i + 1) * FILE_CHUNK_BYTES).arrayBuffer()));
      }
      const root = toHex(await rootHash(concatBytes(...o.hashes)));
      this.events.changed(peer, o.record.id, o.record.size, 'sending');
      await this.sendPayload(peer, { type: 'file-end', id: o.record.id, root }, channel);
    } finally {
      o.pumping = false;
    }
  }

  /**
   * Makes the chunks complete from the start durable, then records how far that is. Chunks the
   * worker writes meanwhile are counted at the next checkpoint. `keepOpen` while receiving on.
   */
  private async checkpoint(inc: Incoming, keepOpen: boolean): Promise<void> {
    const next = inc.record.next;
    const sink = inc.sink;
    if (sink) {
      if (keepOpen) await sink.flush();
      else {
        inc.sink = undefined;
        await sink.close();
      }
    }
    const hashes = concatBytes(...inc.hashes.slice(0, next).map((h) => h!));
    inc.record = { ...inc.record, hashes };
    await this.history.saveTransfer({ ...inc.record, next }, this.received({ ...inc.record, next }));
  }

  /** Stops the worker (the account is leaving this page). */
  close(): void {
    this.worker.terminate();
  }

  private enqueueWrite(job: () => Promise<void>): Promise<void> {
    const run = this.writeQueue.then(job);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }
}

