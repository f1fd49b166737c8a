// Runs the test TURN client inside a namespace (tests start it with `ip netns exec … node
// --import tsx`), since a process cannot change its own network namespace. Takes one JSON
// argument, prints one JSON line: what coturn answered to the allocation and to each permission.
import { TurnClient, type TurnOutcome } from './turn-client.ts';

export interface ProbeRequest {
  server: { host: string; port: number };
  username: string;
  password: string;
  /** Peer addresses to ask CreatePermission for, and if granted or not, send a datagram to. */
  peers: Array<{ ip: string; port: number; text: string }>;
}

export interface ProbeResult {
  allocate: TurnOutcome;
  peers: Array<{ ip: string; permit: TurnOutcome }>;
}

/**
 * 437 (Allocation Mismatch) means coturn already holds an allocation for our address and port:
 * a browser from an earlier test had that port behind the same NAT. RFC 8656 §7.4: try again
 * from another port.
 */
async function allocateFromFreshPort(req: ProbeRequest): Promise<{ client: TurnClient; allocate: TurnOutcome }> {
  for (let attempt = 1; ; attempt++) {
    const client = new TurnClient(req.server, req.username, req.password);
    const allocate = await client.allocate();
    if (allocate.ok || allocate.code !== 437 || attempt === 3) return { client, allocate };
    client.close();
  }
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
  const { client, allocate } = await allocateFromFreshPort(req);
  try {
    const peers: ProbeResult['peers'] = [];
    if (allocate.ok) {
      for (const peer of req.peers) {
        const permit = await client.permit(peer.ip);
        // Sent whatever the answer: a relay that refused must also not forward it.
        client.send(peer.ip, peer.port, Buffer.from(peer.text));
        peers.push({ ip: peer.ip, permit });
      }
      await new Promise((r) => setTimeout(r, 300));
      await client.release();
    }
    const result: ProbeResult = { allocate, peers };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    client.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`turn-probe: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
