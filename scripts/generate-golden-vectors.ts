// Writes test/vectors/golden-session.json. Run it only when a change to the wire format or key
// schedule is intended, and commit the new file with that change:
//   npx tsx scripts/generate-golden-vectors.ts
import { writeFileSync } from 'node:fs';
import { generateGoldenTranscript } from '../test/support/golden.ts';

const transcript = await generateGoldenTranscript();
writeFileSync(new URL('../test/vectors/golden-session.json', import.meta.url), JSON.stringify(transcript, null, 2) + '\n');
console.log(`wrote ${transcript.messages.length} messages`);
