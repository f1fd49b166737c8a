// Preloaded (NODE_OPTIONS=--import) into every process of the Node 24 unit run
// (scripts/test-node24.sh). better-sqlite3 is not N-API: the addon in node_modules is built for the
// machine's Node (20 in CI) and Node 24 refuses to load it. This makes a Node 24 process that asks
// for an addon in node_modules/better-sqlite3/build/Release load the one of the same name that
// test-node24.sh built for Node 24 from the same package sources (PARLEY_NODE24_ADDON_DIR) instead.
// Nothing else changes and node_modules is not touched, so a Node 20 run at the same time (another
// engineer's, or the main suite's) goes on with its own addon.
import { realpathSync } from 'node:fs';
import path from 'node:path';

const from = process.env.PARLEY_NODE24_ADDON_FROM; // realpath of node_modules/better-sqlite3/build/Release
const to = process.env.PARLEY_NODE24_ADDON_DIR;
const abi = process.env.PARLEY_NODE24_ABI; // process.versions.modules the addons in `to` were built for

if (from && to && process.versions.modules === abi) {
  const dlopen = process.dlopen;
  process.dlopen = function dlopenForNode24(module, filename, ...rest) {
    if (typeof filename === 'string' && filename.endsWith('.node')) {
      let dir = path.dirname(filename);
      try {
        dir = realpathSync(dir);
      } catch {
        // Not there: let dlopen say so with the original name.
      }
      if (dir === from) filename = path.join(to, path.basename(filename));
    }
    return dlopen.call(this, module, filename, ...rest);
  };
}
