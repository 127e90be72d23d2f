import { Code, ConnectError } from "@connectrpc/connect";
import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";

/** STUB — replaced by the real `gemini` spec. */
export const geminiSpec: HttpProviderSpec = {
  kind: "gemini",
  request() {
    throw new ConnectError("gemini: not implemented yet", Code.Unimplemented);
  },
  decode() {
    throw new ConnectError("gemini: not implemented yet", Code.Unimplemented);
  },
  errorMessage: () => undefined,
};
