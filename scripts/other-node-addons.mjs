// Preloaded (NODE_OPTIONS=--import) into every process of the unit run on another Node major
// (scripts/test-other-node.sh: 22 and 24). better-sqlite3 is not N-API: the addon in node_modules
// is built for the machine's Node (20 in CI) and another major refuses to load it. This makes such
// a process that asks for an addon in node_modules/better-sqlite3/build/Release load the one of the
// same name that test-other-node.sh built for its Node from the same package sources
// (PARLEY_OTHER_NODE_ADDON_DIR) instead. Nothing else changes and node_modules is not touched, so a
// run on the machine's Node at the same time (another engineer's, or the main suite's) goes on
// with its own addon.
import { realpathSync } from 'node:fs';
import path from 'node:path';

const from = process.env.PARLEY_OTHER_NODE_ADDON_FROM; // realpath of node_modules/better-sqlite3/build/Release
const to = process.env.PARLEY_OTHER_NODE_ADDON_DIR;
const abi = process.env.PARLEY_OTHER_NODE_ABI; // process.versions.modules the addons in `to` were built for

if (from && to && process.versions.modules === abi) {
  const dlopen = process.dlopen;
  process.dlopen = function dlopenForOtherNode(module, filename, ...rest) {
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
