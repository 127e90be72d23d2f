import { Code, ConnectError } from "@connectrpc/connect";
import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";

/** STUB — replaced by the real `anthropic` spec. */
export const anthropicSpec: HttpProviderSpec = {
  kind: "anthropic",
  request() {
    throw new ConnectError("anthropic: not implemented yet", Code.Unimplemented);
  },
  decode() {
    throw new ConnectError("anthropic: not implemented yet", Code.Unimplemented);
  },
  errorMessage: () => undefined,
};
