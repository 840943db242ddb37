/** Base of Vigil's typed errors: a stable `code`, the offending `field` when there is one, and whether a retry can help. */
export class VigilError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  readonly retriable: boolean;

  constructor(message: string, options: { code: string; field?: string; retriable?: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.field = options.field;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad configuration: names the variable or flag and how to fix it. The CLI exits 2 on it. */
export class ConfigError extends VigilError {
  constructor(message: string, field?: string) {
    super(message, { code: 'CONFIG_INVALID', field });
  }
}

/** One problem found in some input, by path (`rules[0].threshold`) and reason. */
export interface Issue {
  path: string;
  message: string;
}

/** Bad input (HTTP body, message, payload file): carries every issue found. HTTP answers it with 400/422. */
export class ValidationError extends VigilError {
  readonly issues: Issue[];
  readonly status: 400 | 422;

  constructor(issues: Issue[], options: { status?: 400 | 422; code?: string } = {}) {
    const first = issues[0];
    super(first ? `${first.path || 'body'}: ${first.message}` : 'invalid input', {
      code: options.code ?? 'VALIDATION_FAILED',
      field: first?.path,
    });
    this.issues = issues;
    this.status = options.status ?? 422;
  }
}

/** A broker could not do what was asked; `retriable` says whether trying again later can succeed. */
export class BrokerError extends VigilError {
  constructor(message: string, options: { code: string; retriable?: boolean; cause?: unknown }) {
    super(message, options);
  }
}

/** A store operation failed; `retriable` is true for connection-level failures. */
export class StoreError extends VigilError {
  constructor(message: string, options: { code: string; retriable?: boolean; cause?: unknown }) {
    super(message, options);
  }
}

/** A notification channel or an HTTP peer did not take a delivery; `status` is the HTTP status when there was one. */
export class DeliveryError extends VigilError {
  readonly status: number | undefined;

  constructor(message: string, options: { code?: string; status?: number; retriable: boolean; cause?: unknown }) {
    super(message, { code: options.code ?? 'DELIVERY_FAILED', retriable: options.retriable, cause: options.cause });
    this.status = options.status;
  }
}

/** A lookup by id found nothing (an actor, a rule); HTTP answers it with 404. */
export class NotFoundError extends VigilError {
  constructor(what: string, id: string) {
    super(`${what} '${id}' not found`, { code: 'NOT_FOUND', field: 'id' });
  }
}

/** The message of anything thrown: an Error's message, else the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String((error as { message?: unknown })?.message ?? error);
}
