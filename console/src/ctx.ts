import type { Session } from "./auth";
import { button } from "./ui";

/** Ctx is what every screen gets: the session, whether it may write, and the account shown. */
export interface Ctx {
  session: Session;
  /** write is false for a read-only admin (api://management/read): no write buttons. */
  write: boolean;
  aid: string;
  go: (hash: string) => void;
}

/** writeButton is a button only a full admin sees. */
export function writeButton(ctx: Ctx, label: string, run: () => void, kind: "primary" | "danger" | "plain" | "link" = "plain") {
  return ctx.write ? button(label, run, kind) : null;
}

/** link is an in-app link to a hash route. */
export function href(...parts: string[]) {
  return "#/" + parts.map(encodeURIComponent).join("/");
}
