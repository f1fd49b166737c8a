// The ceiling for a file between two browsers: a bare DataChannel between the same two
// browser profiles the app uses, carrying the same number of 64 KiB messages with the app's
// pacing (wait above 8 MiB buffered, resume below 2 MiB), no encryption beyond DTLS, nothing
// written. The code runs in blank pages beside the app's, passed as strings (page.evaluate of
// functions compiled by tsx carries helper names the page does not have).
import type { BrowserContext } from 'playwright-core';

const GATHERED = `new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
})`;

/** MiB/s from the first message sent to the last one received; `onDone` runs before the pages close (to read their processes). */
export async function bareChannelRate(from: BrowserContext, to: BrowserContext, mebibytes: number, onDone?: () => void): Promise<number> {
  const [a, b] = await Promise.all([from.newPage(), to.newPage()]);
  try {
    const offer = await a.evaluate(`(async () => {
      const pc = new RTCPeerConnection();
      const ch = pc.createDataChannel('bench', { ordered: true });
      ch.binaryType = 'arraybuffer';
      ch.bufferedAmountLowThreshold = 2 * 1024 * 1024;
      window.__bench = { pc, ch, opened: new Promise((r) => (ch.onopen = r)) };
      await pc.setLocalDescription(await pc.createOffer());
      await ${GATHERED};
      return pc.localDescription.sdp;
    })()`);
    const answer = await b.evaluate(`(async () => {
      const pc = new RTCPeerConnection();
      const total = ${mebibytes} * 1024 * 1024;
      window.__bench = { pc, got: 0, done: false };
      pc.ondatachannel = (e) => {
        e.channel.binaryType = 'arraybuffer';
        e.channel.onmessage = (m) => {
          window.__bench.got += m.data.byteLength;
          if (window.__bench.got >= total) window.__bench.done = true;
        };
      };
      await pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(offer)} });
      await pc.setLocalDescription(await pc.createAnswer());
      await ${GATHERED};
      return pc.localDescription.sdp;
    })()`);
    await a.evaluate(`(async () => {
      await window.__bench.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer)} });
      await window.__bench.opened;
    })()`);
    const t0 = performance.now();
    const sent = a.evaluate(`(async () => {
      const { ch } = window.__bench;
      const chunk = new Uint8Array(64 * 1024);
      crypto.getRandomValues(chunk);
      for (let i = 0; i < ${mebibytes} * 16; i++) {
        if (ch.bufferedAmount > 8 * 1024 * 1024) await new Promise((r) => ch.addEventListener('bufferedamountlow', r, { once: true }));
        ch.send(chunk);
      }
    })()`);
    await b.waitForFunction('window.__bench.done === true', undefined, { timeout: 1_800_000, polling: 50 });
    const seconds = (performance.now() - t0) / 1000;
    await sent;
    onDone?.();
    return mebibytes / seconds;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}
