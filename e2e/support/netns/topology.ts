// A small internet inside this machine, made of network namespaces, for the NAT traversal
// tests and the benchmark (issue #7). Nothing in it touches the host's own network: every
// address lives on veth pairs, a bridge and TUN devices inside namespaces made here, and all
// of it is removed by destroy() (and, if this process dies first, by the next run).
//
//   "internet" 198.18.0.0/24 (bridge in ns inet)
//     ├─ srv   198.18.0.2 Parley (HTTPS 443), 198.18.0.3 coturn (3478 udp/tcp, TLS 443),
//     │        198.18.0.4 spare (a second, STUN-only coturn when a test needs one)
//     │        └─ lan 10.99.0.1/24 ── priv 10.99.0.2   the operator's private segment
//     ├─ natA  198.18.0.11, MASQUERADE ── lan 10.99.1.1/24 ── homeA 10.99.1.2 (Chromium)
//     └─ natB  198.18.0.12, MASQUERADE ── lan 10.99.2.1/24 ── homeB 10.99.2.2 (Chromium)
//
// 198.18.0.0/15 is the benchmarking range (RFC 2544) and 10.99/16 private: neither is routed
// to or from the host, and the namespaces have no route out.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { has, inNs, run, runSyncQuietly } from './exec.ts';
import { stopChild } from '../../../test/support/stop-child.ts';

export const ADDR = {
  internet: '198.18.0.0/24',
  /** The production denied-peer-ip line this network's "internet" falls in. */
  publicRange: '198.18.0.0-198.19.255.255',
  parley: '198.18.0.2',
  turn: '198.18.0.3',
  /** A second address on srv, for a STUN-only server when a test takes coturn away. */
  stun: '198.18.0.4',
  natA: '198.18.0.11',
  natB: '198.18.0.12',
  operatorLan: '10.99.0.1',
  operatorPrivateHost: '10.99.0.2',
  homeA: '10.99.1.2',
  homeB: '10.99.2.2',
} as const;

/**
 * What the two home routers do. `permissive`: full cone (endpoint-independent mapping and
 * filtering), as a router with UPnP or its one host in the DMZ: inbound UDP to the public
 * address goes to the home host. Plain MASQUERADE alone is not enough between two Linux NATs:
 * a peer's check that arrives before our own outgoing one leaves a conntrack entry that makes
 * the router pick another port, so hole punching fails in that race. The other two policies
 * are strict MASQUERADE plus a firewall.
 */
export type NatPolicy = 'permissive' | 'udp-blocked-between-nats' | 'tcp-443-only';

export type Role = 'inet' | 'srv' | 'priv' | 'natA' | 'homeA' | 'natB' | 'homeB';

export interface TopologyOptions {
  /** Added to every packet crossing each home link, each way (tc netem, or delay-link.c without it). */
  delayMs?: number;
}

export interface Topology {
  ns: Record<Role, string>;
  delay: { ms: number; method: 'netem' | 'delay-link' } | undefined;
  setPolicy(policy: NatPolicy): Promise<void>;
  /** Starts a process inside a namespace; it is stopped by destroy() if still running. */
  spawn(role: Role, cmd: string, args: string[], env?: Record<string, string>): ChildProcess;
  exec(role: Role, cmd: string, args: string[], timeoutMs?: number): Promise<string>;
  destroy(): Promise<void>;
}

const PREFIX = 'parley-nt';
let sequence = 0;

/** Why the network tests cannot run here, or undefined when they can. */
export async function whyNetworkTestsCannotRun(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root); run `sudo npm test` to include them';
  return undefined;
}

/** Tools the tests need when they do run; missing ones are an error, not a skip. */
export async function missingTools(): Promise<string[]> {
  const needed: Array<[string, string]> = [
    ['ip', 'iproute2'],
    ['iptables', 'iptables'],
    ['turnserver', 'coturn'],
    ['openssl', 'openssl'],
  ];
  const missing: string[] = [];
  for (const [cmd, pkg] of needed) if (!(await has(cmd))) missing.push(`${cmd} (apt-get install -y ${pkg})`);
  return missing;
}

