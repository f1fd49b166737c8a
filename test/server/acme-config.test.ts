// The ACME settings (issue #5): a domain and a contact address turn it on; everything else has a
// default or is refused at start with a message that says what to set.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config.ts';
import { LETS_ENCRYPT_DIRECTORY } from '../../src/server/tls/acme-settings.ts';
import { generateSelfSigned } from '../../src/server/tls/self-signed.ts';

const base = { ACME_DOMAINS: 'chat.example.org', ACME_EMAIL: 'admin@example.org', HTTP_REDIRECT_PORT: '80' };

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env, '/srv/parley');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('ACME configuration', () => {
  it('is off by default', () => {
    expect(loadConfig({}).acme).toBeUndefined();
  });

  it('takes domains and a contact, with Let\'s Encrypt production as the default directory', () => {
    const c = loadConfig({ ...base, ACME_DOMAINS: ' Chat.Example.org, example.org.,chat.example.org ' });
    expect(c.acme).toEqual({ domains: ['chat.example.org', 'example.org'], email: 'admin@example.org', directoryUrl: LETS_ENCRYPT_DIRECTORY, caPem: undefined });
    expect(c.httpRedirectPort).toBe(80);
    expect(c.tls).toBeUndefined();
  });

  it('takes another directory and an extra CA to trust for it (Pebble, a private CA)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-acme-config-'));
    const ca = (await generateSelfSigned(['localhost'])).cert;
    writeFileSync(path.join(dir, 'ca.pem'), ca);
    const c = loadConfig({ ...base, ACME_DIRECTORY_URL: 'https://localhost:14000/dir', ACME_CA_FILE: 'ca.pem' }, dir);
    expect(c.acme).toMatchObject({ directoryUrl: 'https://localhost:14000/dir', caPem: ca });
  });

  it('refuses ACME together with TLS_CERT/TLS_KEY', () => {
    expect(refusal({ ...base, TLS_CERT: 'a.pem', TLS_KEY: 'b.pem' })).toMatch(/ACME_DOMAINS .* or TLS_CERT\/TLS_KEY .* not both/);
  });

  it('needs the plain-HTTP port, where the CA checks the http-01 challenge', () => {
    expect(refusal({ ACME_DOMAINS: 'chat.example.org', ACME_EMAIL: 'admin@example.org' })).toMatch(/ACME_DOMAINS needs HTTP_REDIRECT_PORT.*port 80/);
  });

  it('needs a contact address, and only one', () => {
    expect(refusal({ ACME_DOMAINS: 'chat.example.org', HTTP_REDIRECT_PORT: '80' })).toMatch(/needs ACME_EMAIL/);
    for (const email of ['admin', 'a@b', 'a@example.org,b@example.org', 'mailto:a@example.org x']) {
      expect(refusal({ ...base, ACME_EMAIL: email })).toMatch(/ACME_EMAIL must be one address/);
    }
  });

  it('refuses names http-01 cannot prove: wildcards, addresses, single labels, malformed names', () => {
    expect(refusal({ ...base, ACME_DOMAINS: '*.example.org' })).toMatch(/wildcard.*dns-01/);
    expect(refusal({ ...base, ACME_DOMAINS: '203.0.113.7' })).toMatch(/is an address/);
    expect(refusal({ ...base, ACME_DOMAINS: '[::1]' })).toMatch(/is an address/);
    for (const name of ['localhost', 'chat..example.org', '-chat.example.org', 'chat_room.example.org', `${'a'.repeat(64)}.example.org`, 'https://chat.example.org']) {
      expect(refusal({ ...base, ACME_DOMAINS: name })).toMatch(/ACME_DOMAINS: .* is not a domain name like chat.example.org/);
    }
    expect(refusal({ ...base, ACME_DOMAINS: ' , ' })).toMatch(/at least one domain/);
  });

  it('refuses a directory that is not HTTPS and a CA file that is missing or not PEM, without echoing the URL', () => {
    expect(refusal({ ...base, ACME_DIRECTORY_URL: 'http://acme.example/dir' })).toMatch(/must start with https:\/\//);
    expect(refusal({ ...base, ACME_DIRECTORY_URL: 'not a url secret-token' })).toBe('ACME_DIRECTORY_URL is not a valid URL');
    expect(refusal({ ...base, ACME_CA_FILE: '/nonexistent/ca.pem' })).toMatch(/ACME_CA_FILE cannot be read \(ENOENT\)/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-acme-config-'));
    writeFileSync(path.join(dir, 'junk.pem'), 'not a certificate');
    expect(refusal({ ...base, ACME_CA_FILE: path.join(dir, 'junk.pem') })).toMatch(/ACME_CA_FILE must hold PEM certificates/);
  });

  it('says so when ACME settings are given without ACME_DOMAINS, rather than ignoring them', () => {
    expect(refusal({ ACME_EMAIL: 'admin@example.org' })).toBe('ACME_EMAIL has no effect without ACME_DOMAINS');
    expect(refusal({ ACME_DIRECTORY_URL: 'https://x/dir', ACME_CA_FILE: 'ca.pem' })).toBe('ACME_DIRECTORY_URL, ACME_CA_FILE have no effect without ACME_DOMAINS');
  });
});
