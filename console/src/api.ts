// Every call of the console goes through the client generated from the OpenAPI document.
import { createTwinidClient, type components } from "@twinid/client";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

/** ApiError is a failed call: the HTTP status (0 when twinid did not answer) and its problem+json. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem>,
    readonly requestId = "",
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }

  /** The field messages of a validation problem, keyed by the field's path (`settings.name`, `scopes[0]`). */
  get fields(): { field: string; message: string }[] {
    return this.problem.errors ?? [];
  }

  /** advice says what the person can do about the failure. */
  get advice(): string {
    switch (this.status) {
      case 0:
        return "twinid did not answer. Check that the server is running and reachable, then try again.";
      case 400:
      case 422:
        return "Correct the marked fields and try again.";
      case 401:
        return "Your sign-in has ended. Sign in again to continue.";
      case 403:
        return "Your sign-in does not allow this. Ask an administrator for the scope api://management/.default.";
      case 404:
        return "It does not exist (any more); it may have been deleted. Go back to the list and reload it.";
      case 409:
        return "Something with this value exists already. Choose another value.";
      case 413:
        return "The request is too large. Shorten the text and try again.";
      case 429:
        return "Too many requests. Wait a moment, then try again.";
      case 503:
        return "twinid cannot reach its database right now. Try again in a moment.";
      default:
        return `twinid failed unexpectedly. Try again; if it keeps failing, look for request id ${this.requestId || "(none)"} in the server log.`;
    }
  }
}

let token = "";
let onUnauthorized: () => void = () => {};

/** useToken sets the bearer token of every later call, and what to do when twinid refuses it. */
export function useToken(t: string, unauthorized: () => void) {
  token = t;
  onUnauthorized = unauthorized;
}

/** client is the generated client for twinid at this origin, with the signed-in person's token. */
export function client() {
  return createTwinidClient(location.origin, token || undefined);
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** call awaits a generated client call and answers its data, or throws an ApiError. */
export async function call<T>(p: Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await p;
  } catch {
    throw new ApiError(0, { title: "No answer" });
  }
  if (r.response.ok) return r.data as T;
  const body = (typeof r.error === "object" && r.error ? r.error : {}) as Partial<Problem> & { error?: string; error_description?: string };
  // The protocol endpoints answer RFC 6749 JSON ({error, error_description}), the rest problem+json.
  const problem: Partial<Problem> = body.error ? { title: body.error, detail: body.error_description } : body.title ? body : { title: r.response.statusText };
  const err = new ApiError(r.response.status, problem, r.response.headers.get("x-request-id") ?? "");
  if (r.response.status === 401 && token) onUnauthorized();
  throw err;
}

/** Page is one page of a list and the cursor of the next. */
export type Page<T> = { items: T[]; nextCursor?: string | null };

/** The page size of every list. */
export const pageSize = 20;
