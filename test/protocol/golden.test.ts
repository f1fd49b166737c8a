// Any change to the wire format or the key schedule changes these bytes. If the change is
// intended, regenerate with `npx tsx scripts/generate-golden-vectors.ts` and commit both.
import { describe, expect, it } from 'vitest';
import golden from '../vectors/golden-session.json' with { type: 'json' };
import { generateGoldenTranscript } from '../support/golden.ts';

describe('golden transcript', () => {
  it('is reproduced byte for byte from its fixed seeds', async () => {
    const now = await generateGoldenTranscript();
    expect(now.alice).toEqual(golden.alice);
    expect(now.bob).toEqual(golden.bob);
    expect(now.messages.map((m) => m.text)).toEqual(golden.messages.map((m) => m.text));
    for (let i = 0; i < golden.messages.length; i++) expect(now.messages[i]!.envelope, `message ${i}`).toBe(golden.messages[i]!.envelope);
  });
});
