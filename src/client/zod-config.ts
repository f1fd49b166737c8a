// Imported first by main.tsx, before any schema exists. Zod compiles validators with
// new Function() unless told not to, and probes for it when schemas are built; the page's CSP
// forbids eval, so even the probe would be reported as a violation.
import { z } from 'zod';

z.config({ jitless: true });
