import { Code, ConnectError } from "@connectrpc/connect";
import type { HttpProviderSpec } from "../../http-provider/http-provider-spec.js";

/** STUB — replaced by the real `ollama` spec. */
export const ollamaSpec: HttpProviderSpec = {
  kind: "ollama",
  request() {
    throw new ConnectError("ollama: not implemented yet", Code.Unimplemented);
  },
  decode() {
    throw new ConnectError("ollama: not implemented yet", Code.Unimplemented);
  },
  errorMessage: () => undefined,
};
