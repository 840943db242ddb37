#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --heap-growing-percent=20
// The `vigil` command: runs the compiled CLI in this very process (no loader, no child process),
// so SIGINT/SIGTERM from a terminal, npm, npx or a container runtime reach Vigil itself. It runs the
// bundle (dist/bundle/, made by `npm run build`): a few files load much faster than ~200 modules.
//
// The first line sets how memory is managed (`npm start` and the image do the same): V8's young
// generation in 4 MB semi-spaces instead of up to 16 MB; the old generation collected once it has
// grown by 20 % over what the last full collection kept, instead of letting it double; and glibc's
// malloc in two arenas rather than up to eight per core (each thread's arena kept its freed pages).
// Under the Prometheus bench's load (10k rules, 10k readings every 5 s) that is ~110 MB resident
// instead of ~140 MB, at the same CPU; `node bin/vigil.js` without them runs with the defaults.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/bundle/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('vigil: dist/ is missing: run `npm run build` (npm install runs it) in this checkout first\n');
  process.exit(1);
}
await import(cli.href);
