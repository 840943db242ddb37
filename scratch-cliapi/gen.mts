import { createRuntime } from '../src/runtime.ts';
const runtime = createRuntime({ env: { DATABASE_URL: 'sqlite::memory:', LOG_LEVEL: 'silent', API_TOKEN: process.env.TOK ?? '' , PORT: '0'} });
const res = await runtime.app.request('/openapi.json');
console.log(await res.text());
process.exit(0);
