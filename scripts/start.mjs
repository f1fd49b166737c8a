// `npm start`: build if the build is missing or older than the sources, then run the server
// in this process (so signals reach it directly and its exit code is ours).
import { build, buildIsStale } from './build.mjs';

if (buildIsStale()) build();
await import('../dist/server/main.js');
