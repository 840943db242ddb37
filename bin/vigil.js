#!/usr/bin/env node
// The `vigil` command: runs the compiled CLI in this very process (no loader, no child process),
// so SIGINT/SIGTERM from a terminal, npm, npx or a container runtime reach Vigil itself. It runs the
// bundle (dist/bundle/, made by `npm run build`): a few files load much faster than ~200 modules.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/bundle/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('vigil: dist/ is missing: run `npm run build` (npm install runs it) in this checkout first\n');
  process.exit(1);
}
await import(cli.href);