/** Namespaces left by a run of these tests whose process is gone (killed before cleaning up). */
export function removeStaleNamespaces(): void {
  const list = runSyncQuietly('ip', ['netns', 'list']);
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    removeNamespaceSync(name);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function removeNamespaceSync(ns: string): void {
  // Processes in a namespace keep it alive: they are ours (started inside it by these tests).
  for (const pid of runSyncQuietly('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  runSyncQuietly('ip', ['netns', 'del', ns]);
}

let delayLinkBinary: string | undefined;

async function buildDelayLink(): Promise<string> {
  if (delayLinkBinary) return delayLinkBinary;
  if (!(await has('cc'))) throw new Error('this kernel has no sch_netem, and no C compiler to build the delay-link stand-in (apt-get install -y gcc)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-delay-link-'));
  const out = path.join(dir, 'delay-link');
  await run('cc', ['-O2', '-o', out, path.resolve('e2e/support/netns/delay-link.c')], 60_000);
  delayLinkBinary = out;
  return out;
}

async function netemAvailable(ns: string): Promise<boolean> {
  try {
    await inNs(ns, 'tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    await inNs(ns, 'tc', ['qdisc', 'del', 'dev', 'lo', 'root']);
    return true;
  } catch {
    return false;
  }
}

export async function createTopology(options: TopologyOptions = {}): Promise<Topology> {
  removeStaleNamespaces();
  const id = `${PREFIX}${process.pid}-${++sequence}`;
  const roles: Role[] = ['inet', 'srv', 'priv', 'natA', 'homeA', 'natB', 'homeB'];
  const ns = Object.fromEntries(roles.map((r) => [r, `${id}-${r}`])) as Record<Role, string>;
  const children = new Set<ChildProcess>();
  const created: string[] = [];
  let destroyed = false;

  const ip = (...args: string[]) => run('ip', args);
  const onExit = () => {
    for (const c of children) c.kill('SIGKILL');
    for (const n of created) removeNamespaceSync(n);
  };
  // Interrupted (Ctrl-C, a runner stopping its workers): clean up, then die of the same signal
  // unless someone else handles it. Killed outright, the next run removes what is left.
  const onSignal = (signal: NodeJS.Signals) => {
    forget();
    onExit();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const forget = () => {
    process.removeListener('exit', onExit);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const topology: Topology = {
    ns,
    delay: undefined,
    async setPolicy(policy) {
      for (const [nat, other, home] of [
        ['natA', ADDR.natB, ADDR.homeA],
        ['natB', ADDR.natA, ADDR.homeB],
      ] as const) {
        const ipt = (...args: string[]) => inNs(ns[nat], 'iptables', args);
        await ipt('-F', 'FORWARD');
        await ipt('-P', 'FORWARD', 'ACCEPT');
        await ipt('-t', 'nat', '-F', 'PREROUTING');
        if (policy === 'permissive') {
          await ipt('-t', 'nat', '-A', 'PREROUTING', '-i', 'wan', '-p', 'udp', '-j', 'DNAT', '--to-destination', home);
        } else if (policy === 'udp-blocked-between-nats') {
          await ipt('-A', 'FORWARD', '-p', 'udp', '-d', other, '-j', 'DROP');
          await ipt('-A', 'FORWARD', '-p', 'udp', '-s', other, '-j', 'DROP');
        } else if (policy === 'tcp-443-only') {
          await ipt('-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
          await ipt('-A', 'FORWARD', '-i', 'lan', '-p', 'tcp', '--dport', '443', '-j', 'ACCEPT');
          await ipt('-A', 'FORWARD', '-j', 'DROP');
        }
      }
      // Mappings made under the old policy must not outlive it.
      for (const nat of ['natA', 'natB'] as const) await inNs(ns[nat], 'conntrack', ['-F']).catch(() => undefined);
    },
    spawn(role, cmd, args, env = {}) {
      const child = spawn('ip', ['netns', 'exec', ns[role], cmd, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    exec(role, cmd, args, timeoutMs) {
      return inNs(ns[role], cmd, args, timeoutMs);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await Promise.all([...children].map((c) => stopChild(c)));
      for (const n of created) removeNamespaceSync(n);
      forget();
    },
  };

  try {
    for (const role of roles) {
      await ip('netns', 'add', ns[role]);
      created.push(ns[role]);
      await ip('-n', ns[role], 'link', 'set', 'lo', 'up');
      // IPv4 only: fewer candidates, and nothing that could leave through an IPv6 route.
      await inNs(ns[role], 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    await ip('-n', ns.inet, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', ns.inet, 'link', 'set', 'br0', 'up');

    const veth = async (a: Role, aName: string, b: Role, bName: string) => {
      await ip('link', 'add', 'name', aName, 'netns', ns[a], 'type', 'veth', 'peer', 'name', bName, 'netns', ns[b]);
      await ip('-n', ns[a], 'link', 'set', aName, 'up');
      await ip('-n', ns[b], 'link', 'set', bName, 'up');
    };
    const addr = (role: Role, dev: string, cidr: string) => ip('-n', ns[role], 'addr', 'add', cidr, 'dev', dev);

    // The internet: srv and both NAT routers on one bridge.
    for (const [role, port] of [
      ['srv', 'p-srv'],
      ['natA', 'p-nata'],
      ['natB', 'p-natb'],
    ] as const) {
      await veth(role, 'wan', 'inet', port);
      await ip('-n', ns.inet, 'link', 'set', port, 'master', 'br0');
    }
    await addr('srv', 'wan', `${ADDR.parley}/24`);
    await addr('srv', 'wan', `${ADDR.turn}/24`);
    await addr('srv', 'wan', `${ADDR.stun}/24`);
    await addr('natA', 'wan', `${ADDR.natA}/24`);
    await addr('natB', 'wan', `${ADDR.natB}/24`);

    // The operator's private segment behind the server.
    await veth('srv', 'lan', 'priv', 'lan');
    await addr('srv', 'lan', `${ADDR.operatorLan}/24`);
    await addr('priv', 'lan', `${ADDR.operatorPrivateHost}/24`);

    // The two homes, each behind its NAT router.
    let method: 'netem' | 'delay-link' | undefined;
    if (options.delayMs) method = (await netemAvailable(ns.inet)) ? 'netem' : 'delay-link';
    for (const [nat, home, net] of [
      ['natA', 'homeA', '10.99.1'],
      ['natB', 'homeB', '10.99.2'],
    ] as const) {
      if (method === 'delay-link') {
        const bin = await buildDelayLink();
        // Real-time priority: on a busy machine (two Chromiums, two cores) a normal process is
        // woken milliseconds late, which would add delay beyond the one asked for.
        const child = topology.spawn(nat, 'chrt', ['-f', '20', bin, 'lan', 'lanhome', String(options.delayMs)]);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('delay-link did not start')), 10_000);
          child.stdout!.once('data', () => {
            clearTimeout(timer);
            resolve();
          });
          child.once('exit', (code) => reject(new Error(`delay-link exited with ${code}`)));
        });
        await ip('-n', ns[nat], 'link', 'set', 'lanhome', 'netns', ns[home]);
        await ip('-n', ns[home], 'link', 'set', 'lanhome', 'name', 'lan');
        await ip('-n', ns[nat], 'link', 'set', 'lan', 'up');
        await ip('-n', ns[home], 'link', 'set', 'lan', 'up');
      } else {
        await veth(nat, 'lan', home, 'lan');
        if (method === 'netem') {
          for (const side of [nat, home] as const) await inNs(ns[side], 'tc', ['qdisc', 'add', 'dev', 'lan', 'root', 'netem', 'delay', `${options.delayMs}ms`]);
        }
      }
      await addr(nat, 'lan', `${net}.1/24`);
      await addr(home, 'lan', `${net}.2/24`);
      await ip('-n', ns[home], 'route', 'add', 'default', 'via', `${net}.1`);
      await inNs(ns[nat], 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      await inNs(ns[nat], 'iptables', ['-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan', '-j', 'MASQUERADE']);
    }
    topology.delay = method && options.delayMs ? { ms: options.delayMs, method } : undefined;
    await topology.setPolicy('permissive');
    return topology;
  } catch (e) {
    await topology.destroy();
    throw e;
  }
}
