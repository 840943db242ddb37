/**
 * The structured logger every part of Vigil writes to: one pino logger, handed down by the runtime
 * as a child per actor or adapter (`logger.child({ component })`). Adapters receive it through their
 * options; only the runtime creates one.
 */
export type { Logger } from 'pino';
