// Preloaded into a `vigil` process by tests (NODE_OPTIONS=--import): appends the URL or path of
// every module it loads, ES module or CommonJS, one a line, to the file MODULE_LOG names.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.MODULE_LOG;
if (log) {
  register(new URL(`data:text/javascript,${encodeURIComponent(`
    import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');
      return resolved;
    }`)}`));
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    const loaded = load.call(this, request, parent, isMain);
    try {
      appendFileSync(log, `${Module._resolveFilename(request, parent, isMain)}\n`);
    } catch {
      // A built-in module has no file name: nothing to log.
    }
    return loaded;
  };
}
